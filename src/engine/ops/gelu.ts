/**
 * Exact GELU, x·Φ(x), and its gradient as single SIMD kernels on the wasm backend (kernels/gelu.wat).
 *
 * Why: written with TF.js ops, GELU is ~5 kernels forward and ~12 backward, each a full pass over the
 * MLP's (B·T, 4C) activations, with Erf and Exp in scalar C++ loops — at the baby size the largest cost
 * of a training step after the matrix products. Here each direction is one pass. Same formula as
 * TF.js's Erf kernels (Abramowitz & Stegun 7.1.26), so the values agree with the stock ops to float32
 * round-off.
 */
import * as tf from '../tf';
import { WASM_BASE64 } from './kernels/gelu.wasm';
import { WasmKernelModule, heapOffset, registerWasm, splitRange, type WasmBackendLike } from './wasmKernels';

// Not the fused-program names (ops/fused.ts): these need ≥ 4 elements, so the engine must not find them
// where it asks for those (a smaller tensor on wasm takes the stock ops).
const FORWARD = 'SgpWasmGelu';
const BACKWARD = 'SgpWasmGeluGrad';

interface GeluExports {
  gelu(x: number, y: number, n: number): void;
  geluGrad(x: number, dy: number, dx: number, n: number): void;
}

const kernels = new WasmKernelModule<GeluExports>(WASM_BASE64);

/** Elements per part below which a call stays on one thread (~3 ns each: tens of microseconds). */
const MIN_PART = 16_384;

/**
 * Run one direction over n elements, split over the kernel threads. Parts start at multiples of 4 and hold
 * at least 4 elements, as the kernel needs. x, dy, out: byte offsets (dy 0 forward).
 */
function runGelu(be: WasmBackendLike, grad: boolean, x: number, dy: number, out: number, n: number): void {
  if (!kernels.on(be)) throw new Error('the SIMD GELU kernel is not available on this backend');
  const parts = splitRange(n, kernels.threads(be), Math.max(MIN_PART, 4), 4).map(([i0, i1]) =>
    grad ? [x + 4 * i0, dy + 4 * i0, out + 4 * i0, i1 - i0] : [x + 4 * i0, out + 4 * i0, i1 - i0],
  );
  kernels.run(be, grad ? 'geluGrad' : 'gelu', parts);
}

registerWasm([
  [
    FORWARD,
    ({ inputs: { x }, backend: be }) => {
      const y = be.makeOutput(x.shape, 'float32');
      runGelu(be, false, heapOffset(be, x), 0, heapOffset(be, y), tf.util.sizeFromShape(x.shape));
      return y;
    },
  ],
  [
    BACKWARD,
    ({ inputs: { x, dy }, backend: be }) => {
      const dx = be.makeOutput(x.shape, 'float32');
      runGelu(be, true, heapOffset(be, x), heapOffset(be, dy), heapOffset(be, dx), tf.util.sizeFromShape(x.shape));
      return dx;
    },
  ],
]);
if (!tf.getGradient(FORWARD)) {
  tf.registerGradient({
    kernelName: FORWARD,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({
      x: () => tf.engine().runKernel(BACKWARD, { x: saved[0], dy: dy as tf.Tensor }) as tf.Tensor,
    }),
  });
}

/** Whether x can take the SIMD kernel: wasm backend with the kernel, float32, at least 4 elements. */
export function geluKernelFits(x: tf.Tensor): boolean {
  return x.dtype === 'float32' && x.size >= 4 && kernels.get() !== null;
}

/** x·Φ(x) with the SIMD kernel; only where geluKernelFits(x). */
export function geluSimd<T extends tf.Tensor>(x: T): T {
  return tf.engine().runKernel(FORWARD, { x }) as T;
}
