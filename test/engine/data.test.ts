import { describe, expect, it } from 'vitest';
import { CharTokenizer, UNKNOWN } from '../../src/engine/tokenizer/char';
import { checkText, DataError, sampleWindows, sequentialWindows, splitIds } from '../../src/engine/data/corpus';
import { checkTemplate, DEFAULT_TEMPLATE, encodePair, encodePairs, pairBatch, renderPair, splitPairs } from '../../src/engine/data/pairs';
import { createRng } from '../../src/engine/random';

describe('CharTokenizer', () => {
  it('builds nanoGPT-style itos with the unknown id first and newline always present', () => {
    const tok = CharTokenizer.fromText('hello 世界');
    expect(tok.itos).toEqual([UNKNOWN, '\n', ' ', 'e', 'h', 'l', 'o', '世', '界']);
    expect(tok.decode(tok.encode('hello 世界').ids)).toBe('hello 世界');
  });
  it('maps unknown characters to the unknown id and counts them', () => {
    const tok = CharTokenizer.fromText('abc');
    const e = tok.encode('abxxcz😀');
    expect(Array.from(e.ids)).toEqual([2, 3, 0, 0, 4, 0, 0]);
    expect(e.unknownCount).toBe(4);
    expect(e.unknownChars).toEqual([
      ['x', 2],
      ['z', 1],
      ['😀', 1],
    ]);
  });
  it('round-trips through itos and rejects a broken one', () => {
    const tok = CharTokenizer.fromText('xyz');
    expect(CharTokenizer.fromItos(JSON.parse(JSON.stringify(tok.itos))).itos).toEqual(tok.itos);
    expect(() => CharTokenizer.fromItos(['a', 'a'])).toThrow(/appears twice/);
    expect(() => CharTokenizer.fromItos(['a', 'bc'])).toThrow(/single character/);
    // a nanoGPT vocabulary without an unknown entry: unknowns are dropped and counted
    const plain = CharTokenizer.fromItos(['\n', 'a', 'b']);
    expect(plain.unknownId).toBeNull();
    const e = plain.encode('aqb');
    expect(Array.from(e.ids)).toEqual([1, 2]);
    expect(e.unknownCount).toBe(1);
    expect(() => plain.decode([3])).toThrow(/outside the vocabulary/);
  });
});

describe('corpus', () => {
  const ids = Int32Array.from({ length: 100 }, (_, i) => i);
  it('splits 90/10', () => {
    const { train, val } = splitIds(ids);
    expect(train.length).toBe(90);
    expect(val[0]).toBe(90);
  });
  it('samples windows with y = x shifted by one, reproducibly', () => {
    const a = sampleWindows(ids, 8, 4, createRng(1));
    const b = sampleWindows(ids, 8, 4, createRng(1));
    expect(a.x).toEqual(b.x);
    for (let r = 0; r < 4; r++) for (let t = 0; t < 8; t++) expect(a.y[r * 8 + t]).toBe(a.x[r * 8 + t] + 1);
    expect(() => sampleWindows(ids.subarray(0, 8), 8, 1, createRng(1))).toThrow(/fewer than one window of 9/);
  });
  it('covers every non-overlapping window exactly once', () => {
    const batches = [...sequentialWindows(ids, 8, 5)];
    // floor((100 - 1) / 8) = 12 windows
    expect(batches.map((b) => b.batchSize)).toEqual([5, 5, 2]);
    expect(batches[2].x[8]).toBe(88);
    expect(batches[2].y[15]).toBe(96);
  });
  it('rejects empty and binary text', () => {
    expect(() => checkText('  \n ')).toThrow(DataError);
    expect(() => checkText('abc\u0000def')).toThrow(/binary/);
    expect(() => checkText('\u0001\u0002\u0003abc')).toThrow(/binary/);
    expect(() => checkText('plain text, 中文')).not.toThrow();
  });
});

describe('pairs', () => {
  it('masks the loss to the response and end marker', () => {
    const tok = CharTokenizer.fromText('abcxyz\n');
    checkTemplate(tok, DEFAULT_TEMPLATE);
    expect(renderPair({ prompt: 'ab', response: 'xy' }).text).toBe('ab\nxy\n\n');
    const e = encodePair(tok, { prompt: 'ab', response: 'xy' }, 32);
    expect(tok.decode(e.ids)).toBe('ab\nxy\n\n');
    // targets: b \n x y \n \n  → counted from x on
    expect(Array.from(e.mask)).toEqual([0, 0, 1, 1, 1, 1]);
    expect(e.truncated).toBe(false);
  });
  it('can count the prompt too when the response-only switch is off', () => {
    const tok = CharTokenizer.fromText('abcxyz\n');
    expect(Array.from(encodePair(tok, { prompt: 'ab', response: 'xy' }, 32, DEFAULT_TEMPLATE, false).mask)).toEqual([1, 1, 1, 1, 1, 1]);
  });
  it('truncates long pairs to the block, keeping the prompt end and response start, and counts them', () => {
    const tok = CharTokenizer.fromText('ab\n');
    const long = { prompt: 'a'.repeat(30), response: 'b'.repeat(30) };
    const e = encodePair(tok, long, 16);
    expect(e.ids.length).toBe(17);
    expect(e.truncated).toBe(true);
    expect(tok.decode(e.ids)).toBe('a'.repeat(8) + '\n' + 'b'.repeat(8));
    const set = encodePairs(tok, [long, { prompt: 'a', response: 'b' }], 16);
    expect(set.truncatedCount).toBe(1);
  });
  it('reports characters outside the vocabulary', () => {
    const tok = CharTokenizer.fromText('abc');
    expect(encodePairs(tok, [{ prompt: 'aq', response: 'bqr' }], 16).unknownChars).toEqual([
      ['q', 2],
      ['r', 1],
    ]);
  });
  it('batches pairs padded to the longest, padding masked', () => {
    const tok = CharTokenizer.fromText('abc\n');
    const ex = [encodePair(tok, { prompt: 'a', response: 'b' }, 16), encodePair(tok, { prompt: 'aa', response: 'bcc' }, 16)];
    const b = pairBatch(ex, [0, 1]);
    expect(b.blockSize).toBe(ex[1].ids.length - 1);
    expect(Array.from(b.w!.subarray(0, b.blockSize))).toEqual([0, 1, 1, 1, 0, 0, 0]);
  });
  it('splits pairs deterministically', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    const a = splitPairs(items, 0.1, createRng(3));
    expect(a.val).toHaveLength(2);
    expect(splitPairs(items, 0.1, createRng(3))).toEqual(a);
    expect([...a.train, ...a.val].sort((x, y) => x - y)).toEqual(items);
  });
});

describe('prompt noise', () => {
  it('replaces only prompt characters, never the separator, response or mask', async () => {
    const { noisyPairSource } = await import('../../src/engine/data/sources');
    const tok = CharTokenizer.fromText('abcdxyz\n');
    const ex = [encodePair(tok, { prompt: 'aaaaaaaa', response: 'bbbb' }, 32)];
    const src = noisyPairSource(ex, 1, Int32Array.from([tok.encode('z').ids[0]]));
    const b = src.sample(1, createRng(1));
    expect(tok.decode(b.x)).toBe('zzzzzzzz\nbbbb\n');
    expect(Array.from(b.w!)).toEqual(Array.from(ex[0].mask));
    expect(tok.decode(src.evalBatches(1, 1)[0].x)).toBe('aaaaaaaa\nbbbb\n');
  });
});
