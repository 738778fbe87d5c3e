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
  if (batches.length === 0) return NaN;
  const losses = batches.map((b) =>
    tf.tidy(() => {
      const { x, y, w } = batchTensors(b);
      return model.loss(x, y, w);
    }),
  );
  const stacked = tf.stack(losses);
  tf.dispose(losses);
  const values = await stacked.data(); // sync point: once per evaluation
  stacked.dispose();
  let sum = 0;
  let count = 0;
  batches.forEach((b, i) => {
    const n = countedTargets(b);
    sum += values[i] * n;
    count += n;
  });
  return count > 0 ? sum / count : NaN;
}
