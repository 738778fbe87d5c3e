/**
 * Sums of many tensors that fit every backend's per-program limits.
 *
 * Why not one tf.addN: on WebGPU, addN compiles one shader that binds every input as a storage buffer,
 * and a shader stage may bind only `maxStorageBuffersPerShaderStage` of them — 8 on the default device
 * TF.js creates (the WebGPU minimum; TF.js does not ask for more). With more inputs the pipeline is
 * rejected, and every dispatch in the same queue submit is silently skipped: training "runs" on skipped
 * work. WebGL has a similar cap on textures per shader, which TF.js splits itself; WebGPU's addN does not.
 */
import * as tf from '../tf';
import { FUSED, hasFused, MAX_FUSED_INPUTS, runFused } from './fused';
import './wasmFused'; // registers the wasm backend's fused kernels, sumSquares among them

/**
 * Inputs per addN program: 6 inputs + 1 output = 7 storage buffers, under the 8 every WebGPU device
 * allows (the uniform buffer TF.js also binds is counted separately, as a uniform buffer).
 */
export const MAX_ADDN_INPUTS = 6;

/** Σ tensors (same shapes), as a tree of addN calls of at most MAX_ADDN_INPUTS inputs each. */
export function sumMany<T extends tf.Tensor>(tensors: T[]): T {
  if (tensors.length === 0) throw new Error('sumMany needs at least one tensor');
  return tf.tidy(() => {
    let level: tf.Tensor[] = tensors;
    while (level.length > 1) {
      const next: tf.Tensor[] = [];
      for (let i = 0; i < level.length; i += MAX_ADDN_INPUTS) {
        const chunk = level.slice(i, i + MAX_ADDN_INPUTS);
        next.push(chunk.length === 1 ? chunk[0] : tf.addN(chunk));
      }
      level = next;
    }
    // A single input comes back as a new tensor, so the caller always owns what it receives.
    return (level[0] === tensors[0] ? level[0].clone() : level[0]) as T;
  });
}

/**
 * Σ x² over every element of every tensor, a scalar: the gradient's global norm². With the fused
 * program, one launch per MAX_FUSED_INPUTS tensors (a running sum is carried into the next launch);
 * otherwise square and sum per tensor, then sumMany.
 */
export function sumOfSquares(tensors: tf.Tensor[]): tf.Scalar {
  if (tensors.length === 0) throw new Error('sumOfSquares needs at least one tensor');
  return tf.tidy(() => {
    if (!hasFused(FUSED.sumSquares)) return sumMany(tensors.map((t) => t.square().sum() as tf.Scalar));
    let total: tf.Scalar | null = null;
    for (let i = 0; i < tensors.length;) {
      const take = tensors.slice(i, i + MAX_FUSED_INPUTS - (total ? 1 : 0));
      i += take.length;
      const inputs: Record<string, tf.Tensor> = Object.fromEntries(take.map((t, k) => [`x${k}`, t]));
      // The carried running sum is added as it is, not squared.
      if (total) inputs.carry = total;
      total = runFused<tf.Scalar>(FUSED.sumSquares, inputs, { carry: total !== null });
    }
    return total!;
  });
}
