import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BpeTokenizer, BYTE_TOKENS } from '../../src/engine/tokenizer/bpe';
import { defaultVocabSize, MAX_VOCAB, MIN_VOCAB, trainBpe, type BpeProgress } from '../../src/engine/tokenizer/bpeTrain';
import { chunks } from '../../src/engine/tokenizer/pretokenize';
import { codePointBytes, decodeBytes, Utf8Stream } from '../../src/engine/tokenizer/utf8';
import { tokenizerFromMetadata } from '../../src/engine/tokenizer/load';
import { tokenPieces } from '../../src/engine/tokenizer/pieces';
import { CharTokenizer } from '../../src/engine/tokenizer/char';
import { DEFAULT_TEMPLATE, encodePair } from '../../src/engine/data/pairs';
import { trainingText } from '../../src/engine/data/corpus';
import { createRng, type Rng } from '../../src/engine/random';
import { buildDatasets } from '../../scripts/build-datasets';
import { TEXT } from './helpers';

/** Random text from every kind of code point: ASCII and controls, Latin, CJK, astral (emoji), combining, lone surrogates. */
function randomText(rng: Rng, length: number): string {
  const ranges: [number, number][] = [
    [0x00, 0x7f], // ASCII, controls and NUL included
    [0x80, 0x7ff], // Latin-1, Greek, Cyrillic, Hebrew…
    [0x300, 0x36f], // combining marks
    [0x4e00, 0x9fff], // CJK
    [0x3000, 0x303f], // CJK punctuation
    [0x1f300, 0x1faff], // emoji (astral: surrogate pairs in JavaScript)
    [0x10000, 0x10ffff], // any astral code point
    [0xd800, 0xdfff], // lone surrogates
    [0xe000, 0xfffd], // private use, specials, U+FFFD itself
  ];
  let s = '';
  for (let i = 0; i < length; i++) {
    const [lo, hi] = ranges[rng.int(ranges.length)];
    const cp = lo + rng.int(hi - lo + 1);
    s += cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
    if (rng.next() < 0.1) s += rng.next() < 0.5 ? '\n' : ' ';
  }
  return s;
}

const codePoints = (s: string) => [...s].length;

describe('UTF-8 for byte fallback', () => {
  it('writes well-formed text as TextEncoder does and reads it back as TextDecoder does', () => {
    const s = 'a\u00e9\u6f22\u{1f600}\u0000\u007f\u0800\uffff\u{10ffff}';
    const bytes = [...s].flatMap((c) => codePointBytes(c.codePointAt(0)!));
    expect(bytes).toEqual(Array.from(new TextEncoder().encode(s)));
    expect(decodeBytes(bytes)).toBe(s);
  });

  it('keeps a lone surrogate (3 bytes, WTF-8) and turns bytes that are no character into U+FFFD, one per byte', () => {
    expect(decodeBytes(codePointBytes(0xd83d))).toBe('\ud83d');
    expect(decodeBytes([0xe4, 0xb8])).toBe('\ufffd\ufffd'); // incomplete at the end
    expect(decodeBytes([0xe4, 0x41])).toBe('\ufffdA'); // interrupted
    expect(decodeBytes([0x80, 0xff, 0xc0, 0xaf])).toBe('\ufffd'.repeat(4)); // stray continuation, never-valid bytes
    expect(decodeBytes([0xe0, 0x80, 0x80])).toBe('\ufffd'.repeat(3)); // overlong
    const s = new Utf8Stream();
    expect(s.push([0xf0, 0x9f])).toBe('');
    expect(s.push([0x98, 0x80])).toBe('\u{1f600}');
    expect(s.errors).toBe(0);
  });
});

describe('pre-tokenization', () => {
  it('cuts text into chunks that join back to it, a newline always alone', () => {
    const rng = createRng(1);
    for (let k = 0; k < 20; k++) {
      const text = randomText(rng, 300) + ' Call me  Ishmael.\n\n床前明月光，疑是地上霜。\r\n' + 'x'.repeat(200);
      const cs = [...chunks(text)];
      expect(cs.join('')).toBe(text);
      for (const c of cs) {
        if (c.includes('\n')) expect(c).toBe('\n');
        expect(codePoints(c)).toBeLessThanOrEqual(64);
      }
    }
    expect([...chunks('Call me Ishmael.\n床前明月光，')]).toEqual(['Call', ' me', ' Ishmael', '.', '\n', '床前明月光', '，']);
  });
});

describe('BPE training', () => {
  it('learns the textbook merges, ties going to the smaller ids', async () => {
    // Wikipedia's example: aa (4 times) first, then ab and (aa, a) tie at 2: ab has the smaller first id (97 < 256).
    const tok = await trainBpe('aaabdaaabac', { vocabSize: 300 });
    expect(tok.merges).toEqual([
      [97, 97],
      [97, 98],
      [256, 257],
    ]);
    // Every pair left occurs once: training stops early, the vocabulary is smaller than asked.
    expect(tok.vocabSize).toBe(259);
    expect(tok.encode('aaabdaaabac').ids).toEqual(Int32Array.from([258, 100, 258, 97, 99]));
    // Two pairs with the same count: the one with the smaller first id merges first.
    expect((await trainBpe('cd\nab\ncd\nab', { vocabSize: 300 })).merges).toEqual([
      [97, 98],
      [99, 100],
    ]);
  });

  it('gives the same merges for the same text, whatever the order of its words', async () => {
    const words = TEXT.split(/(?<=\n)/);
    const shuffled = [...words].reverse().join('');
    const a = await trainBpe(TEXT, { vocabSize: 400 });
    const b = await trainBpe(TEXT, { vocabSize: 400 });
    const c = await trainBpe(shuffled, { vocabSize: 400 });
    expect(b.toJSON()).toEqual(a.toJSON());
    expect(c.toJSON()).toEqual(a.toJSON());
    expect(a.merges.length).toBeGreaterThan(50);
  });

  it('learns merges that a fresh count of every pair agrees with (the incremental counts stay exact)', async () => {
    // Recount from scratch after every merge, the slow way, and check each merge was the most frequent pair.
    const text = TEXT + 'the whale, the whaleman, the white whale; then there they were.\n'.repeat(5);
    const tok = await trainBpe(text, { vocabSize: 330 });
    const words = new Map<string, number>();
    for (const c of chunks(text)) words.set(c, (words.get(c) ?? 0) + 1);
    let syms = [...words.keys()].map((w) => [...w].map((ch) => ch.codePointAt(0)!));
    const counts = [...words.values()];
    tok.merges.forEach(([a, b], i) => {
      const pairs = new Map<string, number>();
      syms.forEach((s, w) => {
        for (let j = 0; j + 1 < s.length; j++) pairs.set(`${s[j]},${s[j + 1]}`, (pairs.get(`${s[j]},${s[j + 1]}`) ?? 0) + counts[w]);
      });
      const best = Math.max(...pairs.values());
      expect(pairs.get(`${a},${b}`), `merge ${i}`).toBe(best);
      const z = BYTE_TOKENS + tok.chars.length + i;
      syms = syms.map((s) => {
        const out: number[] = [];
        for (let j = 0; j < s.length; j++) {
          if (s[j] === a && s[j + 1] === b) {
            out.push(z);
            j++;
          } else out.push(s[j]);
        }
        return out;
      });
    });
  });

  it('makes frequent non-ASCII characters tokens (Chinese characters as base units) and merges frequent pairs of them', async () => {
    const poem = '床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n';
    const tok = await trainBpe(poem.repeat(3) + '孤', { vocabSize: 512 });
    expect(tok.chars).toContain('月');
    expect(tok.chars).not.toContain('孤'); // seen once: spelled in bytes
    expect(tok.encode('月').ids).toHaveLength(1);
    expect(tok.encode('孤').ids).toEqual(Int32Array.from(codePointBytes('孤'.codePointAt(0)!)));
    expect(tok.tokenText(tok.encode('孤').ids[0])).toBe('<E5>');
    // The whole repeated line became one token.
    expect(tok.encode('床前明月光').ids).toHaveLength(1);
    // With room for few tokens, the most frequent characters win.
    const small = await trainBpe('月'.repeat(5) + '光'.repeat(3) + '明'.repeat(2), { vocabSize: 257 });
    expect(small.chars).toEqual(['月']);
  });

  it('encodes any text, without unknown tokens: characters never seen are spelled in bytes', async () => {
    const tok = await trainBpe(TEXT, { vocabSize: 300 });
    const text = 'Ishmael é 漢 😀 \u0000\u0007';
    const enc = tok.encode(text);
    expect(enc.unknownCount).toBe(0);
    expect(enc.unknownChars).toEqual([]);
    expect(tok.unknownId).toBeNull();
    expect(tok.decode(enc.ids)).toBe(text);
    const emoji = tok.encode('😀').ids;
    expect(Array.from(emoji)).toEqual([0xf0, 0x9f, 0x98, 0x80]);
    expect(tok.charCount(emoji)).toBe(1);
  });

  it('round-trips random Unicode (astral, CJK, emoji, controls, lone surrogates) exactly, in one piece and streamed token by token', async () => {
    const rng = createRng(7);
    const tokenizers = [await trainBpe(TEXT, { vocabSize: 300 }), await trainBpe(randomText(createRng(3), 3000).repeat(2), { vocabSize: 2048 })];
    expect(tokenizers[1].chars.length).toBeGreaterThan(100);
    for (const tok of tokenizers) {
      for (let k = 0; k < 30; k++) {
        const text = randomText(rng, 1 + rng.int(400));
        const ids = tok.encode(text).ids;
        expect(tok.decode(ids)).toBe(text);
        const stream = tok.decoder();
        let streamed = '';
        for (const id of ids) streamed += stream.push(id);
        expect(streamed + stream.flush()).toBe(text);
        expect(tok.charCount(ids)).toBe(codePoints(text));
      }
    }
  });

  it('keeps every newline a token of its own, so the dialogue template is the same tokens as under char', async () => {
    const tok = await trainBpe('Ahoy!\n\nWhat is a whale?\nA fish.\n\n'.repeat(30), { vocabSize: 400 });
    expect(tok.has('\n')).toBe(true);
    expect(tok.has('a')).toBe(false);
    for (let id = 0; id < tok.vocabSize; id++) if (id !== 10) expect(tok.decode([id]).includes('\n'), tok.tokenText(id)).toBe(false);
    expect(Array.from(tok.encode(DEFAULT_TEMPLATE.end).ids)).toEqual([10, 10]);
    // The loss mask starts at the first response token, right after the separator.
    const pair = { prompt: 'What is a whale?', response: 'A fish.' };
    const e = encodePair(tok, pair, 64);
    const p = tok.encode(pair.prompt).ids.length;
    expect(e.ids[p]).toBe(10);
    expect(Array.from(e.mask).indexOf(1)).toBe(p);
    expect(tok.decode(e.ids)).toBe('What is a whale?\nA fish.\n\n');
  });

  it('checks the vocabulary size, sizes it to the corpus by default, reports progress, yields and stops when asked', async () => {
    await expect(trainBpe(TEXT, { vocabSize: MIN_VOCAB - 1 })).rejects.toThrow(/from 256 to 8192, got 255/);
    await expect(trainBpe(TEXT, { vocabSize: MAX_VOCAB + 1 })).rejects.toThrow(/got 8193/);
    await expect(trainBpe('')).rejects.toThrow(/empty/);
    const size = defaultVocabSize(TEXT);
    expect(size % 64).toBe(0);
    expect(size).toBeGreaterThanOrEqual(MIN_VOCAB);

    const seen: BpeProgress[] = [];
    let ranBetween = false;
    let progressAfterOther = false;
    // A macrotask queued before training: it runs before training ends only if training yields.
    setImmediate(() => (ranBetween = true));
    const tok = await trainBpe(TEXT, {
      vocabSize: 400,
      yieldEveryMs: 0,
      onProgress: (p) => {
        seen.push(p);
        if (ranBetween && p.phase === 'merging') progressAfterOther = true;
      },
    });
    const merging = seen.filter((p) => p.phase === 'merging');
    expect(merging.map((p) => p.done)).toEqual(Array.from({ length: tok.merges.length }, (_, i) => i + 1));
    expect(merging.every((p) => p.total === 400 - BYTE_TOKENS)).toBe(true);
    expect(progressAfterOther).toBe(true);

    const ctl = new AbortController();
    await expect(
      trainBpe(TEXT, { vocabSize: 400, onProgress: (p) => p.done === 10 && p.phase === 'merging' && ctl.abort(), signal: ctl.signal }),
    ).rejects.toThrow(/stopped/);
  });
});

describe('BPE serialisation', () => {
  it('reads back from its metadata to the same tokenizer, and refuses a damaged one with the first problem', async () => {
    const tok = await trainBpe('床前明月光，疑是地上霜。\n'.repeat(3) + TEXT, { vocabSize: 320 });
    const meta = tok.metadata();
    expect(Object.keys(meta).sort()).toEqual(['tokenizer', 'vocab']);
    const back = tokenizerFromMetadata(meta) as BpeTokenizer;
    expect(back).toBeInstanceOf(BpeTokenizer);
    expect(back.toJSON()).toEqual(tok.toJSON());
    expect(back.encode(TEXT).ids).toEqual(tok.encode(TEXT).ids);
    // `vocab` alone decodes: each token's bytes in hex.
    const vocab = JSON.parse(meta.vocab) as string[];
    const ids = tok.encode('明月 whale').ids;
    expect(new TextDecoder().decode(Buffer.from(Array.from(ids, (i) => vocab[i]).join(''), 'hex'))).toBe('明月 whale');

    const spec = JSON.parse(meta.tokenizer);
    const bad = (change: (s: { version: number; kind: string; merges: number[][]; chars: string[] }) => void) => {
      const s = JSON.parse(meta.tokenizer);
      change(s);
      return () => tokenizerFromMetadata({ tokenizer: JSON.stringify(s) });
    };
    expect(bad((s) => (s.version = 2))).toThrow(/version 2 is not one this app reads/);
    expect(bad((s) => (s.kind = 'wordpiece'))).toThrow(/kind "wordpiece"/);
    expect(bad((s) => s.merges.push([5, 99999]))).toThrow(new RegExp(`merges\\[${spec.merges.length}\\] must be a pair of earlier token ids`));
    expect(bad((s) => s.merges.push(s.merges[0]))).toThrow(/repeats merge 0/);
    expect(bad((s) => s.chars.push(s.chars[0]))).toThrow(/appears twice/);
    expect(bad((s) => s.chars.push('a'))).toThrow(/is ASCII/);
    expect(bad((s) => s.chars.push('ab'))).toThrow(/single character/);
    expect(() => tokenizerFromMetadata({ tokenizer: '{' })).toThrow(/"tokenizer" is not valid JSON/);
    expect(() => tokenizerFromMetadata({ ...meta, vocab: JSON.stringify(['00']) })).toThrow(/"vocab" disagrees/);
    // No `tokenizer`: a character model, read from `itos` as always.
    const char = CharTokenizer.fromText('abc');
    expect(tokenizerFromMetadata(char.metadata())).toBeInstanceOf(CharTokenizer);
    expect(tokenizerFromMetadata({})).toBeNull();
  });
});

describe('every bundled corpus', () => {
  beforeAll(() => buildDatasets(), 120_000);

  it('round-trips under a BPE tokenizer trained on its first part (later characters fall back to bytes)', async () => {
    const dir = 'public/datasets';
    const files = readdirSync(dir).filter((f) => f.endsWith('.txt'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      const tok = await trainBpe(trainingText(text.slice(0, 50_000)), { vocabSize: 1024 });
      const ids = tok.encode(text).ids;
      expect(tok.decode(ids) === text, f).toBe(true);
      expect(tok.charCount(ids), f).toBe(codePoints(text));
    }
  }, 120_000);
});

describe('token pieces (for the tokenizer view)', () => {
  it('cuts a text into readable pieces that join back to it, byte tokens of one character grouped', async () => {
    const tok = await trainBpe(TEXT, { vocabSize: 300 });
    const text = 'Call me Ishmael 😀 漢';
    const pieces = tokenPieces(tok, text);
    expect(pieces.map((p) => p.text).join('')).toBe(text);
    expect(pieces.flatMap((p) => p.ids)).toEqual(Array.from(tok.encode(text).ids));
    expect(pieces.find((p) => p.text === '😀')!.ids).toHaveLength(4);
    expect(pieces.every((p) => !p.text.includes('\ufffd'))).toBe(true);
    expect(tokenPieces(CharTokenizer.fromText(text), text).map((p) => p.text)).toEqual([...text]);
  });
});
