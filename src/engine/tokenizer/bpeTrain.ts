/**
 * Training a BPE tokenizer (bpe.ts) on a text, fast enough for a page: 1,000 merges on Moby-Dick in
 * about a second.
 *
 * 1. Count the text's chunks (pretokenize.ts): training works on distinct chunks ("words") with their
 *    counts, never on the text itself.
 * 2. Base characters: the non-ASCII characters seen at least `minCharCount` times, most frequent first,
 *    as many as fit in the vocabulary (for Chinese, characters come before merges: a character without a
 *    token costs three byte tokens). The others are spelled in bytes.
 * 3. Merges, incrementally (as Sennrich et al.'s reference and Hugging Face's trainer): the count of every
 *    adjacent pair is kept, with the words each pair occurs in. A merge rewrites only the words that hold
 *    the pair and adjusts the counts of the pairs those words gain or lose; the best pair comes from a
 *    max-heap with lazy deletion. Nothing is recounted.
 * Deterministic: the best pair is the most frequent; ties go to the smaller first id, then the smaller
 * second id. Chunk order, Map order and timing play no part, so the same text and size give the same
 * merges everywhere. Training stops early when no pair occurs twice (the vocabulary is then smaller).
 */
import { makeYielder } from '../yielder';
import { baseIds, BpeTokenizer, BYTE_TOKENS, mergePair, pairKey } from './bpe';
import { chunks } from './pretokenize';
import { TokenizerError } from './types';

export const MIN_VOCAB = 256;
export const MAX_VOCAB = 8192;

export interface BpeProgress {
  phase: 'counting' | 'merging';
  /** Characters counted (counting) or merges learned (merging). */
  done: number;
  total: number;
}

export interface BpeTrainOptions {
  /** Tokens in all, bytes and characters included: MIN_VOCAB … MAX_VOCAB (default: defaultVocabSize). */
  vocabSize?: number;
  /** A non-ASCII character needs this many occurrences to become a token of its own (default 2). */
  minCharCount?: number;
  onProgress?: (p: BpeProgress) => void;
  /** Stops training with a TokenizerError at the next merge. */
  signal?: AbortSignal;
  /** Longest stretch of work between two trips through the event loop (a worker's messages wait that long). */
  yieldEveryMs?: number;
}

/** Non-ASCII characters with at least `min` occurrences, most frequent first (ties: lower code point). */
function frequentChars(counts: Map<number, number>, min: number): number[] {
  return [...counts]
    .filter(([cp, n]) => cp >= 0x80 && (cp < 0xd800 || cp > 0xdfff) && n >= min)
    .sort((x, y) => y[1] - x[1] || x[0] - y[0])
    .map(([cp]) => cp);
}

function countCodePoints(text: string): { counts: Map<number, number>; length: number } {
  const counts = new Map<number, number>();
  let length = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    counts.set(cp, (counts.get(cp) ?? 0) + 1);
    length++;
  }
  return { counts, length };
}

/**
 * A vocabulary size for a text: bytes, its characters seen twice or more, and about √(characters) merges
 * (~1,100 for Moby-Dick), rounded up to a multiple of 64, within MIN_VOCAB … MAX_VOCAB.
 */
export function defaultVocabSize(text: string): number {
  const { counts, length } = countCodePoints(text);
  const base = BYTE_TOKENS + frequentChars(counts, 2).length;
  const size = Math.ceil((base + Math.round(Math.sqrt(length))) / 64) * 64;
  return Math.min(MAX_VOCAB, Math.max(MIN_VOCAB, size));
}

/** A max-heap of (count, pair key): the larger count first, then the smaller key. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.counts.length;
  }

  private above(i: number, j: number): boolean {
    return this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j]);
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    for (let i = this.counts.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  peek(): [number, number] {
    return [this.counts[0], this.keys[0]];
  }

  pop(): void {
    const last = this.counts.length - 1;
    this.swap(0, last);
    this.counts.pop();
    this.keys.pop();
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.counts.length && this.above(l, m)) m = l;
      if (r < this.counts.length && this.above(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}

/** Train a BPE tokenizer on `text`. Async: it yields to the event loop so a worker stays responsive. */
export async function trainBpe(text: string, opts: BpeTrainOptions = {}): Promise<BpeTokenizer> {
  if (text.length === 0) throw new TokenizerError('cannot train a tokenizer on an empty text');
  const vocabSize = opts.vocabSize ?? defaultVocabSize(text);
  if (!Number.isInteger(vocabSize) || vocabSize < MIN_VOCAB || vocabSize > MAX_VOCAB) {
    throw new TokenizerError(`the vocabulary size must be a whole number from ${MIN_VOCAB} to ${MAX_VOCAB}, got ${vocabSize}`);
  }
  const minCharCount = opts.minCharCount ?? 2;
  const pause = makeYielder(opts.yieldEveryMs ?? 20);
  const progress = opts.onProgress ?? (() => {});
  const check = () => {
    if (opts.signal?.aborted) throw new TokenizerError('tokenizer training was stopped');
  };

  // 1. Distinct chunks and their counts (code units counted for progress).
  const chunkCounts = new Map<string, number>();
  let seen = 0;
  let n = 0;
  for (const c of chunks(text)) {
    chunkCounts.set(c, (chunkCounts.get(c) ?? 0) + 1);
    seen += c.length;
    if ((++n & 0x3fff) === 0) {
      progress({ phase: 'counting', done: seen, total: text.length });
      check();
      await pause();
    }
  }
  progress({ phase: 'counting', done: text.length, total: text.length });

  // 2. Base characters, counted over distinct chunks (each weighted by its count).
  const charCounts = new Map<number, number>();
  for (const [c, k] of chunkCounts) {
    for (const ch of c) {
      const cp = ch.codePointAt(0)!;
      if (cp >= 0x80) charCounts.set(cp, (charCounts.get(cp) ?? 0) + k);
    }
  }
  const chars = frequentChars(charCounts, minCharCount)
    .slice(0, vocabSize - BYTE_TOKENS)
    .sort((a, b) => a - b);
  const charId = new Map(chars.map((cp, i) => [cp, BYTE_TOKENS + i]));

  // 3. Words (chunks of two or more base tokens: a single token has no pair), pair counts, pair → words.
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [c, k] of chunkCounts) {
    const sym = baseIds(c, charId);
    if (sym.length < 2) continue;
    words.push(sym);
    freq.push(k);
  }
  chunkCounts.clear();
  const pairCount = new Map<number, number>();
  /** Words that held the pair at some point (may repeat, may be stale: checked when used). */
  const where = new Map<number, number[]>();
  words.forEach((sym, w) => {
    for (let i = 0; i + 1 < sym.length; i++) {
      const key = pairKey(sym[i], sym[i + 1]);
      pairCount.set(key, (pairCount.get(key) ?? 0) + freq[w]);
      const list = where.get(key);
      if (list) {
        if (list[list.length - 1] !== w) list.push(w);
      } else where.set(key, [w]);
    }
  });
  const heap = new PairHeap();
  for (const [key, count] of pairCount) heap.push(count, key);

  const total = vocabSize - BYTE_TOKENS - chars.length;
  const merges: [number, number][] = [];
  const stamp = new Int32Array(words.length).fill(-1);
  const K = pairKey(1, 0);
  while (merges.length < total) {
    // The best pair: skip heap entries whose count changed since they were pushed (re-push a lowered count).
    let best = -1;
    while (heap.size) {
      const [count, key] = heap.peek();
      heap.pop();
      const now = pairCount.get(key) ?? 0;
      if (now === count) {
        best = key;
        break;
      }
      if (now > 0 && now < count) heap.push(now, key);
    }
    if (best < 0 || pairCount.get(best)! < 2) break;
    const a = Math.floor(best / K);
    const b = best % K;
    const z = BYTE_TOKENS + chars.length + merges.length;
    merges.push([a, b]);

    // Rewrite each word that holds (a, b); collect the change of every pair count.
    const delta = new Map<number, number>();
    for (const w of where.get(best)!) {
      if (stamp[w] === merges.length) continue;
      stamp[w] = merges.length;
      const old = words[w];
      let has = false;
      for (let i = 0; i + 1 < old.length && !has; i++) has = old[i] === a && old[i + 1] === b;
      if (!has) continue;
      const neu = mergePair(old, a, b, z);
      const f = freq[w];
      for (let i = 0; i + 1 < old.length; i++) {
        const key = old[i] * K + old[i + 1];
        delta.set(key, (delta.get(key) ?? 0) - f);
      }
      for (let i = 0; i + 1 < neu.length; i++) {
        const key = neu[i] * K + neu[i + 1];
        delta.set(key, (delta.get(key) ?? 0) + f);
        // Only pairs with the new token are new to this word; the others are already listed.
        if (neu[i] === z || neu[i + 1] === z) {
          const list = where.get(key);
          if (list) {
            if (list[list.length - 1] !== w) list.push(w);
          } else where.set(key, [w]);
        }
      }
      words[w] = neu;
    }
    where.delete(best);
    for (const [key, d] of delta) {
      if (d === 0) continue;
      const count = (pairCount.get(key) ?? 0) + d;
      if (count > 0) pairCount.set(key, count);
      else {
        pairCount.delete(key);
        where.delete(key);
      }
      // A count that grew needs a fresh heap entry; one that shrank is fixed when its old entry surfaces.
      if (d > 0) heap.push(count, key);
    }
    progress({ phase: 'merging', done: merges.length, total });
    check();
    await pause();
  }
  return new BpeTokenizer({ chars: chars.map((cp) => String.fromCodePoint(cp)), merges });
}
