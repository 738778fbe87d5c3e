/**
 * The statistics a training step leaves on the device, packed into one small vector so that a window of
 * steps is read back together (one sync point):
 *
 *   one step      [loss, gradNorm, ok, updateSq(group 0), …, updateSq(group G−1)]   (3 + G)
 *   a read-back   the steps' vectors one after another, then (optionally) weightNorm per group   (S·(3 + G) [+ G])
 *
 * `ok` is 1 when the step was applied, 0 when the guard skipped it (a non-finite loss or gradient);
 * `updateSq` is the squared L2 norm of the group's parameter change. This file is the only one that knows
 * the offsets: the trainer packs with packStepStats and reads with readStepStats.
 */
import * as tf from '../tf';
import type { GroupId } from '../model/groups';

/** Where each statistic sits in one step's vector; the groups' update norms follow from UPDATES on. */
const LOSS = 0;
const GRAD_NORM = 1;
const OK = 2;
const UPDATES = 3;

/** One step's statistics, read back. */
export interface StepStats {
  loss: number;
  gradNorm: number;
  /** The step was applied (false: its loss or gradient was not finite, and nothing changed). */
  ok: boolean;
  /** L2 norm of the step's parameter change per group; exactly 0 for frozen groups. */
  updateNorms: Record<GroupId, number>;
}

/** A read-back: each pending step's statistics, in order, and the groups' weight norms if they rode along. */
export interface ReadBack {
  steps: StepStats[];
  weightNorms?: Record<GroupId, number>;
}

/** One step's vector, (3 + G), from its scalars: loss, gradient norm, ok (1/0) and each group's squared update norm. */
export function packStepStats(loss: tf.Scalar, gradNorm: tf.Scalar, ok: tf.Scalar, updateSq: readonly tf.Scalar[]): tf.Tensor1D {
  return tf.stack([loss, gradNorm, ok, ...updateSq]) as tf.Tensor1D; // (3 + G)
}

/**
 * Unpack a read-back of `steps` step vectors over `groups`, followed by the groups' weight norms when
 * `withWeightNorms` (the vector the trainer concatenated: S·(3 + G) [+ G] values).
 */
export function readStepStats(values: ArrayLike<number>, steps: number, groups: readonly GroupId[], withWeightNorms: boolean): ReadBack {
  const width = UPDATES + groups.length;
  const expected = steps * width + (withWeightNorms ? groups.length : 0);
  if (values.length !== expected) {
    throw new Error(
      `step statistics: expected ${expected} values (${steps} steps × ${width}${withWeightNorms ? ` + ${groups.length}` : ''}), got ${values.length}`,
    );
  }
  const out: StepStats[] = [];
  for (let i = 0; i < steps; i++) {
    const at = i * width;
    out.push({
      loss: values[at + LOSS],
      gradNorm: values[at + GRAD_NORM],
      ok: values[at + OK] !== 0,
      updateNorms: Object.fromEntries(groups.map((g, k) => [g, Math.sqrt(values[at + UPDATES + k])])) as Record<GroupId, number>,
    });
  }
  const normsAt = steps * width;
  const weightNorms = withWeightNorms ? (Object.fromEntries(groups.map((g, k) => [g, values[normsAt + k]])) as Record<GroupId, number>) : undefined;
  return { steps: out, weightNorms };
}
