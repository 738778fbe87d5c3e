/**
 * Exact GELU, x·Φ(x), on the wasm backend as one SIMD kernel forward (kernels/gelu.wat) that also writes the
 * slope Φ(x) + x·φ(x); the gradient is dy·slope, one multiply.
 *
 * Why: written with TF.js ops, GELU is ~5 kernels forward and ~12 backward, each a full pass over the
 * MLP's (B·T, 4C) activations, with Erf and Exp in scalar C++ loops — at the baby size the largest cost
 * of a training step after the matrix products. The slope's exponential is the forward pass's own, so it
 * costs little there, and the tape saves the slope instead of x (the same memory): the backward pass no longer
 * runs the whole GELU again. Same formula as TF.js's Erf kernels (Abramowitz & Stegun 7.1.26), so the values
 * agree with the stock ops to float32 round-off.
 */
import * as tf from '../tf';
import { WASM_BASE64 } from './kernels/gelu.wasm';
import { WasmKernelModule, heapOffset, registerWasm, splitRange } from './wasmKernels';

// Not the fused-program names (ops/fused.ts): this needs ≥ 4 elements, so the engine must not find it where it
// asks for those (a smaller tensor on wasm takes the stock ops).
const FORWARD = 'SgpWasmGelu';

interface GeluExports {
  gelu(x: number, y: number, slope: number, n: number): void;
}

const kernels = new WasmKernelModule<GeluExports>(WASM_BASE64);

/** Elements per part below which a call stays on one thread (~3 ns each: tens of microseconds). */
const MIN_PART = 16_384;

registerWasm([
  [
    FORWARD,
    ({ inputs: { x }, backend: be }) => {
      if (!kernels.on(be)) throw new Error('the SIMD GELU kernel is not available on this backend');
      const y = be.makeOutput(x.shape, 'float32'); // x's shape
      const slope = be.makeOutput(x.shape, 'float32'); // x's shape
      const [X, Y, S] = [heapOffset(be, x), heapOffset(be, y), heapOffset(be, slope)];
      // Parts start at multiples of 4 and hold at least 4 elements, as the kernel needs.
      const parts = splitRange(tf.util.sizeFromShape(x.shape), kernels.parts(be), MIN_PART, 4).map(([i0, i1]) => [X + 4 * i0, Y + 4 * i0, S + 4 * i0, i1 - i0]);
      kernels.run(be, 'gelu', parts);
      return [y, slope];
    },
  ],
]);

/** Whether x can take the SIMD kernel: wasm backend with the kernel, float32, at least 4 elements. */
export function geluKernelFits(x: tf.Tensor): boolean {
  return x.dtype === 'float32' && x.size >= 4 && kernels.get() !== null;
}

/**
 * x·Φ(x) with the SIMD kernel; only where geluKernelFits(x).
 * A custom gradient rather than one registered for the kernel: the kernel has two outputs, and for an output
 * the loss does not depend on (the slope) the tape would make a zero tensor of x's size in JavaScript and copy it
 * into the heap, every backward pass (~1.5 MB a GELU at the baby size). Here the tape sees one output, y, and
 * keeps the slope as a saved tensor.
 */
export const geluSimd = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const [y, slope] = tf.engine().runKernel(FORWARD, { x }) as tf.Tensor[]; // x's shape, each
  save([slope]); // kept by the tape while recording; the forward pass's own copy goes with this scope
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [dy.mul(saved[0])], // dy·slope
  };
}) as <T extends tf.Tensor>(x: T) => T;
