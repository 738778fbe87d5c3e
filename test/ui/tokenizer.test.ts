/** The tokenizer in the page: its settings in a link, the progress bar, and loss → bits per character. */
import { describe, expect, it } from 'vitest';
import { initialState, newRunRecord, type AppState, type RunRecord } from '../../src/store/store';
import { decodeState, encodeState } from '../../src/store/url';
import { applyEvent } from '../../src/app/events';
import { evalBits, splitOf, toBits } from '../../src/ui/charts/bits';
import { progressView, vocabProblem } from '../../src/ui/panels/TokenizerView';
import { bitsPerChar, scoredTargets } from '../../src/engine/eval/bits';
import { CharTokenizer } from '../../src/engine/tokenizer/char';
import { trainBpe } from '../../src/engine/tokenizer/bpeTrain';
import type { TokenizerInfo } from '../../src/worker/protocol';

describe('tokenizer in the URL', () => {
  it('round-trips BPE with its vocabulary size, and char without one', () => {
    const s = initialState('en');
    const bpe = { ...s, tokenizer: { ...s.tokenizer, kind: 'bpe' as const, vocabSize: 512 } };
    const q = encodeState(bpe);
    expect(q).toContain('tok=bpe');
    expect(q).toContain('vocab=512');
    expect(decodeState(initialState('en'), q).tokenizer).toMatchObject({ kind: 'bpe', vocabSize: 512 });
    const char = encodeState(s);
    expect(char).toContain('tok=char');
    expect(char).not.toContain('vocab=');
    // BPE sized to the corpus: no size in the link, none read back.
    const auto = encodeState({ ...s, tokenizer: { ...s.tokenizer, kind: 'bpe' } });
    expect(decodeState(initialState('en'), auto).tokenizer).toMatchObject({ kind: 'bpe', vocabSize: null });
  });
  it('ignores unknown kinds and sizes outside 256–8192', () => {
    for (const q of ['tok=wordpiece', 'vocab=255', 'vocab=8193', 'vocab=300.5', 'vocab=abc']) {
      expect(decodeState(initialState('en'), q).tokenizer, q).toEqual(initialState('en').tokenizer);
    }
    expect(decodeState(initialState('en'), 'vocab=8192').tokenizer.vocabSize).toBe(8192);
  });
});

describe('tokenizer settings', () => {
  it('accepts the corpus default (null) and whole sizes 256–8192 only', () => {
    expect(vocabProblem(null)).toBeNull();
    expect(vocabProblem(256)).toBeNull();
    expect(vocabProblem(8192)).toBeNull();
    for (const n of [255, 8193, 1000.5, NaN]) expect(vocabProblem(n), String(n)).toEqual({ min: 256, max: 8192 });
  });
  it('shows counting as a percentage and merging as merges done', () => {
    expect(progressView({ phase: 'counting', done: 250, total: 1000 })).toEqual({ fraction: 0.25, key: 'tok.counting', params: { pct: 25 } });
    expect(progressView({ phase: 'merging', done: 30, total: 120 })).toEqual({ fraction: 0.25, key: 'tok.merging', params: { done: 30, total: 120 } });
    expect(progressView({ phase: 'merging', done: 0, total: 0 }).fraction).toBe(0);
  });
});

describe('tokenizer events', () => {
  const info: TokenizerInfo = {
    kind: 'bpe',
    vocabSize: 300,
    sample: [{ text: 'the', ids: [270] }],
    sentence: { char: [], model: [] },
    charsPerToken: { train: 2.5, val: 2.25 },
  };
  it('keeps the progress until the worker says it ended, and the view’s info', () => {
    let s = applyEvent(initialState('en'), { type: 'tokenizerProgress', progress: { phase: 'merging', done: 3, total: 10 } }).state;
    expect(s.tokenizer.progress).toEqual({ phase: 'merging', done: 3, total: 10 });
    s = applyEvent(s, { type: 'tokenizerProgress', progress: null }).state;
    expect(s.tokenizer.progress).toBeNull();
    s = applyEvent(s, { type: 'tokenizerInfo', info }).state;
    expect(s.tokenizer.info).toBe(info);
  });
  it('gives a pretraining run the characters per token it starts with (not a fine-tune)', () => {
    const base = initialState('en');
    const rec = (runId: string, phase: 'pretrain' | 'finetune'): RunRecord => newRunRecord({ runId, name: runId, phase, steps: 5, startedAt: 0 });
    let s: AppState = { ...base, runs: [rec('p', 'pretrain'), rec('f', 'finetune')], tokenizer: { ...base.tokenizer, info } };
    s = applyEvent(s, { type: 'runStarted', runId: 'p', phase: 'pretrain', steps: 5, startStep: 0, trainableParams: 1 }).state;
    s = applyEvent(s, { type: 'runStarted', runId: 'f', phase: 'finetune', steps: 5, startStep: 0, trainableParams: 1 }).state;
    expect(s.runs[0].charsPerToken).toEqual({ train: 2.5, val: 2.25 });
    expect(s.runs[1].charsPerToken).toBeUndefined();
    // A resumed run keeps the figures it started with, whatever the current model says now.
    s = { ...s, tokenizer: { ...s.tokenizer, info: { ...info, charsPerToken: { train: 9, val: 9 } } } };
    s = applyEvent(s, { type: 'runStarted', runId: 'p', phase: 'pretrain', steps: 5, startStep: 2, trainableParams: 1 }).state;
    expect(s.runs[0].charsPerToken).toEqual({ train: 2.5, val: 2.25 });
  });
});

describe('bits per character in the chart', () => {
  it('is loss · tokens / (chars · ln 2), the same for char and BPE on the same text', async () => {
    const text = 'the cat sat on the mat; the dog sat on the log. '.repeat(40);
    const char = CharTokenizer.fromText(text);
    const bpe = await trainBpe(text, { vocabSize: 300 });
    for (const tok of [char, bpe]) {
      const ids = tok.encode(text).ids;
      const { tokens, chars } = scoredTargets(tok, [{ x: ids, y: ids, batchSize: 1, blockSize: ids.length }]);
      const loss = 1.7;
      // The chart's conversion (characters per token) equals the engine's (total tokens and characters).
      expect(toBits(loss, chars / tokens)).toBeCloseTo(bitsPerChar(loss, tokens, chars), 12);
    }
    // A BPE token holds several characters: the same loss per token is more bits per character.
    expect(toBits(2, 3)).toBeCloseTo(2 / (3 * Math.LN2), 12);
    expect(toBits(2, 1)).toBeCloseTo(2 / Math.LN2, 12);
  });
  it('converts the corpus evaluations with their split and leaves the dialogue pairs out', () => {
    const cpt = { train: 2, val: 4 };
    expect(splitOf('train')).toBe('train');
    expect(splitOf('val')).toBe('val');
    expect(splitOf('corpus-val')).toBe('val');
    expect(splitOf('pairs-val')).toBeNull();
    expect(evalBits('train', 1, cpt)).toBeCloseTo(1 / (2 * Math.LN2), 12);
    expect(evalBits('val', 1, cpt)).toBeCloseTo(1 / (4 * Math.LN2), 12);
    expect(evalBits('pairs-val', 1, cpt)).toBeNull();
    expect(evalBits('val', 1, undefined)).toBeNull();
  });
});
