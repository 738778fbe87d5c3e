import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { gelu } from '../../src/engine/model/layers';
import { geluKernelFits } from '../../src/engine/ops/gelu';
import { setWasmKernelsEnabled } from '../../src/engine/ops/wasmKernels';
import { useNodeBackend } from '../backends';
import { maxErr } from './numerics';

afterAll(() => setWasmKernelsEnabled(true));

/** x spread over GELU's whole shape: the far tails, the bend around 0, and exact zeros. */
function inputs(n: number, seed: number): Float32Array {
  const x = tf.tidy(() => tf.randomNormal([n], 0, 3, 'float32', seed).dataSync() as Float32Array);
  for (let i = 0; i < n; i += 17) x[i] = 0;
  return x;
}

/** GELU and its gradient with the stock TF.js ops (the kernel switched off), on the given backend. */
async function stock(backend: 'cpu' | 'wasm', x: Float32Array, dy: Float32Array): Promise<{ y: Float32Array; dx: Float32Array }> {
  await useNodeBackend(backend);
  setWasmKernelsEnabled(false);
  try {
    const xt = tf.tensor1d(x);
    const dyt = tf.tensor1d(dy);
    const y = gelu(xt);
    const dx = tf.grad((t: tf.Tensor) => gelu(t).mul(dyt).sum())(xt);
    const out = { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
    tf.dispose([xt, dyt, y, dx]);
    return out;
  } finally {
    setWasmKernelsEnabled(true);
  }
}

describe('GELU SIMD kernel on wasm', () => {
  it('takes the SIMD kernel on wasm (forward, with the slope; backward one multiply), the stock ops elsewhere', async () => {
    await useNodeBackend('wasm');
    const x = tf.tensor1d(inputs(64, 1));
    expect(geluKernelFits(x)).toBe(true);
    const info = await tf.profile(() => tf.grad((t: tf.Tensor) => gelu(t).sum())(x));
    const names = info.kernels.map((k) => k.name);
    expect(names.filter((n) => n.startsWith('Sgp'))).toEqual(['SgpWasmGelu']);
    expect(names).not.toContain('Erf');
    expect(names).not.toContain('Exp');
    tf.dispose([x, info.result as tf.Tensor]);
    await useNodeBackend('cpu');
    const y = tf.tensor1d([1, 2, 3, 4]);
    expect(geluKernelFits(y)).toBe(false);
    y.dispose();
  });

  it('gives known values of x·Φ(x)', async () => {
    await useNodeBackend('wasm');
    // float64 values of x·Φ(x)
    const x = [0, 1, -1, 0.5, -0.5, 3, -3, 10, -10, 40, -40];
    const want = [
      0, 0.8413447460685429, -0.15865525393145707, 0.34573123063700656, -0.15426876936299344, 2.9959502053000047, -0.004049794699995, 10,
      -7.619853024160528e-23, 40, 0,
    ];
    const xt = tf.tensor1d(x);
    const y = gelu(xt);
    const got = y.dataSync();
    x.forEach((_, i) => expect(Math.abs(got[i] - want[i]), `gelu(${x[i]})`).toBeLessThan(3e-7 * Math.max(1, Math.abs(want[i]))));
    tf.dispose([xt, y]);
  });

  it.each([4, 5, 7, 9, 64, 1001, 100_003])('matches the stock ops on cpu, values and gradient, for %i elements', async (n) => {
    const x = inputs(n, n);
    const dy = tf.tidy(() => tf.randomNormal([n], 0, 1, 'float32', n + 1).dataSync() as Float32Array);
    const want = await stock('cpu', x, dy);
    await useNodeBackend('wasm');
    const before = tf.memory().numTensors;
    const xt = tf.tensor2d(x, [1, n]);
    const dyt = tf.tensor2d(dy, [1, n]);
    const y = gelu(xt);
    const dx = tf.grad((t: tf.Tensor) => gelu(t).mul(dyt).sum())(xt);
    expect(y.shape).toEqual([1, n]);
    // float32 round-off of the same formula: a few ulps of max(1, |value|)
    expect(maxErr(y.dataSync(), want.y)).toBeLessThan(1e-6);
    expect(maxErr(dx.dataSync(), want.dx)).toBeLessThan(1e-6);
    tf.dispose([xt, dyt, y, dx]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves sizes under 4 to the stock ops, with the same values', async () => {
    await useNodeBackend('wasm');
    const x = tf.tensor1d([-1.5, 0.25, 2]);
    expect(geluKernelFits(x)).toBe(false);
    const want = await stock('wasm', Float32Array.from([-1.5, 0.25, 2]), Float32Array.from([1, 1, 1]));
    const y = gelu(x);
    expect(Array.from(y.dataSync())).toEqual(Array.from(want.y));
    tf.dispose([x, y]);
  });

  it('makes no zero tensor for the slope in the backward pass (the tape sees one output)', async () => {
    await useNodeBackend('wasm');
    const n = 4096;
    const x = tf.tensor2d(inputs(n, 3), [4, n / 4]);
    const engine = tf.engine();
    const made: Array<{ size: number; zero: boolean }> = [];
    const makeTensor = engine.makeTensor.bind(engine);
    engine.makeTensor = ((values: tf.TypedArray, shape: number[], dtype: tf.DataType, backend?: tf.KernelBackend) => {
      made.push({ size: values.length, zero: values.every((v) => v === 0) });
      return makeTensor(values, shape, dtype, backend);
    }) as typeof engine.makeTensor;
    try {
      const dx = tf.grad((t: tf.Tensor) => gelu(t).sum())(x);
      expect(dx.shape).toEqual([4, n / 4]);
      dx.dispose();
    } finally {
      engine.makeTensor = makeTensor;
      x.dispose();
    }
    // The gradient's seed (ones, one element) is made here; a zero tensor of x's size must not be.
    expect(made.filter((m) => m.size === n && m.zero)).toEqual([]);
    expect(made.length).toBeGreaterThan(0);
  });
});
