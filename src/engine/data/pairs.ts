/**
 * Dialogue pairs as the model sees them: the template that turns a pair into text, the loss mask over the
 * response, the held-out split and batches. Reading a pairs file (JSONL, JSON, CSV, TSV) is the upload
 * layer's job: src/documents/pairsFile.ts.
 *
 * Template: prompt + separator + response + end. With the default separator '\n' and end '\n\n', a pair
 * reads like a paragraph of the pretraining text followed by its reply, and only characters the corpus
 * already taught the model are used (see tokenizer/char.ts for why there are no new special tokens). Under
 * BPE a newline is never merged with its neighbours (tokenizer/pretokenize.ts), so the template is the same
 * tokens under both tokenizers.
 */
import type { Tokenizer } from '../tokenizer/types';
import type { Rng } from '../random';
import { DataError, type Batch } from './corpus';

export interface Pair {
  prompt: string;
  response: string;
}

export interface DialogueTemplate {
  /** Between prompt and response. */
  separator: string;
  /** After the response; sampling stops when the model writes it. */
  end: string;
}

export const DEFAULT_TEMPLATE: DialogueTemplate = { separator: '\n', end: '\n\n' };

/** The text a pair becomes; `responseStart` is the code-point index where the counted part begins. */
export function renderPair(pair: Pair, t: DialogueTemplate = DEFAULT_TEMPLATE): { text: string; responseStart: number } {
  const head = pair.prompt + t.separator;
  return { text: head + pair.response + t.end, responseStart: [...head].length };
}

/** What a prompt becomes at chat time: the model continues after the separator. */
export function renderPrompt(prompt: string, t: DialogueTemplate = DEFAULT_TEMPLATE): string {
  return prompt + t.separator;
}

export interface EncodedPair {
  /** Token ids, at most blockSize + 1 of them. */
  ids: Int32Array;
  /** Loss weight per target position (ids.length − 1): 1 on response and end-marker targets. */
  mask: Float32Array;
  truncated: boolean;
}

/** Check that the template is made of characters that are each a token of their own (trained rows). */
export function checkTemplate(tok: Tokenizer, t: DialogueTemplate): void {
  for (const ch of t.separator + t.end) {
    if (!tok.has(ch)) throw new DataError(`the dialogue template uses ${JSON.stringify(ch)}, which is not a token of its own in the model's vocabulary`, 'templateToken', { char: JSON.stringify(ch) });
  }
}

/**
 * Encode a pair into ≤ blockSize + 1 ids with its loss mask. Too long: the prompt keeps its end (at
 * least half the window if it needs it), the response keeps its beginning.
 */
export function encodePair(tok: Tokenizer, pair: Pair, blockSize: number, t: DialogueTemplate = DEFAULT_TEMPLATE, responseOnly = true): EncodedPair {
  const prompt = tok.encode(pair.prompt).ids;
  const reply = tok.encode(t.separator + pair.response + t.end).ids;
  const budget = blockSize + 1;
  let p = prompt;
  let r = reply;
  const truncated = p.length + r.length > budget;
  if (truncated) {
    const promptKeep = Math.min(p.length, Math.max(budget - r.length, Math.floor(budget / 2)));
    p = p.subarray(p.length - promptKeep);
    r = r.subarray(0, budget - promptKeep);
  }
  const ids = new Int32Array(p.length + r.length);
  ids.set(p, 0);
  ids.set(r, p.length);
  // Target at position i is ids[i+1]. The separator is part of the prompt side: the first counted target is
  // the first response token, which sits at ids index promptLen + sepLen (the separator's characters are
  // each a token of their own: checkTemplate).
  const sepLen = Math.min(tok.encode(t.separator).ids.length, r.length);
  const firstCounted = p.length + sepLen;
  const mask = new Float32Array(Math.max(ids.length - 1, 0));
  // responseOnly = false: every target counts (the prompt is learned too), as plain language modelling.
  for (let i = 0; i < mask.length; i++) mask[i] = !responseOnly || i + 1 >= firstCounted ? 1 : 0;
  return { ids, mask, truncated };
}

export interface PairSet {
  examples: EncodedPair[];
  truncatedCount: number;
  /** Characters outside the vocabulary across all pairs, with counts. */
  unknownChars: [string, number][];
}

export function encodePairs(tok: Tokenizer, pairs: Pair[], blockSize: number, t: DialogueTemplate = DEFAULT_TEMPLATE, responseOnly = true): PairSet {
  const unknown = new Map<string, number>();
  const examples = pairs.map((pair) => {
    for (const [ch, n] of tok.encode(pair.prompt + pair.response).unknownChars) unknown.set(ch, (unknown.get(ch) ?? 0) + n);
    return encodePair(tok, pair, blockSize, t, responseOnly);
  });
  return {
    examples,
    truncatedCount: examples.filter((e) => e.truncated).length,
    unknownChars: [...unknown.entries()].sort((a, b) => b[1] - a[1]),
  };
}

/** Deterministic held-out split: every pair is assigned by a seeded shuffle. */
export function splitPairs<T>(items: T[], valFraction: number, rng: Rng): { train: T[]; val: T[] } {
  const order = items.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nVal = items.length > 1 ? Math.max(1, Math.round(items.length * valFraction)) : 0;
  return { val: order.slice(0, nVal).map((i) => items[i]), train: order.slice(nVal).map((i) => items[i]) };
}

/**
 * A batch of pairs, one per row, padded on the right (padding is masked out, and causal attention keeps it
 * from touching earlier positions). T is the longest example in the batch, so short pairs train fast.
 */
export function pairBatch(examples: EncodedPair[], rows: number[]): Batch {
  if (examples.length === 0) throw new DataError('no pairs to train on', 'pairsEmpty');
  const T = Math.max(1, ...rows.map((r) => examples[r].ids.length - 1));
  const B = rows.length;
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  const w = new Float32Array(B * T);
  rows.forEach((r, b) => {
    const e = examples[r];
    const n = e.ids.length - 1;
    x.set(e.ids.subarray(0, n), b * T);
    y.set(e.ids.subarray(1), b * T);
    w.set(e.mask, b * T);
  });
  return { x, y, w, batchSize: B, blockSize: T };
}

export function samplePairBatch(examples: EncodedPair[], batchSize: number, rng: Rng): Batch {
  if (examples.length === 0) throw new DataError('no pairs to train on', 'pairsEmpty');
  return pairBatch(examples, Array.from({ length: batchSize }, () => rng.int(examples.length)));
}
