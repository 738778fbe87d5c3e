// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { act, type ReactElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { initialState, set, store, type ChatMessage, type RunRecord } from '../../src/store/store';
import { ChatPanel } from '../../src/ui/panels/ChatPanel';
import { SampleStrip } from '../../src/ui/panels/SampleStrip';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let root: Root | null = null;
let host: HTMLElement;
function render(el: ReactElement): void {
  host = document.createElement('div');
  document.body.appendChild(host);
  act(() => {
    root = createRoot(host);
    root.render(el);
  });
}
beforeEach(() => store.setState(initialState('en'), true));
afterEach(() => {
  act(() => root?.unmount());
  host?.remove();
});

/** jsdom has no layout: give the list a box 100 px high whose content is `content()` px tall. */
function fakeBox(el: HTMLElement, content: () => number): void {
  Object.defineProperty(el, 'clientHeight', { configurable: true, get: () => 100 });
  Object.defineProperty(el, 'scrollHeight', { configurable: true, get: content });
}

const setMessages = (messages: ChatMessage[]) => act(() => set((s) => ({ chat: { ...s.chat, messages } })));

describe('the chat log follows new text', () => {
  it('scrolls to the end on a new message and on each new token, without taking focus', () => {
    render(<ChatPanel />);
    const log = host.querySelector<HTMLElement>('[data-testid="chat-log"]')!;
    let height = 400;
    fakeBox(log, () => height);
    const prompt = host.querySelector<HTMLTextAreaElement>('[data-testid="chat-prompt"]')!;
    prompt.focus();
    setMessages([{ role: 'user', text: 'hello' }]);
    expect(log.scrollTop).toBe(400);
    height = 460;
    setMessages([
      { role: 'user', text: 'hello' },
      { role: 'model', text: 'a' },
    ]);
    expect(log.scrollTop).toBe(460);
    height = 500;
    setMessages([
      { role: 'user', text: 'hello' },
      { role: 'model', text: 'ahoy' },
    ]);
    expect(log.scrollTop).toBe(500);
    expect(document.activeElement).toBe(prompt);
  });
  it('leaves a reader who scrolled up where they are', () => {
    render(<ChatPanel />);
    const log = host.querySelector<HTMLElement>('[data-testid="chat-log"]')!;
    let height = 400;
    fakeBox(log, () => height);
    setMessages([{ role: 'model', text: 'a' }]);
    expect(log.scrollTop).toBe(400);
    log.scrollTop = 50;
    log.dispatchEvent(new Event('scroll'));
    height = 420;
    setMessages([{ role: 'model', text: 'ab' }]);
    expect(log.scrollTop).toBe(50);
  });
});

describe('the sample strip follows new samples', () => {
  it('scrolls to the newest sample', async () => {
    const run = {
      runId: 'r1',
      name: 'pretrain',
      phase: 'pretrain',
      samples: [{ step: 100, text: 'the' }],
      markers: [],
      hidden: false,
      compare: false,
    } as unknown as RunRecord;
    set({ runs: [run] });
    render(<SampleStrip />);
    const strip = host.querySelector<HTMLElement>('[data-testid="sample-strip"]')!;
    fakeBox(strip, () => 300);
    // the strip's runs arrive through a timer (useRunsForDisplay), so wait for it
    await act(async () => {
      set({ runs: [{ ...run, samples: [...run.samples, { step: 200, text: 'the sea' }] }] });
      await new Promise((r) => setTimeout(r, 10));
    });
    expect(host.querySelectorAll('[data-testid="sample-strip"] li')).toHaveLength(2);
    expect(strip.scrollTop).toBe(300);
  });
});
