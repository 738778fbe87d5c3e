import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { AdamW } from '../../src/engine/train/adamw';
import { adamwKernelFits } from '../../src/engine/ops/adamwStep';
import { setWasmKernelsEnabled } from '../../src/engine/ops/wasmKernels';
import { useNodeBackend } from '../backends';
import { GPT } from '../../src/engine/model/gpt';
import { Trainer } from '../../src/engine/train/trainer';
import { tinySetup } from './helpers';

afterAll(() => setWasmKernelsEnabled(true));

interface Run {
  params: Float32Array[];
  norms: number[];
}

/**
 * Five steps on tensors of several shapes, with the SIMD kernel or the stock ops, the gradient scaled on odd
 * steps (the clipping factor). ok is a scalar (the
 * fourth step skipped by the NaN guard) except on the third, a per-element mask with some elements off
 * (the trainer spreads ok to each parameter's shape; mixed values check the mask element by element).
 */
function train(kernel: boolean): Run {
  setWasmKernelsEnabled(kernel);
  try {
    const shapes = [[3, 5], [7], [64, 128], [1], [2, 2, 3]];
    const opt = new AdamW({ beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });
    const params = shapes.map((s, i) => tf.tidy(() => tf.variable(tf.randomNormal(s, 0, 1, 'float32', i + 1))));
    const norms: number[] = [];
    for (let step = 0; step < 5; step++) {
      params.forEach((p, i) => {
        const ok = step === 2 ? tf.tidy(() => tf.randomUniform(p.shape, 0, 1, 'float32', 7 + i).greater(0.3)) : tf.scalar(step !== 3, 'bool');
        const g = tf.randomNormal(p.shape, 0, step + 1, 'float32', 100 * step + i + 1);
        // On odd steps a clipping factor, multiplied into the gradient (by the kernel itself on wasm).
        const scale = step % 2 === 1 ? tf.scalar(0.37) : undefined;
        const n = opt.update(`p${i}`, p, g, 3e-3, ok, scale);
        norms.push(n.dataSync()[0]);
        tf.dispose([g, n, ok, ...(scale ? [scale] : [])]);
      });
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

  it('runs in the trainer: one kernel per parameter tensor, no stock update ops', async () => {
    await useNodeBackend('wasm');
    const { config, train: source } = tinySetup();
    const model = GPT.create(config, 1);
    const trainer = new Trainer(model, { seed: 1 });
    const spec = { steps: 1, batchSize: 2, schedule: { kind: 'constant', lr: 1e-3 } as const, train: source, freeze: { kind: 'none' } as const };
    const info = await tf.profile(async () => {
      await trainer.run(spec);
      return tf.scalar(0);
    });
    const names = info.kernels.map((k) => k.name);
    expect(names.filter((n) => n === 'SgpAdamW')).toHaveLength(model.params.size);
    expect(names).not.toContain('Select'); // the stock update's tf.where
    // The clipping factor and the step's ok go into the kernel as they are: no gradient × scale, no mask per parameter.
    const paramShapes = new Set([...model.params.values()].map((p) => p.shape.join('x')));
    const scaled = info.kernels.filter(
      (k) => k.name === 'Multiply' && k.inputShapes.some((s) => paramShapes.has(s.join('x'))) && k.inputShapes.some((s) => s.length === 0),
    );
    expect(scaled).toEqual([]);
    expect(names.filter((n) => n === 'Cast').length).toBeLessThanOrEqual(1); // the trainer's ok as a number
    tf.dispose(info.result as tf.Tensor);
    trainer.dispose();
    model.dispose();
  });
});
