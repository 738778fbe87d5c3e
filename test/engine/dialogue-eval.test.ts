import { describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { GPT } from '../../src/engine/model/gpt';
import { CharTokenizer } from '../../src/engine/tokenizer/char';
import { cutAfterFirstSet } from './helpers';
import {
  corpusWords,
  formatShare,
  isUnspaced,
  judgeReply,
  pairsMatchLength,
  sameLength,
  sampleReplies,
  sampleRepliesInto,
  scoreReplies,
  wordShare,
  wordsOf,
  type Reply,
} from '../../src/engine/eval/dialogue';

describe('format score', () => {
  it('judges single replies', () => {
    expect(judgeReply({ prompt: 'Where is the ship?', text: 'In the harbour.', stopped: true })).toEqual({ ok: true });
    expect(judgeReply({ prompt: 'Where is the ship?', text: 'In the harbour, and', stopped: false })).toEqual({ ok: false, problem: 'no-end' });
    expect(judgeReply({ prompt: 'Where is the ship?', text: '  \n', stopped: true })).toEqual({ ok: false, problem: 'empty' });
    expect(judgeReply({ prompt: 'Where is the ship?', text: 'where is the  ship? Aye.', stopped: true })).toEqual({ ok: false, problem: 'repeats-prompt' });
  });
  it('is 100% when every reply ends properly and 0% when none does', () => {
    const good = ['a', 'b', 'c'].map((p) => ({ prompt: p + 'x?', text: 'Aye.', stopped: true }));
    expect(formatShare(good)).toBe(1);
    expect(formatShare(good.map((r) => ({ ...r, stopped: false })))).toBe(0);
    expect(formatShare([...good, { prompt: 'q', text: 'never ends', stopped: false }])).toBe(0.75);
  });
});

describe('word share', () => {
  const known = corpusWords('Call me Ishmael. The whale, the sea; the ship’s boat.');
  it('counts words of three or more letters found in the corpus, ignoring case', () => {
    expect(wordsOf('The WHALE is a big whale-ish ox')).toEqual(['the', 'whale', 'big', 'whale-ish']);
    expect(wordShare(['The whale and the sea'], known)).toEqual({ share: 4 / 5, words: 5, found: 4 }); // 'and' is not in it
    expect(wordShare(['Xq zzv'], known).share).toBe(0);
    expect(wordShare(['a b c'], known).share).toBeNull();
  });
  it('for couplets, counts replies that are one line as long as the prompt', () => {
    const r = (text: string, stopped = true) => ({ prompt: '春风开野杏，', text, stopped });
    expect(sameLength(r('落日照江涛。'))).toBe(true);
    expect(sameLength(r('繁花折在东流客。'))).toBe(false); // 7 characters for 5
    expect(sameLength(r('落日照江涛。\n清雨月深松，'))).toBe(false); // two lines
    expect(sameLength(r('落日照江涛', false))).toBe(false); // no end marker
    expect(scoreReplies([r('落日照江涛。'), r('繁花折在东流客。')], null, true).sameLength).toBe(0.5);
    expect(scoreReplies([{ prompt: 'Where?', text: 'Here.', stopped: true }], null, true).sameLength).toBeNull();
    // Chinese questions and answers are not couplets: no same-length share, whose 0 % would read as failure.
    expect(scoreReplies([r('落日照江涛。'), r('繁花折在东流客。')], null, false).sameLength).toBeNull();
  });
  it('tells couplets (answers line for line) from questions and answers', () => {
    const couplets = [
      { prompt: '春风开野杏，', response: '落日照江涛。' },
      { prompt: '白日依山尽，', response: '黄河入海流。' },
    ];
    const qa = [
      { prompt: '高明住在哪里？', response: '高明住在清河镇。' },
      { prompt: '吴明做什么工作？', response: '吴明是医生。' },
    ];
    expect(pairsMatchLength(couplets)).toBe(true);
    expect(pairsMatchLength(qa)).toBe(false);
    expect(pairsMatchLength([])).toBe(false);
    // Four in five is the line: one odd pair among four couplets still counts as couplets, one in four does not.
    expect(pairsMatchLength([...couplets, ...couplets, qa[0]])).toBe(true);
    expect(pairsMatchLength([...couplets, couplets[0], qa[0]])).toBe(false);
  });
  it('is not defined for Chinese', () => {
    expect(isUnspaced('白日依山尽')).toBe(true);
    expect(isUnspaced('The whale')).toBe(false);
    expect(scoreReplies([{ prompt: '上联', text: '白日依山尽', stopped: true }], new Set(['白日依山尽']), true).words).toBeNull();
  });
});

describe('sampleReplies', () => {
  const tok = CharTokenizer.fromText('ab\n?');
  const config = { vocabSize: tok.vocabSize, blockSize: 16, nLayer: 1, nHead: 1, nEmbd: 4, dropout: 0, bias: true };
  /** A model whose next token is always `ch`: final LayerNorm outputs its bias, which only ch's embedding row matches. */
  const always = (ch: string) => {
    const model = GPT.create(config, 1);
    const id = tok.encode(ch).ids[0];
    const v = [3, -3, 3, -3];
    model.params.get('transformer.ln_f.weight')!.assign(tf.zeros([4]));
    model.params.get('transformer.ln_f.bias')!.assign(tf.tensor1d(v));
    const wte = Array.from({ length: tok.vocabSize }, (_, i) => (i === id ? v : [0, 0, 0, 0]));
    model.params.get('transformer.wte.weight')!.assign(tf.tensor2d(wte));
    return model;
  };
  const settings = { maxNewTokens: 10, temperature: 0, topK: 0, topP: 1, seed: 1 };
  it('a model that never emits the end marker scores 0% (cut off at the token limit)', async () => {
    const model = always('a');
    const replies = await sampleReplies(model, tok, ['ab?', 'ba?'], settings);
    expect(replies.map((r) => [r.text, r.stopped])).toEqual([
      ['aaaaaaaaaa', false],
      ['aaaaaaaaaa', false],
    ]);
    expect(scoreReplies(replies, null, false).format).toBe(0);
    model.dispose();
  });
  it('sampleRepliesInto keeps the replies an interrupted call finished; the next call samples only the rest, each once: the same replies', async () => {
    const model = GPT.create(config, 5);
    // Prompts of different lengths finish at different passes: the call is cut after the first reply it keeps.
    const prompts = ['a?', 'ab?', 'abab?', 'bababab?', 'b?', 'aab?'];
    const s = { maxNewTokens: 8, temperature: 1, topK: 0, topP: 1, seed: 7 };
    const whole = await sampleReplies(model, tok, prompts, s);
    const ctl = new AbortController();
    const kept: number[] = [];
    const done = new Map<number, Reply>();
    cutAfterFirstSet(done, kept, ctl);
    expect(await sampleRepliesInto(model, tok, prompts, { ...s, signal: ctl.signal }, done)).toBeNull();
    const first = [...kept];
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(prompts.length);
    first.forEach((i) => expect(done.get(i)).toEqual(whole[i]));
    kept.length = 0;
    expect(await sampleRepliesInto(model, tok, prompts, s, done)).toEqual(whole);
    // Each of the others once, none of the first call's again.
    expect([...kept].sort((a, b) => a - b)).toEqual(prompts.map((_, i) => i).filter((i) => !first.includes(i)));
    // Nothing left: a third call samples nothing.
    kept.length = 0;
    expect(await sampleRepliesInto(model, tok, prompts, s, done)).toEqual(whole);
    expect(kept).toEqual([]);
    // Seeds are one per prompt.
    await expect(sampleReplies(model, tok, prompts, { ...s, seeds: [1, 2] })).rejects.toThrow(/2 seeds for 6 prompts/);
    model.dispose();
  });
  it('a model that stops at once gives empty replies, which do not count', async () => {
    const model = always('\n');
    const replies = await sampleReplies(model, tok, ['ab?'], settings);
    expect(replies).toEqual([{ prompt: 'ab?', text: '', stopped: true }]);
    expect(scoreReplies(replies, null, false).format).toBe(0);
    model.dispose();
  });
});
