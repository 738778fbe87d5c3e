/**
 * The wasm backend's fused kernels (src/engine/ops/wasmFused/) against the stock ops they replace, on the
 * cpu backend: values and gradients. Each is also checked to be the kernel that actually ran.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { layerNorm, layerNormReference } from '../../src/engine/model/layers';
import { setWasmKernelsEnabled } from '../../src/engine/ops/wasmKernels';
import { useNodeBackend } from '../backends';

afterAll(() => setWasmKernelsEnabled(true));

function randoms(shape: number[], seed: number, scale = 1, shift = 0): Float32Array {
  return tf.tidy(() => tf.randomNormal(shape, shift, scale, 'float32', seed).dataSync() as Float32Array);
}

/** Largest |got − want| / max(1, |want|). */
function maxErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  return worst;
}

/** Values of f and its gradients (weighted by dy so that every output element counts differently). */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: Float32Array[], shapes: number[][], dy: Float32Array): Float32Array[] {
  return tf.tidy(() => {
    const xs = inputs.map((v, i) => tf.tensor(v, shapes[i]));
    const dyt = tf.tensor(dy, shapes[0]);
    const y = f(...xs);
    const grads = tf.grads((...ts: tf.Tensor[]) => f(...ts).mul(dyt).sum())(xs);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

async function kernelsRun(f: () => tf.Tensor[]): Promise<string[]> {
  const info = await tf.profile(() => tf.tidy(f));
  tf.dispose(info.result as tf.Tensor[]);
  return info.kernels.map((k) => k.name);
}

describe('fused LayerNorm on wasm', () => {
  // 128: the SIMD module; 10: not a multiple of 4, the JavaScript path
  it.each([
    [128, true],
    [128, false],
    [10, true],
    [10, false],
  ])('matches the stock ops for width %i (bias %s): y, dx, dw, db', async (C, withBias) => {
    const shapes = [[3, 7, C], [C], [C]];
    const inputs = [randoms(shapes[0], C, 2, 0.5), randoms([C], C + 1, 1, 1), randoms([C], C + 2)];
    const dy = randoms(shapes[0], C + 3);
    const used = withBias ? 3 : 2;
    await useNodeBackend('cpu');
    const want = valueAndGrads((x, w, b) => layerNormReference(x, w, b), inputs.slice(0, used), shapes.slice(0, used), dy);
    await useNodeBackend('wasm');
    const before = tf.memory().numTensors;
    const got = valueAndGrads((x, w, b) => layerNorm(x, w, b), inputs.slice(0, used), shapes.slice(0, used), dy);
    expect(tf.memory().numTensors).toBe(before);
    const names = ['y', 'dx', 'dw', 'db'];
    got.forEach((g, i) => expect(maxErr(g, want[i]), names[i]).toBeLessThan(1e-5));
  });

  it('runs one kernel forward and three backward on wasm, the stock ops when switched off', async () => {
    await useNodeBackend('wasm');
    const x = tf.tensor(randoms([4, 16], 1), [4, 16]);
    const w = tf.ones([16]);
    const b = tf.zeros([16]);
    const run = () => tf.grads((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => layerNorm(x, w, b).sum())([x, w, b]);
    const fused = await kernelsRun(run);
    expect(fused.filter((n) => n.startsWith('SgpLayerNorm')).sort()).toEqual(
      ['SgpLayerNorm', 'SgpLayerNormGradParam', 'SgpLayerNormGradParam', 'SgpLayerNormGradX', 'SgpLayerNormStats'],
    );
    expect(fused).not.toContain('Mean');
    setWasmKernelsEnabled(false);
    try {
      const stock = await kernelsRun(run);
      expect(stock.some((n) => n.startsWith('SgpLayerNorm'))).toBe(false);
      expect(stock).toContain('Mean');
    } finally {
      setWasmKernelsEnabled(true);
    }
    tf.dispose([x, w, b]);
  });
});
