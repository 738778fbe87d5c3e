/** What the worker tells the tokenizer view: pieces that spell the text, chars per token of each split. */
import { describe, expect, it } from 'vitest';
import { WorkerData, firstSentence, sampleText } from '../../src/worker/data';
import { prepareCorpus } from '../../src/engine/data/prepare';
import { CharTokenizer } from '../../src/engine/tokenizer/char';
import { defaultVocabSize, trainBpe } from '../../src/engine/tokenizer/bpeTrain';
import { trainingText } from '../../src/engine/data/corpus';
import type { Tokenizer } from '../../src/engine/tokenizer/types';

const EN =
  'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse,\nand nothing particular to interest me on shore, I thought I would sail about a little.\n'.repeat(
    30,
  );
const ZH = '床前明月光，疑是地上霜。举头望明月，低头思故乡。\n春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。\n'.repeat(40);

function infoFor(text: string, tok: Tokenizer) {
  const data = new WorkerData();
  data.setCorpus('t', text);
  data.corpusData = prepareCorpus(text, 16, tok);
  return { data, info: data.tokenizerInfo(tok)! };
}

describe('tokenizer view figures', () => {
  it('cuts the start of the text into pieces that spell it, for BPE (English and Chinese) and char', async () => {
    for (const text of [EN, ZH]) {
      for (const tok of [CharTokenizer.fromText(text), await trainBpe(text, { vocabSize: 320 })]) {
        const { info } = infoFor(text, tok);
        expect(info.kind).toBe(tok.kind);
        expect(info.vocabSize).toBe(tok.vocabSize);
        const sample = info.sample.map((p) => p.text).join('');
        expect(text.startsWith(sample)).toBe(true);
        expect(sample.length).toBeGreaterThan(0);
        expect(info.sample.flatMap((p) => p.ids)).toEqual([...tok.encode(sample).ids]);
        const sentence = info.sentence.model.map((p) => p.text).join('');
        expect(info.sentence.char.map((p) => p.text).join('')).toBe(sentence);
        expect(info.sentence.char).toHaveLength([...sentence].length);
      }
    }
  });
  it('reports characters per token of each split: 1 for char, more for BPE', async () => {
    const { info: c, data } = infoFor(EN, CharTokenizer.fromText(EN));
    expect(c.charsPerToken).toEqual({ train: 1, val: 1 });
    const bpe = await trainBpe(EN, { vocabSize: 400 });
    const { info: b } = infoFor(EN, bpe);
    const d = prepareCorpus(EN, 16, bpe);
    expect(b.charsPerToken.val).toBeCloseTo(d.valChars / d.valTokens, 12);
    expect(b.charsPerToken.train).toBeGreaterThan(1.5);
    expect(b.sentence.model.length).toBeLessThan(b.sentence.char.length);
    // No model yet: nothing to show.
    data.corpusData = null;
    expect(data.tokenizerInfo(CharTokenizer.fromText(EN))).toBeNull();
  });
  it('describes the corpus with its default BPE vocabulary size', () => {
    const data = new WorkerData();
    data.setCorpus('t', EN);
    const out = data.prepare(null, null);
    expect(out.corpus?.bpeDefaultVocab).toBeGreaterThanOrEqual(256);
    expect(out.corpus!.bpeDefaultVocab! % 64).toBe(0);
    // Sized to the training 90 %, as the tokenizer is trained on it (and the CLI's default).
    expect(out.corpus!.bpeDefaultVocab).toBe(defaultVocabSize(trainingText(EN)));
  });
  it('takes whole lines and a sentence cut after a word', () => {
    expect(sampleText('abc\ndef\nghi', 9)).toBe('abc\ndef');
    expect(sampleText('abcdefghij', 4)).toBe('abcd');
    expect(firstSentence('\n  \nhello big world\nnext', 12)).toBe('hello big');
    expect(firstSentence('短句。', 80)).toBe('短句。');
    expect([...firstSentence('床前明月光疑是地上霜', 4)]).toHaveLength(4);
  });
});
