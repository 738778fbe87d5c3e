import { describe, expect, it } from 'vitest';
import { bitsPerChar, charsPerToken, scoredTargets } from '../../src/engine/eval/bits';
import { sequentialWindows } from '../../src/engine/data/corpus';
import { encodePair, pairBatch } from '../../src/engine/data/pairs';
import { CharTokenizer } from '../../src/engine/tokenizer/char';
import { trainBpe } from '../../src/engine/tokenizer/bpeTrain';

describe('bits per character', () => {
  it('is the same for char and BPE on a hand-computable case', async () => {
    // "abab…" (16 characters). A char model that gives each next character probability 1/2 and a BPE model
    // (one token "ab") that gives each next "ab" probability 1/4 know exactly as much: 1 bit per character.
    const text = 'ab'.repeat(8);
    const char = CharTokenizer.fromText(text);
    const bpe = await trainBpe(text, { vocabSize: 257 });
    expect(bpe.tokenText(bpe.encode(text).ids[0])).toBe('ab');

    const charIds = char.encode(text).ids; // 16 tokens: one window of 15 targets
    const charCount = scoredTargets(char, [...sequentialWindows(charIds, 15, 4)]);
    expect(charCount).toEqual({ tokens: 15, chars: 15 });
    const bpeIds = bpe.encode(text).ids; // 8 tokens: one window of 7 targets, 14 characters
    const bpeCount = scoredTargets(bpe, [...sequentialWindows(bpeIds, 7, 4)]);
    expect(bpeCount).toEqual({ tokens: 7, chars: 14 });

    const charBpc = bitsPerChar(Math.log(2), charCount.tokens, charCount.chars);
    const bpeBpc = bitsPerChar(Math.log(4), bpeCount.tokens, bpeCount.chars);
    expect(charBpc).toBeCloseTo(1, 12);
    expect(bpeBpc).toBeCloseTo(1, 12);
    // The losses per token differ (ln 2 against ln 4): only bits per character compare the two.
    expect(charsPerToken(char, text)).toBe(1);
    expect(charsPerToken(bpe, text)).toBe(2);
  });

  it('counts a character spelled in several byte tokens once, and only the targets the loss mask counts', async () => {
    const bpe = await trainBpe('plain ascii text', { vocabSize: 256 });
    const ids = bpe.encode('é😀').ids; // 2 + 4 byte tokens
    expect(ids).toHaveLength(6);
    expect(Array.from(ids, (id) => bpe.charCount([id]))).toEqual([1, 0, 1, 0, 0, 0]);
    expect(bits(bpe, 'é😀')).toBe(2);

    const char = CharTokenizer.fromText('Q?\nA.\n');
    const e = encodePair(char, { prompt: 'Q?', response: 'A.' }, 16); // targets "?\nA.\n\n", counted "A.\n\n"
    expect(scoredTargets(char, [pairBatch([e], [0])])).toEqual({ tokens: 4, chars: 4 });
  });
});

const bits = (tok: { encode(s: string): { ids: Int32Array }; charCount(ids: ArrayLike<number>): number }, s: string) => tok.charCount(tok.encode(s).ids);
