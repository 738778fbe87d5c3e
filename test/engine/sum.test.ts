import { describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { MAX_ADDN_INPUTS, sumMany } from '../../src/engine/ops/sum';

describe('sumMany', () => {
  it.each([1, 2, 6, 7, 27, 40])('adds %i tensors like one addN, in programs of at most 6 inputs', async (n) => {
    const xs = Array.from({ length: n }, (_, i) => tf.tensor1d([i + 1, -2 * i, 0.5 * i]));
    let total: tf.Tensor | undefined;
    // The profiler lists every kernel with its inputs: no AddN may take more than MAX_ADDN_INPUTS.
    const info = await tf.profile(() => {
      total = sumMany(xs);
      return total;
    });
    const addNs = info.kernels.filter((k) => k.name === 'AddN');
    expect(Math.max(0, ...addNs.map((k) => k.inputShapes.length))).toBeLessThanOrEqual(MAX_ADDN_INPUTS);
    const expected = [(n * (n + 1)) / 2, -n * (n - 1), (0.5 * n * (n - 1)) / 2];
    expect(Array.from(total!.dataSync())).toEqual(expected);
    // The caller owns the result and nothing else stays behind.
    const before = tf.memory().numTensors;
    total!.dispose();
    expect(tf.memory().numTensors).toBe(before - 1);
    tf.dispose(xs);
  });
});
