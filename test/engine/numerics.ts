/** What the kernel tests share: seeded inputs, the relative error they are judged by, values with gradients. */
import { expect } from 'vitest';
import * as tf from '../../src/engine/tf';

/** Normal(shift, scale) numbers from a seed, as an array. */
export function randoms(shape: number[], seed: number, scale = 1, shift = 0): Float32Array {
  return tf.tidy(() => tf.randomNormal(shape, shift, scale, 'float32', seed).dataSync() as Float32Array);
}

/** Largest |got − want| / max(1, |want|). */
export function maxErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  return worst;
}

/** f's value and the gradients of Σ f·dy for its inputs (dy weights every output element differently), as arrays. */
export function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: Float32Array[], shapes: number[][], dy: Float32Array): Float32Array[] {
  return tf.tidy(() => {
    const xs = inputs.map((v, i) => tf.tensor(v, shapes[i]));
    const y = f(...xs);
    const dyt = tf.tensor(dy, y.shape);
    const grads = tf.grads((...ts: tf.Tensor[]) =>
      f(...ts)
        .mul(dyt)
        .sum(),
    )(xs);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}
