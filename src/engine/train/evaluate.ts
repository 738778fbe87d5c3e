/**
 * Loss evaluation without gradients or dropout.
 */
import * as tf from '../tf';
import type { GPT } from '../model/gpt';
import type { Batch } from '../data/corpus';

/** Tensors (x, y, w) for a batch; the caller disposes them (or builds them inside tf.tidy). */
export function batchTensors(b: Batch): { x: tf.Tensor2D; y: tf.Tensor2D; w?: tf.Tensor2D } {
  const shape: [number, number] = [b.batchSize, b.blockSize];
  return {
    x: tf.tensor2d(b.x, shape, 'int32'),
    y: tf.tensor2d(b.y, shape, 'int32'),
    w: b.w ? tf.tensor2d(b.w, shape, 'float32') : undefined,
  };
}

/** Number of counted target positions in a batch. */
export function countedTargets(b: Batch): number {
  if (!b.w) return b.batchSize * b.blockSize;
  let n = 0;
  for (let i = 0; i < b.w.length; i++) n += b.w[i];
  return n;
}

/**
 * Mean next-token cross-entropy over every counted target of the batches (a token-weighted mean, so
 * the result does not depend on how targets were grouped into batches). One read-back for all batches.
 */
export async function evaluateLoss(model: GPT, batches: Batch[]): Promise<number> {
  return (await evaluate(model, batches)).loss;
}

/**
 * Loss and next-token accuracy over every counted target of the batches, both token-weighted means.
 * One read-back for all batches.
 */
export async function evaluate(model: GPT, batches: Batch[]): Promise<{ loss: number; accuracy: number }> {
  if (batches.length === 0) return { loss: NaN, accuracy: NaN };
  const pairs = batches.map((b) => lossAndAccuracyOf(model, b)); // (2) each
  const stacked = tf.stack(pairs); // (batches, 2)
  tf.dispose(pairs);
  const values = await stacked.data(); // sync point: once per evaluation
  stacked.dispose();
  return weighted(batches, values);
}

/**
 * The same, batch by batch — a read-back each, then `between` (a trip through the event loop) — so that an
 * abort (Pause, Stop) does not wait for the rest, seconds a batch on a slow device. Null when aborted.
 */
export async function evaluateUnlessAborted(
  model: GPT,
  batches: Batch[],
  signal: AbortSignal,
  between: () => Promise<void>,
): Promise<{ loss: number; accuracy: number } | null> {
  if (batches.length === 0) return { loss: NaN, accuracy: NaN };
  const values = new Float32Array(2 * batches.length);
  for (let i = 0; i < batches.length; i++) {
    await between();
    if (signal.aborted) return null;
    const pair = lossAndAccuracyOf(model, batches[i]); // (2)
    try {
      values.set(await pair.data(), 2 * i); // sync point: once per batch
    } finally {
      pair.dispose();
    }
  }
  return weighted(batches, values);
}

/** One batch's mean loss and accuracy over its counted targets, (2); the caller disposes it. */
function lossAndAccuracyOf(model: GPT, b: Batch): tf.Tensor1D {
  return tf.tidy(() => {
    const { x, y, w } = batchTensors(b);
    return model.lossAndAccuracy(x, y, w) as tf.Tensor1D; // (2)
  });
}

/** Token-weighted means of per-batch (loss, accuracy) pairs. */
function weighted(batches: Batch[], values: ArrayLike<number>): { loss: number; accuracy: number } {
  let loss = 0;
  let hits = 0;
  let count = 0;
  batches.forEach((b, i) => {
    const n = countedTargets(b);
    loss += values[2 * i] * n;
    hits += values[2 * i + 1] * n;
    count += n;
  });
  return count > 0 ? { loss: loss / count, accuracy: hits / count } : { loss: NaN, accuracy: NaN };
}
