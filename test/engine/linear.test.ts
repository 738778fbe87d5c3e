/**
 * The linear layer's wasm kernels (src/engine/ops/linear.ts) against the stock ops on the cpu backend: values
 * and both gradients, for x of rank 1 to 3, sizes not multiples of the kernel's tiles; one kernel each way.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { linear } from '../../src/engine/model/layers';
import { useNodeBackend } from '../backends';
import { maxErr, randoms } from './numerics';

describe('linear on wasm', () => {
  it.each([
    [[13], 7, false],
    [[9, 13], 7, true],
    [[3, 5, 24], 40, false],
    [[2, 3, 33], 17, true],
  ])('x %j · Wᵀ (out %i, bias %s) matches the stock ops: y, dx, dW (, db)', async (xShape, out, withBias) => {
    const inDim = xShape[xShape.length - 1];
    const x = randoms(xShape, 1);
    const w = randoms([out, inDim], 2);
    const b = randoms([out], 3);
    const dy = randoms([...xShape.slice(0, -1), out], 4);
    const run = () =>
      tf.tidy(() => {
        const ts = [tf.tensor(x, xShape), tf.tensor2d(w, [out, inDim]), tf.tensor1d(b)];
        const dyt = tf.tensor(dy, [...xShape.slice(0, -1), out]);
        const f = (a: tf.Tensor, m: tf.Tensor, c: tf.Tensor) => linear(a, m, withBias ? c : undefined);
        const y = f(ts[0], ts[1], ts[2]);
        const grads = tf.grads((a: tf.Tensor, m: tf.Tensor, c: tf.Tensor) => f(a, m, c).mul(dyt).sum())(withBias ? ts : ts.slice(0, 2));
        return [y, ...grads].map((t) => t.dataSync() as Float32Array);
      });
    await useNodeBackend('cpu');
    const want = run();
    await useNodeBackend('wasm');
    const before = tf.memory().numTensors;
    const got = run();
    expect(tf.memory().numTensors).toBe(before);
    expect(got.length).toBe(withBias ? 4 : 3);
    got.forEach((g, i) => expect(maxErr(g, want[i]), ['y', 'dx', 'dW', 'db'][i]).toBeLessThan(1e-5));
  });

  it('is one kernel forward and one per gradient, with no reshapes', async () => {
    await useNodeBackend('wasm');
    const info = await tf.profile(() => tf.tidy(() => tf.grads((a: tf.Tensor, m: tf.Tensor) => linear(a, m).sum())([tf.ones([2, 3, 8]), tf.ones([5, 8])])));
    tf.dispose(info.result as tf.Tensor[]);
    const names = info.kernels.map((k) => k.name);
    expect(names.filter((n) => n.startsWith('SgpLinear')).sort()).toEqual(['SgpLinear', 'SgpLinearGradW', 'SgpLinearGradX']);
    // The only reshape is the sum's gradient's, of a scalar.
    expect(info.kernels.filter((k) => k.name === 'Reshape').map((k) => k.inputShapes)).toEqual([[[]]]);
  });
});
