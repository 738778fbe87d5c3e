// @vitest-environment jsdom
/** The tokenizer's place in the model panel: the choice, the progress bar, and the view of tokens. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { act } from 'react';
import { initialState, set, store } from '../../src/store/store';
import { mount, unmountAll } from './mount';
import { ModelPanel } from '../../src/ui/panels/ModelPanel';
import type { TokenizerInfo } from '../../src/worker/protocol';

const info: TokenizerInfo = {
  kind: 'bpe',
  vocabSize: 320,
  sample: [
    { text: 'Call', ids: [300] },
    { text: ' me', ids: [301] },
    { text: ' Ish', ids: [302] },
    { text: 'mael', ids: [303] },
    { text: '.', ids: [46] },
  ],
  sentence: {
    char: [...'Call me'].map((c) => ({ text: c, ids: [c.charCodeAt(0)] })),
    model: [
      { text: 'Call', ids: [300] },
      { text: ' me', ids: [301] },
    ],
  },
  charsPerToken: { train: 3.1, val: 3.25 },
};

beforeEach(() => store.setState(initialState('en'), true));
afterEach(() => {
  unmountAll();
});

describe('tokenizer in the model panel', () => {
  it('offers a vocabulary size for BPE, with the corpus default, and refuses sizes outside 256–8192', () => {
    set((s) => ({
      data: {
        ...s.data,
        source: 'moby-dick-quick',
        info: { name: 'm', chars: 1, distinct: 1, trainTokens: 1, valTokens: 1, unknownCount: 0, unknownChars: [], bpeDefaultVocab: 1152 },
      },
    }));
    const el = mount(<ModelPanel />);
    expect(el.querySelector('[data-testid=vocab-input]')).toBeNull();
    act(() => set((s) => ({ tokenizer: { ...s.tokenizer, kind: 'bpe' } })));
    expect(el.querySelector('[data-testid=vocab-input]')).not.toBeNull();
    expect(el.textContent).toContain('Empty: 1152, sized to this text');
    expect(el.querySelector('[data-testid=create-model]')!.hasAttribute('disabled')).toBe(false);
    act(() => set((s) => ({ tokenizer: { ...s.tokenizer, vocabSize: 100 } })));
    expect(el.textContent).toContain('Must be a whole number from 256 to 8192.');
    expect(el.querySelector('[data-testid=create-model]')!.hasAttribute('disabled')).toBe(true);
    // With a size of its own the default's words go; the tip's "?" keeps words before it (alone it was a stray mark).
    const tipLine = el.querySelector('.tokenizer-choice .tip')!.closest('p')!;
    expect(tipLine.textContent).toMatch(/^How BPE learns its tokens ?\?/);
  });
  it('shows the training progress and keeps Create disabled meanwhile', () => {
    set((s) => ({
      data: { ...s.data, source: 'moby-dick-quick' },
      tokenizer: { ...s.tokenizer, kind: 'bpe', progress: { phase: 'merging', done: 250, total: 1000 } },
    }));
    const el = mount(<ModelPanel />);
    const bar = el.querySelector('[data-testid=tokenizer-progress]')!;
    expect(bar.textContent).toContain('250 / 1000 merges');
    expect(bar.querySelector('progress')!.getAttribute('value')).toBe('0.25');
    expect(el.querySelector('[data-testid=create-model]')!.hasAttribute('disabled')).toBe(true);
    expect(el.querySelector('[data-testid=tokenizer-select]')!.hasAttribute('disabled')).toBe(true);
  });
  it('draws the current tokenizer’s tokens in alternating colours, its size and characters per token', () => {
    set((s) => ({ tokenizer: { ...s.tokenizer, info } }));
    const el = mount(<ModelPanel />);
    const view = el.querySelector('[data-testid=tokenizer-view]')!;
    expect(view.getAttribute('data-kind')).toBe('bpe');
    expect(view.textContent).toContain('BPE tokenizer · vocabulary 320 · 3.25 characters per token');
    const pieces = [...view.querySelectorAll('[data-testid=tokenizer-sample] [data-testid=tok-piece]')];
    expect(pieces.map((p) => p.textContent)).toEqual(['Call', ' me', ' Ish', 'mael', '.']);
    expect(pieces.map((p) => p.className)).toEqual(['tok tok0', 'tok tok1', 'tok tok2', 'tok tok3', 'tok tok0']);
    expect(pieces[0].getAttribute('title')).toBe('300');
    expect(view.textContent).toContain('by characters (7 tokens) and by this model’s tokenizer (2 tokens)');
  });
  it('names a character tokenizer as one name in both languages (no stray space between Chinese words)', () => {
    set((s) => ({ lang: 'en', tokenizer: { ...s.tokenizer, info: { ...info, kind: 'char', vocabSize: 59 } } }));
    const el = mount(<ModelPanel />);
    const summary = () => el.querySelector('[data-testid=tokenizer-summary]')!.textContent;
    expect(summary()).toMatch(/^Character tokenizer · vocabulary 59 · /);
    act(() => set({ lang: 'zh' }));
    expect(summary()).toMatch(/^字符分词器 · 词表 59 · /);
    act(() => set((s) => ({ tokenizer: { ...s.tokenizer, info } })));
    expect(summary()).toMatch(/^BPE 分词器 · 词表 320 · /);
  });
});
