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

/** Rejects input that is not usable text: empty, binary (NUL or many control characters). */
export function checkText(text: string, what = 'the text'): void {
  if (text.trim().length === 0) throw new DataError(`${what} is empty`, 'textEmpty', { what });
  const sample = text.slice(0, 65536);
  if (sample.includes('\u0000')) throw new DataError(`${what} looks binary (it contains NUL bytes): use a UTF-8 text file`, 'textBinary', { what, detail: 'it contains NUL bytes' });
  let control = 0;
  let replacement = 0;
  for (const ch of sample) {
    const c = ch.codePointAt(0)!;
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 127) control++;
    if (c === 0xfffd) replacement++;
  }
  if (control > sample.length * 0.01) throw new DataError(`${what} looks binary (${control} control characters in the first ${sample.length}): use a UTF-8 text file`, 'textBinary', { what, detail: `${control} control characters in the first ${sample.length}` });
  if (replacement > sample.length * 0.01) throw new DataError(`${what} is not valid UTF-8 (${replacement} undecodable bytes in the first ${sample.length} characters)`, 'textNotUtf8', { what, detail: `${replacement} undecodable bytes in the first ${sample.length} characters` });
}
