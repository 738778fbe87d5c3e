// @vitest-environment jsdom
/** A reply's tokens in the chat: clicking one opens the model's choices there, in view and readable. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act } from 'react';
import { initialState, set, store } from '../../src/store/store';
import { mount, unmountAll } from './mount';
import { ChatPanel } from '../../src/ui/panels/ChatPanel';

const top = [
  { text: ' ', p: 0.4 },
  { text: '"', p: 0.2 },
  { text: '\n', p: 0.1 },
  { text: 'sea', p: 0.05 },
  { text: '', p: 0.01 },
];

beforeEach(() => {
  store.setState(initialState('en'), true);
  set((s) => ({
    chat: {
      ...s.chat,
      messages: [
        { role: 'user', text: 'the' },
        {
          role: 'model',
          text: ' sea',
          tokens: [
            { text: ' ', why: { p: 0.4, top } },
            { text: 'sea', why: { p: 0.05, top } },
          ],
        },
      ],
    },
  }));
});
afterEach(() => {
  unmountAll();
  // jsdom has no scrollIntoView: the test below gives it one; take it away again.
  delete (Element.prototype as { scrollIntoView?: unknown }).scrollIntoView;
});

describe('chat tokens', () => {
  it('shows a space, a quote, a line break and nothing as visible marks, not as an empty label or JSON escapes', () => {
    const el = mount(<ChatPanel />);
    act(() => (el.querySelectorAll('[data-testid=token]')[0] as HTMLElement).click());
    const why = el.querySelector('[data-testid=token-why]')!;
    expect([...why.querySelectorAll('li code')].map((c) => c.textContent)).toEqual(['␣', '"', '↵', 'sea', '∅']);
    expect(why.textContent).toContain('"␣" had probability 40%');
    expect(why.querySelector('li.chosen code')!.textContent).toBe('␣');
  });

  it('brings the choices into view when a token is picked (under a long reply they open out of sight)', () => {
    const scroll = vi.fn();
    Element.prototype.scrollIntoView = scroll;
    const el = mount(<ChatPanel />);
    expect(scroll).not.toHaveBeenCalled();
    act(() => (el.querySelectorAll('[data-testid=token]')[1] as HTMLElement).click());
    expect(scroll).toHaveBeenCalledWith({ block: 'nearest' });
    expect(scroll.mock.contexts.at(-1)).toBe(el.querySelector('[data-testid=token-why]'));
    // Closing (the same token again) hides the choices; nothing to scroll to.
    const calls = scroll.mock.calls.length;
    act(() => (el.querySelectorAll('[data-testid=token]')[1] as HTMLElement).click());
    expect(el.querySelector('[data-testid=token-why]')).toBeNull();
    expect(scroll.mock.calls.length).toBe(calls);
  });
});
