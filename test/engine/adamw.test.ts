import { describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { AdamW } from '../../src/engine/train/adamw';

/** PyTorch's AdamW step, written out in float64 for one parameter. */
function torchAdamW(p: number[], grads: number[][], lr: number, b1: number, b2: number, eps: number, wd: number, decay: boolean) {
  let m = p.map(() => 0);
  let v = p.map(() => 0);
  let x = [...p];
  grads.forEach((g, k) => {
    const t = k + 1;
    if (decay) x = x.map((xi) => xi * (1 - lr * wd));
    m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]);
    v = v.map((vi, i) => b2 * vi + (1 - b2) * g[i] * g[i]);
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    x = x.map((xi, i) => xi - (lr / bc1) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + eps)));
  });
  return x;
}

describe('AdamW', () => {
  const cfg = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };
  const grads = [
    [0.5, -1, 0.25, 2],
    [0.1, 0.3, -0.7, 1],
    [-0.2, 0.1, 0.05, -3],
  ];
  it('matches torch.optim.AdamW, weight decay on 2-D weights only', async () => {
    for (const [shape, decay] of [
      [[2, 2], true],
      [[4], false],
    ] as const) {
      const opt = new AdamW(cfg);
      const p = tf.variable(tf.tensor([1, -2, 0.5, 3], [...shape]));
      const ok = tf.scalar(true, 'bool');
      for (const g of grads) tf.dispose([opt.update('w', p, tf.tensor(g, [...shape]), 0.01, ok)]);
      const want = torchAdamW([1, -2, 0.5, 3], grads, 0.01, 0.9, 0.99, 1e-8, 0.1, decay);
      Array.from(await p.data()).forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
      tf.dispose([p, ok]);
      opt.dispose();
    }
  });
  it('keys state by name: a parameter joining late starts fresh, others keep their moments', async () => {
    const opt = new AdamW(cfg);
    const a = tf.variable(tf.tensor([1, 1, 1, 1], [4]));
    const b = tf.variable(tf.tensor([1, 1, 1, 1], [4]));
    const ok = tf.scalar(true, 'bool');
    tf.dispose(opt.update('a', a, tf.tensor(grads[0]), 0.01, ok));
    tf.dispose(opt.update('a', a, tf.tensor(grads[1]), 0.01, ok));
    // b joins at the third step: its first update must be Adam's first step (bias-corrected with t = 1)
    tf.dispose(opt.update('b', b, tf.tensor(grads[2]), 0.01, ok));
    const wantB = torchAdamW([1, 1, 1, 1], [grads[2]], 0.01, 0.9, 0.99, 1e-8, 0.1, false);
    Array.from(await b.data()).forEach((v, i) => expect(v).toBeCloseTo(wantB[i], 6));
    tf.dispose(opt.update('a', a, tf.tensor(grads[2]), 0.01, ok));
    const wantA = torchAdamW([1, 1, 1, 1], grads, 0.01, 0.9, 0.99, 1e-8, 0.1, false);
    Array.from(await a.data()).forEach((v, i) => expect(v).toBeCloseTo(wantA[i], 6));
    tf.dispose([a, b, ok]);
    opt.dispose();
  });
  it('changes nothing when the step is not ok', async () => {
    const opt = new AdamW(cfg);
    const p = tf.variable(tf.tensor([1, 2], [2]));
    const no = tf.scalar(false, 'bool');
    const n = opt.update('p', p, tf.tensor([NaN, 1]), 0.01, no);
    expect(Array.from(await p.data())).toEqual([1, 2]);
    expect((await n.data())[0]).toBe(0);
    const saved = await opt.save();
    expect(Array.from(saved.get('p')!.m)).toEqual([0, 0]);
    tf.dispose([p, no, n]);
    opt.dispose();
  });
});
