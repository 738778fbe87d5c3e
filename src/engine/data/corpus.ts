/**
 * Corpus → token ids → train/val split → seeded random windows, as nanoGPT's prepare.py and get_batch.
 * Pure TypeScript: batches are Int32Arrays; the trainer turns them into tensors.
 */
import type { Rng } from '../random';

import { EngineError } from '../errors';

export interface Batch {
  /** Inputs, row-major (B, T). */
  x: Int32Array;
  /** Next-token targets, row-major (B, T). */
  y: Int32Array;
  /** Loss weights (B, T), 1 where the target counts; absent means every position counts. */
  w?: Float32Array;
  batchSize: number;
  blockSize: number;
}

export class DataError extends EngineError {
  override name = 'DataError';
}

/** First 90% train, last 10% validation, as nanoGPT's shakespeare_char/prepare.py. */
export function splitIds(ids: Int32Array, valFraction = 0.1): { train: Int32Array; val: Int32Array } {
  const n = Math.floor(ids.length * (1 - valFraction));
  return { train: ids.subarray(0, n), val: ids.subarray(n) };
}

/**
 * The text's first 1 − valFraction, cut at a character boundary: what a tokenizer is trained on, so the
 * validation part stays unseen by the tokenizer as by the model (splitIds cuts the ids at about the same place).
 */
export function trainingText(text: string, valFraction = 0.1): string {
  let n = Math.floor(text.length * (1 - valFraction));
  // Never between the two halves of a surrogate pair.
  if (n > 0 && n < text.length && /[\uDC00-\uDFFF]/.test(text[n]) && /[\uD800-\uDBFF]/.test(text[n - 1])) n++;
  return text.slice(0, n);
}

/** Random windows x = ids[i, i+T), y = ids[i+1, i+T+1) with i uniform in [0, n − T − 1]. */
export function sampleWindows(ids: Int32Array, blockSize: number, batchSize: number, rng: Rng): Batch {
  const T = blockSize;
  if (ids.length < T + 1) {
    throw new DataError(`the text has ${ids.length} tokens, fewer than one window of ${T + 1} (context + 1): use more text or a shorter context`, 'textTooShortForContext', { tokens: ids.length, window: T + 1 });
  }
  const x = new Int32Array(batchSize * T);
  const y = new Int32Array(batchSize * T);
  for (let b = 0; b < batchSize; b++) {
    const i = rng.int(ids.length - T);
    x.set(ids.subarray(i, i + T), b * T);
    y.set(ids.subarray(i + 1, i + T + 1), b * T);
  }
  return { x, y, batchSize, blockSize: T };
}

/**
 * Every non-overlapping window: window i has x = ids[iT, iT+T), y = ids[iT+1, iT+T+1), for every i with
 * iT + T + 1 ≤ n. Yields batches of up to batchSize windows.
 */
export function* sequentialWindows(ids: Int32Array, blockSize: number, batchSize: number): Generator<Batch> {
  const T = blockSize;
  const count = Math.floor((ids.length - 1) / T);
  for (let start = 0; start < count; start += batchSize) {
    const B = Math.min(batchSize, count - start);
    const x = new Int32Array(B * T);
    const y = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const i = (start + b) * T;
      x.set(ids.subarray(i, i + T), b * T);
      y.set(ids.subarray(i + 1, i + T + 1), b * T);
    }
    yield { x, y, batchSize: B, blockSize: T };
  }
}

/**
 * The text as it is trained on: a leading byte-order mark dropped, Windows (CRLF) and old Mac (CR) line
 * ends made newlines — otherwise `\r` and U+FEFF become tokens, and a CRLF file's "blank line" (the
 * dialogue end marker) is `\r\n\r\n`, which the model never sees as one. Idempotent.
 */
export function normalizeText(text: string): string {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return t.includes('\r') ? t.replace(/\r\n?/g, '\n') : t;
}

/** Characters checked at a time for control characters: one window of a binary part is enough to refuse. */
const WINDOW = 65536;

/**
 * Rejects input that is not usable text: empty, or binary — a NUL anywhere, or a window of 64 Ki characters
 * of which more than 1% are control characters or undecodable bytes. The whole text is read (a binary part
 * after a text's first 64 Ki characters would otherwise become tokens).
 */
export function checkText(text: string, what = 'the text'): void {
  if (text.trim().length === 0) throw new DataError(`${what} is empty`, 'textEmpty', { what });
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    throw new DataError(`${what} looks binary (it contains NUL bytes, the first at character ${nul + 1}): use a UTF-8 text file`, 'textNul', { what, at: nul + 1 });
  }
  for (let start = 0; start < text.length; start += WINDOW) {
    const end = Math.min(text.length, start + WINDOW);
    let control = 0;
    let replacement = 0;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 127) control++;
      else if (c === 0xfffd) replacement++;
    }
    const n = end - start;
    const where = start === 0 ? `the first ${n}` : `characters ${start + 1}–${end}`;
    // The window as numbers (from, to: characters, 1-based) so another language can say it in its own words.
    const window = { what, from: start + 1, to: end };
    if (control > n * 0.01) {
      throw new DataError(`${what} looks binary (${control} control characters in ${where}): use a UTF-8 text file`, 'textControl', { ...window, count: control });
    }
    if (replacement > n * 0.01) {
      throw new DataError(`${what} is not valid UTF-8 (${replacement} undecodable bytes in ${where} characters)`, 'textNotUtf8', { ...window, count: replacement });
    }
  }
}

/** Fewer distinct characters than this and a model has almost nothing to learn (one repeated character: nothing). */
export const FEW_DISTINCT_CHARS = 10;
