/**
 * Next-token cross-entropy per row on the wasm backend, one kernel each way: the kernels and formulas of
 * the WebGPU programs (src/worker/webgpu/crossEntropy.ts),
 *
 *   nll_r = −(z_rt − max_r − log Σ_j e^(z_rj − max_r)),   dz_rj = dnll_r · (softmax(z_r)_j − [j = t_r])
 *
 * where the stock ops (log-softmax, one-hot, product, sum, negation) take ~10 kernels each way. A target
 * outside [0, V) counts as the stock ops count it (its one-hot row is all zeros): loss 0, gradient 0.
 * Plain JavaScript: the logits are (B·T, vocabulary), small next to the model's matrix products.
 */
import * as tf from '../../tf';
import { FUSED } from '../fused';
import { intView, views } from './heap';
import { registerWasm, type WasmKernelArgs } from '../wasmKernels';

function dims(logits: tf.TensorInfo, targets: tf.TensorInfo): [number, number] {
  if (logits.shape.length !== 2) throw new Error(`CrossEntropy kernel: logits must be (N, V), got [${logits.shape}]`);
  const [N, V] = logits.shape;
  if (tf.util.sizeFromShape(targets.shape) !== N || targets.dtype !== 'int32') throw new Error(`CrossEntropy kernel: targets must be ${N} int32 ids`);
  return [N, V];
}

/** max_r and Σ_j e^(z_rj − max_r) of the row at base. */
function maxAndSum(Z: Float32Array, base: number, V: number): [number, number] {
  let mx = -Infinity;
  for (let j = 0; j < V; j++) mx = Math.max(mx, Z[base + j]);
  let sum = 0;
  for (let j = 0; j < V; j++) sum += Math.exp(Z[base + j] - mx);
  return [mx, sum];
}

function crossEntropy({ inputs, backend }: WasmKernelArgs): tf.TensorInfo {
  const { logits, targets } = inputs;
  const [N, V] = dims(logits, targets);
  const out = backend.makeOutput([N], 'float32'); // (N)
  const [Z, L] = views(backend, logits, out);
  const ids = intView(backend, targets);
  for (let r = 0; r < N; r++) {
    const t = ids[r];
    if (t < 0 || t >= V) {
      L[r] = 0;
      continue;
    }
    const [mx, sum] = maxAndSum(Z, r * V, V);
    L[r] = -(Z[r * V + t] - mx - Math.log(sum));
  }
  return out;
}

function crossEntropyGrad({ inputs, backend }: WasmKernelArgs): tf.TensorInfo {
  const { logits, targets, dy } = inputs;
  const [N, V] = dims(logits, targets);
  if (tf.util.sizeFromShape(dy.shape) !== N) throw new Error(`CrossEntropyGrad kernel: dy must have ${N} elements`);
  const out = backend.makeOutput([N, V], 'float32'); // (N, V)
  const [Z, DY, DZ] = views(backend, logits, dy, out);
  const ids = intView(backend, targets);
  for (let r = 0; r < N; r++) {
    const base = r * V;
    const t = ids[r];
    if (t < 0 || t >= V) {
      DZ.fill(0, base, base + V);
      continue;
    }
    const [mx, sum] = maxAndSum(Z, base, V);
    const d = DY[r];
    for (let j = 0; j < V; j++) DZ[base + j] = d * (Math.exp(Z[base + j] - mx) / sum - (j === t ? 1 : 0));
  }
  return out;
}

export function registerCrossEntropy(): void {
  registerWasm([
    [FUSED.crossEntropy, crossEntropy],
    [FUSED.crossEntropyGrad, crossEntropyGrad],
  ]);
}
