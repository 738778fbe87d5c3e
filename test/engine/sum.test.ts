import { describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { MAX_ADDN_INPUTS, sumMany, sumOfSquares } from '../../src/engine/ops/sum';
import { setWasmKernelsEnabled } from '../../src/engine/ops/wasmKernels';
import { useNodeBackend } from '../backends';

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

describe('sumOfSquares on wasm', () => {
  it.each([1, 6, 7, 27])('equals Σ x² of %i tensors (odd sizes), in one kernel per six', async (n) => {
    await useNodeBackend('wasm');
    const xs = Array.from({ length: n }, (_, i) => tf.randomNormal([3 + 5 * i], 0, 1 + i, 'float32', i + 1));
    let want = 0;
    for (const x of xs) for (const v of x.dataSync()) want += v * v;
    const before = tf.memory().numTensors;
    const info = await tf.profile(() => sumOfSquares(xs));
    const got = (info.result as tf.Scalar).dataSync()[0];
    expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-5 * want);
    expect(info.kernels.filter((k) => k.name === 'SgpSumSquares')).toHaveLength(Math.ceil((n - 1) / 5) || 1);
    expect(info.kernels.map((k) => k.name)).not.toContain('Square');
    (info.result as tf.Scalar).dispose();
    expect(tf.memory().numTensors).toBe(before);
    // Switched off: the stock ops, the same sum to float32 round-off.
    setWasmKernelsEnabled(false);
    try {
      const stock = sumOfSquares(xs);
      expect(Math.abs(stock.dataSync()[0] - want)).toBeLessThanOrEqual(1e-5 * want);
      stock.dispose();
    } finally {
      setWasmKernelsEnabled(true);
    }
    tf.dispose(xs);
  });
});
