/** The step-statistics vector: what the trainer packs on the device comes back under its names. */
import { describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { groupIds } from '../../src/engine/model/groups';
import { packStepStats, readStepStats } from '../../src/engine/train/stepStats';

const groups = groupIds(2); // embeddings, block.0, block.1, ln_f

/** A step's vector from plain numbers, packed as the trainer packs it. */
async function packed(loss: number, gradNorm: number, ok: 0 | 1, updateSq: number[]): Promise<Float32Array> {
  const v = tf.tidy(() =>
    packStepStats(
      tf.scalar(loss),
      tf.scalar(gradNorm),
      tf.scalar(ok),
      updateSq.map((x) => tf.scalar(x)),
    ),
  );
  const out = (await v.data()) as Float32Array;
  v.dispose();
  return out;
}

describe('step statistics', () => {
  it('reads each step of a read-back by name, update norms as square roots, then the weight norms', async () => {
    const before = tf.memory().numTensors;
    const a = await packed(2.5, 0.75, 1, [4, 9, 0, 16]);
    const b = await packed(NaN, 3, 0, [0, 0, 0, 0]);
    expect(tf.memory().numTensors).toBe(before);
    const read = readStepStats([...a, ...b, 10, 20, 30, 40], 2, groups, true);
    expect(read.steps[0]).toEqual({ loss: 2.5, gradNorm: 0.75, ok: true, updateNorms: { embeddings: 2, 'block.0': 3, 'block.1': 0, ln_f: 4 } });
    expect(read.steps[1].ok).toBe(false);
    expect(read.steps[1].loss).toBeNaN();
    expect(read.steps[1].gradNorm).toBe(3);
    expect(read.weightNorms).toEqual({ embeddings: 10, 'block.0': 20, 'block.1': 30, ln_f: 40 });
  });

  it('has no weight norms unless they rode along', async () => {
    const read = readStepStats(await packed(1, 1, 1, [1, 1, 1, 1]), 1, groups, false);
    expect(read.steps).toHaveLength(1);
    expect(read.weightNorms).toBeUndefined();
  });

  it('refuses a vector of the wrong length, naming both lengths', () => {
    expect(() => readStepStats(new Float32Array(13), 2, groups, false)).toThrow(/expected 14 values \(2 steps × 7\), got 13/);
  });
});
