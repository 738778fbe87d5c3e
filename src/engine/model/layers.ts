/**
 * The small layers of a GPT, written with TF.js core ops so they run on every backend.
 *
 * Shapes: B batch, T time, C width, N = B·T rows, V vocabulary.
 */
import * as tf from '../tf';
import { linearKernelFits, linearSimd } from '../ops/linear';
import { geluKernelFits, geluSimd } from '../ops/gelu';
import { FUSED, FUSED_WASM, hasFused, nativeTransposes, runFused } from '../ops/fused';
import '../ops/wasmFused'; // registers the wasm backend's fused kernels
import { WASM_LAYER_NORM } from '../ops/wasmFused/layerNorm';

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
 * On wasm with the SIMD kernel, one kernel that reads x's rows and Wᵀ (and, backward, dyᵀ) in place through
 * strides: no transposes or reshapes at all. Elsewhere, matMul2d's explicitly transposed 2-D products.
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  if (linearKernelFits(x, weight)) {
    // wasm: one kernel each way, x's rows and Wᵀ read in place (ops/linear.ts), no reshapes.
    const y = linearSimd(x, weight); // (..., out)
    return bias ? y.add(bias) : y;
  }
  const inDim = x.shape[x.shape.length - 1];
  const outDim = weight.shape[0];
  const lead = x.shape.slice(0, -1);
  const x2 = x.reshape([-1, inDim]) as tf.Tensor2D; // (N, in)
  // WebGPU: matMul's own transpose flags (one launch, two backward); elsewhere untransposed 2-D products.
  let y: tf.Tensor = nativeTransposes()
    ? tf.matMul(x2, weight as tf.Tensor2D, false, true) // (N, in)·(out, in)ᵀ → (N, out)
    : matMul2d(x2, (weight as tf.Tensor2D).transpose()); // (N, in)·(in, out) → (N, out)
  if (bias) y = y.add(bias);
  return y.reshape([...lead, outDim]); // (..., out)
}

/**
 * LayerNorm over the last axis, eps 1e-5 as PyTorch. x: (..., C) → (..., C).
 * One fused program forward where the backend has them (src/engine/ops/fused.ts; wasm's also keeps the row
 * statistics for the gradient), else the stock ops.
 */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor, eps = 1e-5): tf.Tensor {
  if (hasFused(WASM_LAYER_NORM) && hasFused(FUSED.layerNormGradX) && hasFused(FUSED.layerNormGradParam)) {
    // wasm: one kernel that also gives the row statistics, which its registered gradient keeps (no recompute,
    // no custom-gradient wrapper, and only the gradients the tape asks for).
    const [y, stats] = tf.engine().runKernel(WASM_LAYER_NORM, bias ? { x, weight, bias } : { x, weight }, { eps }) as tf.Tensor[];
    stats.dispose(); // the tape, when recording, keeps its own reference
    return y; // (..., C)
  }
  if (hasFused(FUSED.layerNorm) && hasFused(FUSED.layerNormGradX)) return fusedLayerNorm(eps, bias !== undefined)(...(bias ? [x, weight, bias] : [x, weight]));
  return layerNormReference(x, weight, bias, eps);
}

/** The stock-ops LayerNorm (and the reference the fused programs are tested against). */
export function layerNormReference(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor, eps = 1e-5): tf.Tensor {
  const mean = x.mean(-1, true); // (..., 1)
  const xc = x.sub(mean); // (..., C)
  const variance = xc.square().mean(-1, true); // (..., 1) biased, as PyTorch
  let y = xc.mul(variance.add(eps).rsqrt()).mul(weight); // (..., C)
  if (bias) y = y.add(bias);
  return y;
}

/** LayerNorm as fused programs: forward in one; backward recomputes the row statistics (N, 2), then dx, dw (, db). */
function fusedLayerNorm(eps: number, withBias: boolean): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [x, weight, bias] = args.slice(0, -1) as tf.Tensor[];
    save([x, weight]);
    const value = runFused(FUSED.layerNorm, withBias ? { x, weight, bias } : { x, weight }, { eps }); // (..., C)
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved;
        const stats = runFused(FUSED.layerNormStats, { x: sx }, { eps }); // (N, 2): mean, 1/σ per row
        const dx = runFused(FUSED.layerNormGradX, { x: sx, weight: sw, dy, stats }); // (..., C)
        const dw = runFused(FUSED.layerNormGradParam, { x: sx, dy, stats }, { what: 'weight' }); // (C)
        return withBias ? [dx, dw, runFused(FUSED.layerNormGradParam, { x: sx, dy, stats }, { what: 'bias' })] : [dx, dw];
      },
    };
  }) as (...inputs: tf.Tensor[]) => tf.Tensor;
}

/**
 * Exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)), as PyTorch's nn.GELU() (not the tanh approximation).
 * On wasm one SIMD kernel each way (ops/gelu.ts); on WebGPU one fused program each way; elsewhere the
 * stock ops.
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  if (geluKernelFits(x)) return geluSimd(x);
  return (hasFused(FUSED.gelu) && hasFused(FUSED.geluGrad) ? fusedGelu(x) : geluReference(x)) as T;
}

const fusedGelu = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  return {
    value: runFused(FUSED.gelu, { x }), // x's shape
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [runFused(FUSED.geluGrad, { x: saved[0], dy })],
  };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * The stock-ops GELU (and the reference of the fused and SIMD ones). A custom gradient, Φ(x) + x·φ(x), keeps
 * the backward pass to a few kernels.
 */
export const geluReference = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
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
      const pdf = xs
        .square()
        .mul(-0.5)
        .exp()
        .mul(1 / Math.sqrt(2 * Math.PI)); // φ(x)
      return [dy.mul(cdfx.add(xs.mul(pdf)))];
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * Embedding lookup table[idx]. The gradient is written as a one-hot matmul because TF.js's gather
 * gradient needs UnsortedSegmentSum, which the wasm backend lacks.
 * idx: (B, T) int32, table: (V, C) → (B, T, C).
 */
export function embedding(idx: tf.Tensor, table: tf.Tensor): tf.Tensor {
  // The ids are not an input, so the tape asks no gradient for them (no zero tensor made each step); saved,
  // so that they outlive the forward pass whoever made them.
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [t, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const [V, C] = t.shape;
    save([idx]);
    return {
      value: tf.gather(t, idx), // (B, T, C)
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const oneHot = oneHotFloat(saved[0], V); // (N, V)
        const dy2 = dy.reshape([-1, C]) as tf.Tensor2D; // (N, C)
        // (V, N)·(N, C) → (V, C); with matMul's own transpose where that costs no extra launch
        return [nativeTransposes() ? tf.matMul(oneHot, dy2, true, false) : tf.matMul(oneHot.transpose(), dy2)];
      },
    };
  }) as (t: tf.Tensor) => tf.Tensor;
  return f(table);
}

/**
 * The GPT's input, wte[idx] + wpe[P..P+T): idx (B, T) int32, wte (V, C), wpe (positions, C) → (B, T, C).
 * One kernel forward and one per table backward where the backend has them (wasm), else the embedding
 * lookup, a slice and an add.
 */
export function embedInput(idx: tf.Tensor2D, wte: tf.Tensor, wpe: tf.Tensor, P: number): tf.Tensor3D {
  if (hasFused(FUSED_WASM.embedding) && hasFused(FUSED_WASM.embeddingGradTokens) && hasFused(FUSED_WASM.embeddingGradPositions)) {
    // The tables' sizes travel as attributes, so the gradient saves only the ids.
    return runFused(FUSED_WASM.embedding, { idx, wte, wpe }, { offset: P, vocab: wte.shape[0], positions: wpe.shape[0] }); // (B, T, C)
  }
  const T = idx.shape[1];
  return embedding(idx, wte).add(wpe.slice([P, 0], [T, -1])) as tf.Tensor3D; // (B, T, C) + (T, C)
}

if (!tf.getGradient(FUSED_WASM.embedding)) {
  tf.registerGradient({
    kernelName: FUSED_WASM.embedding,
    inputsToSave: ['idx'],
    gradFunc: (dy, saved, attrs) => {
      const [idx] = saved;
      const { offset, vocab, positions } = attrs as unknown as { offset: number; vocab: number; positions: number };
      return {
        wte: () => runFused(FUSED_WASM.embeddingGradTokens, { idx, dx: dy as tf.Tensor }, { vocab }), // (V, C)
        wpe: () => runFused(FUSED_WASM.embeddingGradPositions, { dx: dy as tf.Tensor }, { positions, offset }), // (positions, C)
      };
    },
  });
}

/**
 * −log softmax(logits)[target] per row: logits (N, V), targets (N) int32 → (N).
 * One fused program each way where the backend has them, else the stock ops (log-softmax picked with a
 * one-hot product, as gather has no gradient on wasm).
 */
export function crossEntropyRows(logits: tf.Tensor2D, targets: tf.Tensor): tf.Tensor1D {
  if (!hasFused(FUSED.crossEntropy) || !hasFused(FUSED.crossEntropyGrad)) return crossEntropyRowsReference(logits, targets);
  const ids = targets.reshape([-1]); // (N)
  // targets are not differentiable: not an input, so the tape asks no gradient for them; saved, so that they
  // outlive the forward pass.
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [z, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([z, ids]);
    return {
      value: runFused(FUSED.crossEntropy, { logits: z, targets: ids }), // (N)
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runFused(FUSED.crossEntropyGrad, { logits: saved[0], targets: saved[1], dy }), // (N, V)
    };
  }) as (z: tf.Tensor) => tf.Tensor1D;
  return f(logits);
}

export function crossEntropyRowsReference(logits: tf.Tensor2D, targets: tf.Tensor): tf.Tensor1D {
  const logp = tf.logSoftmax(logits, -1); // (N, V)
  return oneHotFloat(targets, logits.shape[1]).mul(logp).sum(-1).neg() as tf.Tensor1D; // (N)
}

/**
 * One-hot rows as float32. ids: (N) int32 → (N, depth).
 * On wasm built as int32 and cast, because tfjs-backend-wasm 4.22's OneHot kernel writes integer bit patterns
 * into a float32 output (1 reads as 1.4e-45); elsewhere float32 directly (one launch fewer on a GPU).
 */
export function oneHotFloat(ids: tf.Tensor, depth: number): tf.Tensor2D {
  return tf.tidy(() => {
    const flat = ids.reshape([-1]) as tf.Tensor1D; // (N)
    if (tf.getBackend() === 'wasm') return tf.oneHot(flat, depth).cast('float32') as tf.Tensor2D;
    return tf.oneHot(flat, depth, 1, 0, 'float32') as tf.Tensor2D;
  });
}

/** Inverted dropout; identity when rate is 0 or outside training. seed comes from the run's Rng. */
export function dropout(x: tf.Tensor, rate: number, seed: number | undefined): tf.Tensor {
  if (rate <= 0 || seed === undefined) return x;
  return tf.dropout(x, rate, undefined, seed);
}
