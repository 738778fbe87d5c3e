/**
 * Loss evaluation without gradients or dropout.
 */
import * as tf from '../tf';
import type { GPT } from '../model/gpt';
import type { Batch } from '../data/corpus';
import type { DataSource } from '../data/sources';
import { Fingerprint } from '../fingerprint';

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

/** A named evaluation source of a run ('val', 'train', 'corpus-val', …), as TrainSpec.evals lists them. */
export interface EvalSource {
  name: string;
  source: DataSource;
}

/** One evaluation of a model: loss and next-token accuracy per source, by name. */
export interface Evaluation {
  losses: Record<string, number>;
  accuracy: Record<string, number>;
}

/**
 * Evaluate every source on its fixed batches (DataSource.evalBatches, `iters` batches of `batchSize`): the
 * trainer's periodic evaluation, and the same measured ahead of a run. With `abort`, batch by batch, through the
 * event loop between them (evaluateUnlessAborted): null as soon as its signal has fired.
 */
export async function evaluateSources(
  model: GPT,
  evals: readonly EvalSource[],
  batchSize: number,
  iters: number,
  abort?: { signal: AbortSignal; between: () => Promise<void> },
): Promise<Evaluation | null> {
  const out: Evaluation = { losses: {}, accuracy: {} };
  for (const { name, source } of evals) {
    const batches = source.evalBatches(batchSize, iters);
    const r = abort ? await evaluateUnlessAborted(model, batches, abort.signal, abort.between) : await evaluate(model, batches);
    if (!r) return null;
    out.losses[name] = r.loss;
    out.accuracy[name] = r.accuracy;
  }
  return out;
}

/**
 * What an evaluation of given weights depends on besides them: each source's name and its batches (shapes,
 * tokens, targets and loss weights, bit for bit, fingerprinted). Equal keys: the same batches, so an evaluation
 * measured ahead (the worker's idle time before a fine-tune) stands for the run's own at its first step.
 */
export function evaluationKey(evals: readonly EvalSource[], batchSize: number, iters: number): string {
  const f = new Fingerprint().word(batchSize).word(iters);
  for (const { name, source } of evals) {
    f.text(name);
    for (const b of source.evalBatches(batchSize, iters)) {
      f.word(b.batchSize).word(b.blockSize).bits(b.x).bits(b.y);
      if (b.w) f.bits(b.w);
      else f.word(0);
    }
  }
  return f.hex();
}
