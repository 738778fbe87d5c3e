import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { AdamW } from '../../src/engine/train/adamw';
import { adamwKernelFits } from '../../src/engine/ops/adamwStep';
import { setWasmKernelsEnabled } from '../../src/engine/ops/wasmKernels';
import { useNodeBackend } from '../backends';

afterAll(() => setWasmKernelsEnabled(true));

interface Run {
  params: Float32Array[];
  norms: number[];
}

/** Five steps (the fourth skipped by the NaN guard) on tensors of several shapes, with the SIMD kernel or the stock ops. */
function train(kernel: boolean): Run {
  setWasmKernelsEnabled(kernel);
  try {
    const shapes = [[3, 5], [7], [64, 128], [1], [2, 2, 3]];
    const opt = new AdamW({ beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });
    const params = shapes.map((s, i) => tf.tidy(() => tf.variable(tf.randomNormal(s, 0, 1, 'float32', i + 1))));
    const norms: number[] = [];
    for (let step = 0; step < 5; step++) {
      const ok = tf.scalar(step !== 3, 'bool');
      params.forEach((p, i) => {
        const g = tf.randomNormal(p.shape, 0, step + 1, 'float32', 100 * step + i + 1);
        const n = opt.update(`p${i}`, p, g, 3e-3, ok);
        norms.push(n.dataSync()[0]);
        tf.dispose([g, n]);
      });
      ok.dispose();
    }
    const out = { params: params.map((p) => p.dataSync() as Float32Array), norms };
    tf.dispose(params);
    opt.dispose();
    return out;
  } finally {
    setWasmKernelsEnabled(true);
  }
}

describe('AdamW SIMD kernel on wasm', () => {
  it('is used on wasm, and not on cpu', async () => {
    await useNodeBackend('wasm');
    const [p, g, m, v] = [0, 1, 2, 3].map(() => tf.zeros([5]));
    const ok = tf.scalar(true, 'bool');
    expect(adamwKernelFits(p, g, m, v, ok)).toBe(true);
    const opt = new AdamW();
    const w = tf.tidy(() => tf.variable(tf.ones([2, 3])));
    const info = await tf.profile(() => opt.update('w', w, tf.ones([2, 3]), 0.1, ok));
    expect(info.kernels.map((k) => k.name)).toContain('SgpAdamW');
    expect(info.kernels.length).toBeLessThanOrEqual(3); // the kernel (+ the zeros of the new moments)
    tf.dispose([p, g, m, v, ok, w, info.result as tf.Tensor]);
    opt.dispose();
    await useNodeBackend('cpu');
    const q = tf.zeros([5]);
    const okc = tf.scalar(true, 'bool');
    expect(adamwKernelFits(q, q, q, q, okc)).toBe(false);
    tf.dispose([q, okc]);
  });

  it('gives bit-identical parameters to the stock ops, skipped steps included; update norms to float32 round-off', async () => {
    await useNodeBackend('wasm');
    const before = tf.memory().numTensors;
    const fast = train(true);
    const stock = train(false);
    expect(tf.memory().numTensors).toBe(before);
    fast.params.forEach((p, i) => expect(Array.from(p), `parameter ${i}`).toEqual(Array.from(stock.params[i])));
    fast.norms.forEach((n, i) => expect(Math.abs(n - stock.norms[i])).toBeLessThanOrEqual(1e-5 * stock.norms[i]));
    // The skipped step (the fourth) changed nothing.
    expect(fast.norms.slice(15, 20)).toEqual([0, 0, 0, 0, 0]);
  });
});
