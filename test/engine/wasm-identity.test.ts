import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import '../../src/engine/ops/wasmFused';
import { setWasmKernelsEnabled } from '../../src/engine/ops/wasmKernels';
import { useNodeBackend } from '../backends';

afterAll(() => setWasmKernelsEnabled(true));

/** The wasm backend's count of live data buffers (TF.js's, not in its typings). */
const buffers = (): number => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();

describe('Identity on wasm shares its input’s memory', () => {
  it('a clone reads the same values from the same memory, outlives its source, and frees it last', async () => {
    await useNodeBackend('wasm');
    const [tensors, data] = [tf.memory().numTensors, buffers()];
    const x = tf.tensor2d([1, -2, 3.5, 4, 5, 6], [2, 3]);
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId); // no copy
    expect(buffers()).toBe(data + 1);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, -2, 3.5, 4, 5, 6]);
    expect(buffers()).toBe(data + 1); // still held by the clone
    y.dispose();
    expect(buffers()).toBe(data);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('the tape’s saved tensors are shared, and gradients through them are right', async () => {
    await useNodeBackend('wasm');
    const x = tf.tensor1d([0.5, -1, 2, 3]);
    const dx = tf.grad((t: tf.Tensor) => t.square().mul(t).sum())(x); // d/dx x³ = 3x²
    expect(Array.from(dx.dataSync())).toEqual([0.75, 3, 12, 27]);
    tf.dispose([x, dx]);
  });

  it('with the engine’s kernels off, TF.js’s own Identity (a copy), for comparison', async () => {
    await useNodeBackend('wasm');
    setWasmKernelsEnabled(false);
    try {
      const x = tf.tensor1d([7, 8, 9]);
      const y = tf.clone(x);
      expect(y.dataId).not.toBe(x.dataId);
      x.dispose();
      expect(Array.from(y.dataSync())).toEqual([7, 8, 9]);
      y.dispose();
    } finally {
      setWasmKernelsEnabled(true);
    }
  });
});
