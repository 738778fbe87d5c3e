/**
 * Next-token cross-entropy per row on the wasm backend, one kernel each way: the kernels and formulas of
 * the WebGPU programs (src/worker/webgpu/crossEntropy.ts),
 *
 *   nll_r = −(z_rt − max_r − log Σ_j e^(z_rj − max_r)),   dz_rj = dnll_r · (softmax(z_r)_j − [j = t_r])
 *
 * where the stock ops (log-softmax, one-hot, product, sum, negation) take ~10 kernels each way. A target
 * outside [0, V) counts as the stock ops count it (its one-hot row is all zeros): loss 0, gradient 0.
 *
 * The SIMD module (kernels/crossEntropy.wat) does the passes over the logits, split by rows over the kernel
 * threads; forward it gives each row's maximum and sum of exponentials, and the log (which WebAssembly lacks) is
 * taken here, one per row. In plain JavaScript these passes were ~1.5 ms of a baby step with a 65-character
 * vocabulary and ~12 ms with BPE's 512 tokens (Math.exp per logit, on one thread). JavaScript remains for a
 * vocabulary under 4 (the module's blocks) and engines without SIMD.
 */
import * as tf from '../../tf';
import { FUSED } from '../fused';
import { WASM_BASE64 } from '../kernels/crossEntropy.wasm';
import { intView, views } from './heap';
import { heapOffset, registerWasm, splitRange, WasmKernelModule, type WasmBackendLike, type WasmKernelArgs } from '../wasmKernels';

interface CrossEntropyExports {
  stats(z: number, N: number, V: number, mx: number, sum: number): void;
  grad(z: number, targets: number, dy: number, N: number, V: number, dz: number): void;
}

const simd = new WasmKernelModule<CrossEntropyExports>(WASM_BASE64);

/** Whether the SIMD module runs for a vocabulary of V on the active backend (else the JavaScript loops). */
export function crossEntropySimdActive(V: number): boolean {
  return V >= 4 && simd.get() !== null;
}

/** Logits per part below which a call stays on one thread. */
const MIN_PART = 32_768;

/** Rows split over the kernel threads: [first row, row count] per part. */
function rowParts(backend: WasmBackendLike, N: number, V: number): Array<[number, number]> {
  return splitRange(N, simd.parts(backend), MIN_PART / V).map(([r0, r1]) => [r0, r1 - r0]);
}

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
  // The rows' maxima (N) then sums of exponentials (N) from the SIMD module, or row by row below.
  const stats = V >= 4 && simd.on(backend) ? backend.wasm._malloc(8 * N) : 0;
  try {
    if (stats) {
      const Z = heapOffset(backend, logits);
      simd.run(
        backend,
        'stats',
        rowParts(backend, N, V).map(([r0, n]) => [Z + 4 * r0 * V, n, V, stats + 4 * r0, stats + 4 * (N + r0)]),
      );
    }
    // Views after the allocation (which can grow the heap).
    const [Z, L] = views(backend, logits, out);
    const S = stats ? new Float32Array(Z.buffer, stats, 2 * N) : null;
    const ids = intView(backend, targets);
    for (let r = 0; r < N; r++) {
      const t = ids[r];
      if (t < 0 || t >= V) {
        L[r] = 0;
        continue;
      }
      const [mx, sum] = S ? [S[r], S[N + r]] : maxAndSum(Z, r * V, V);
      L[r] = -(Z[r * V + t] - mx - Math.log(sum));
    }
  } finally {
    if (stats) backend.wasm._free(stats);
  }
  return out;
}

function crossEntropyGrad({ inputs, backend }: WasmKernelArgs): tf.TensorInfo {
  const { logits, targets, dy } = inputs;
  const [N, V] = dims(logits, targets);
  if (tf.util.sizeFromShape(dy.shape) !== N) throw new Error(`CrossEntropyGrad kernel: dy must have ${N} elements`);
  const out = backend.makeOutput([N, V], 'float32'); // (N, V)
  if (V >= 4 && simd.on(backend)) {
    const [Z, T, DY, DZ] = [logits, targets, dy, out].map((t) => heapOffset(backend, t));
    simd.run(
      backend,
      'grad',
      rowParts(backend, N, V).map(([r0, n]) => [Z + 4 * r0 * V, T + 4 * r0, DY + 4 * r0, n, V, DZ + 4 * r0 * V]),
    );
    return out;
  }
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
