/**
 * The small layers of a GPT, written with TF.js core ops so they run on every backend.
 *
 * Shapes: B batch, T time, C width, N = B·T rows, V vocabulary.
 */
import * as tf from '../tf';
import { bmm, bmmKernelActive } from '../ops/bmm';
import { geluKernelFits, geluSimd } from '../ops/gelu';

/**
 * a · b for 2-D a (M, K) and b (K, N) → (M, N), with a backward pass made only of untransposed 2-D
 * products: dA = dy · bᵀ, dB = aᵀ · dy, with the transposes done explicitly.
 * Why: tfjs-backend-wasm runs a 2-D untransposed matMul through XNNPACK (~20 GFLOP/s here) but any
 * transposeA/transposeB flag through a naive loop (~1.5 GFLOP/s); TF.js's own matMul gradient uses
 * those flags. On GPU backends the extra transposes are cheap copies.
 */
export const matMul2d = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b), // (M, N)
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dA = tf.matMul(dy as tf.Tensor2D, sb.transpose()); // (M, N)·(N, K) → (M, K)
      const dB = tf.matMul(sa.transpose(), dy as tf.Tensor2D); // (K, M)·(M, N) → (K, N)
      return [dA, dB];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/**
 * y = x Wᵀ + b, with W stored as PyTorch does, [out, in]. x: (..., in) → (..., out).
 * On wasm with the SIMD kernel, bmm reads Wᵀ (and, backward, dyᵀ) in place through strides: no
 * transposes at all. Elsewhere, matMul2d's explicitly transposed 2-D products.
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const inDim = x.shape[x.shape.length - 1];
  const outDim = weight.shape[0];
  const lead = x.shape.slice(0, -1);
  const x2 = x.reshape([-1, inDim]) as tf.Tensor2D; // (N, in)
  let y: tf.Tensor = bmmKernelActive()
    ? bmm(x2, weight as tf.Tensor2D, false, true) // (N, in)·(out, in)ᵀ → (N, out)
    : matMul2d(x2, (weight as tf.Tensor2D).transpose()); // (N, in)·(in, out) → (N, out)
  if (bias) y = y.add(bias);
  return y.reshape([...lead, outDim]); // (..., out)
}

/** LayerNorm over the last axis, eps 1e-5 as PyTorch. x: (..., C) → (..., C). */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor, eps = 1e-5): tf.Tensor {
  const mean = x.mean(-1, true); // (..., 1)
  const xc = x.sub(mean); // (..., C)
  const variance = xc.square().mean(-1, true); // (..., 1) biased, as PyTorch
  let y = xc.mul(variance.add(eps).rsqrt()).mul(weight); // (..., C)
  if (bias) y = y.add(bias);
  return y;
}

/**
 * Exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)), as PyTorch's nn.GELU() (not the tanh approximation).
 * On wasm one SIMD kernel each way (ops/gelu.ts); elsewhere TF.js ops, where a custom gradient,
 * Φ(x) + x·φ(x), keeps the backward pass to a few kernels.
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  return geluKernelFits(x) ? geluSimd(x) : (geluOps(x) as T);
}

/** GELU with TF.js ops, for every backend without the SIMD kernel. */
const geluOps = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  const cdf = tf.tidy(() => x.mul(Math.SQRT1_2).erf().add(1).mul(0.5)); // Φ(x)
  const value = x.mul(cdf);
  cdf.dispose();
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs] = saved;
      const cdfx = xs.mul(Math.SQRT1_2).erf().add(1).mul(0.5); // Φ(x)
      const pdf = xs.square().mul(-0.5).exp().mul(1 / Math.sqrt(2 * Math.PI)); // φ(x)
      return [dy.mul(cdfx.add(xs.mul(pdf)))];
    },
  };
});

/**
 * Embedding lookup table[idx]. The gradient is written as a one-hot matmul because TF.js's gather
 * gradient needs UnsortedSegmentSum, which the wasm backend lacks.
 * idx: (B, T) int32, table: (V, C) → (B, T, C).
 */
export const embedding = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [idx, table, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([idx]);
  const [V, C] = table.shape;
  return {
    value: tf.gather(table, idx), // (B, T, C)
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [ids] = saved;
      const oneHot = oneHotFloat(ids, V); // (N, V)
      const dTable = tf.matMul(oneHot.transpose(), dy.reshape([-1, C]) as tf.Tensor2D); // (V, N)·(N, C) → (V, C)
      // Token ids are not differentiable; the zero gradient exists only to satisfy the tape's contract.
      return [tf.zerosLike(ids).cast('float32'), dTable];
    },
  };
});

/**
 * One-hot rows as float32. ids: (N) int32 → (N, depth).
 * Built as int32 and cast, because tfjs-backend-wasm 4.22's OneHot kernel writes integer bit patterns
 * into a float32 output (1 reads as 1.4e-45).
 */
export function oneHotFloat(ids: tf.Tensor, depth: number): tf.Tensor2D {
  return tf.tidy(() => tf.oneHot(ids.reshape([-1]) as tf.Tensor1D, depth).cast('float32') as tf.Tensor2D);
}

/** Inverted dropout; identity when rate is 0 or outside training. seed comes from the run's Rng. */
export function dropout(x: tf.Tensor, rate: number, seed: number | undefined): tf.Tensor {
  if (rate <= 0 || seed === undefined) return x;
  return tf.dropout(x, rate, undefined, seed);
}
