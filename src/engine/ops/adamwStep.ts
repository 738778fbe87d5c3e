/**
 * One AdamW step for one parameter tensor as a single SIMD kernel on the wasm backend
 * (kernels/adamw.wat): the same float32 operations in the same order as train/adamw.ts's TF.js ops,
 * so the new parameter and moments are bit-identical to them; only the order of the update-norm sum differs.
 *
 * Why: written with TF.js ops, an update is ~20 kernels per parameter tensor (27 tensors at the baby
 * size), each a full pass; on wasm it took about as long as the whole forward and backward pass.
 */
import * as tf from '../tf';
import { WASM_BASE64 } from './kernels/adamw.wasm';
import { WasmKernelModule, heapOffset, registerWasm } from './wasmKernels';

const KERNEL = 'SgpAdamW';

export interface AdamWExports {
  adamw(
    p: number,
    g: number,
    m: number,
    v: number,
    pOut: number,
    mOut: number,
    vOut: number,
    normOut: number,
    n: number,
    b1: number,
    c1: number,
    b2: number,
    cb2: number,
    stepSize: number,
    c2: number,
    eps: number,
    decay: number,
    ok: number,
    okStride: number,
    scale: number,
  ): void;
  sumSquares(x: number, n: number, acc: number): void;
}

/** Scalars of one step, as adamw.ts computes them in double precision (the kernel rounds each to float32, as TF.js does). */
export interface AdamWStepScalars {
  beta1: number;
  beta2: number;
  eps: number;
  /** lr / (1 − β1^t) */
  stepSize: number;
  /** √(1 − β2^t) */
  c2: number;
  /** 1 − lr·wd, or exactly 1 for no decay */
  decay: number;
}

const kernels = new WasmKernelModule<AdamWExports>(WASM_BASE64);

/** The module (kernels/adamw.wat), which also holds the sum of squares (wasmFused/sumSquares.ts). */
export const adamwModule = kernels;

registerWasm([
  [
    KERNEL,
    ({ inputs, backend: be, attrs }) => {
      if (!kernels.on(be)) throw new Error('the SIMD AdamW kernel is not available on this backend');
      const { p, g, m, v, ok, scale } = inputs;
      const s = attrs as unknown as AdamWStepScalars;
      const pOut = be.makeOutput(p.shape, 'float32');
      const mOut = be.makeOutput(p.shape, 'float32');
      const vOut = be.makeOutput(p.shape, 'float32');
      const norm2 = be.makeOutput([], 'float32');
      // Through run, as every kernel: on the kernel threads' queue, after the kernels that made the gradient.
      kernels.run(be, 'adamw', [
        [
          heapOffset(be, p),
          heapOffset(be, g),
          heapOffset(be, m),
          heapOffset(be, v),
          heapOffset(be, pOut),
          heapOffset(be, mOut),
          heapOffset(be, vOut),
          heapOffset(be, norm2),
          tf.util.sizeFromShape(p.shape),
          s.beta1,
          1 - s.beta1,
          s.beta2,
          1 - s.beta2,
          s.stepSize,
          s.c2,
          s.eps,
          s.decay,
          heapOffset(be, ok),
          tf.util.sizeFromShape(ok.shape) === 1 ? 0 : 1, // bool: one byte per element
          scale ? heapOffset(be, scale) : 0,
        ],
      ]);
      return [pOut, mOut, vOut, norm2];
    },
  ],
]);

/** Whether the AdamW kernel runs on the active backend. */
export function adamwKernelActive(): boolean {
  return kernels.get() !== null;
}

/**
 * Whether this update can take the SIMD kernel: wasm backend with the kernel, float32 tensors of one size,
 * ok a bool scalar or a bool mask of that size, and the gradient's scale (if any) a float32 scalar.
 */
export function adamwKernelFits(param: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, ok: tf.Tensor, scale?: tf.Tensor): boolean {
  return (
    (scale === undefined || (scale.dtype === 'float32' && scale.size === 1)) &&
    param.dtype === 'float32' &&
    grad.dtype === 'float32' &&
    m.dtype === 'float32' &&
    v.dtype === 'float32' &&
    ok.dtype === 'bool' &&
    grad.size === param.size &&
    m.size === param.size &&
    v.size === param.size &&
    (ok.size === 1 || ok.size === param.size) &&
    param.size > 0 &&
    kernels.get() !== null
  );
}

/**
 * The new parameter and moments (to assign; skipped steps give the old values back) and Σ(next − p)², for the
 * gradient grad·scale (the clipping factor, multiplied in as the Multiply kernel would: the same float32 product).
 * Only where adamwKernelFits.
 */
export function adamwStepSimd(
  param: tf.Tensor,
  grad: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  ok: tf.Tensor,
  s: AdamWStepScalars,
  scale?: tf.Tensor,
): { next: tf.Tensor; m: tf.Tensor; v: tf.Tensor; updateNorm2: tf.Scalar } {
  const inputs: tf.NamedTensorMap = { p: param, g: grad, m, v, ok, ...(scale ? { scale } : {}) };
  const [next, mOut, vOut, updateNorm2] = tf.engine().runKernel(KERNEL, inputs, s as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { next, m: mOut, v: vOut, updateNorm2: updateNorm2 as tf.Scalar };
}
