/**
 * Causal softmax of attention scores on the wasm backend, one kernel each way: the kernels and formulas of
 * the WebGPU programs (src/worker/webgpu/attention.ts),
 *
 *   y = softmax(scale · s + mask),  ds = scale · y · (dy − Σ_j dy_j·y_j)
 *
 * where key j is visible to query row r iff j ≤ r mod T + S − T. The stock ops take a scale, a mask add and
 * softmax forward, ~6 kernels backward. Both run the SIMD module (kernels/softmax.wat) for any number of keys
 * (sampling with a key/value cache has every count in turn, and a fine-tune's batches of pairs are as long as
 * their longest pair: the final S mod 4 keys of a row one at a time); a JavaScript loop with the same formulas
 * where the engine has no SIMD.
 */
import * as tf from '../../tf';
import { FUSED } from '../fused';
import { WASM_BASE64 } from '../kernels/softmax.wasm';
import { heapOffset, registerWasm, splitRange, type WasmBackendLike, type WasmKernelArgs, WasmKernelModule } from '../wasmKernels';
import { views } from './heap';

interface SoftmaxExports {
  causalSoftmax(s: number, y: number, rows: number, T: number, S: number, scale: number): void;
  causalSoftmaxGrad(y: number, dy: number, ds: number, rows: number, T: number, S: number, scale: number): void;
}

const simd = new WasmKernelModule<SoftmaxExports>(WASM_BASE64);

/** Whether the SIMD module runs on the active backend (else JavaScript). */
export function softmaxSimdActive(): boolean {
  return simd.get() !== null;
}

function dims(x: tf.TensorInfo, name: string): [number, number, number] {
  if (x.shape.length < 2) throw new Error(`${name}: scores must have at least 2 axes, got [${x.shape}]`);
  const S = x.shape[x.shape.length - 1];
  const T = x.shape[x.shape.length - 2];
  if (T > S) throw new Error(`${name}: ${T} queries over ${S} keys: a causal mask needs T ≤ S`);
  return [tf.util.sizeFromShape(x.shape) / S, T, S];
}

/** Elements per part below which a call stays on one thread. */
const MIN_PART = 32_768;

/**
 * Rows split over the kernel threads in whole groups of T (the causal rule counts rows modulo T), each part's
 * arguments made by `args` from its first row and row count.
 */
function rowParts(backend: WasmBackendLike, rows: number, T: number, S: number, args: (r0: number, n: number) => number[]): number[][] {
  return splitRange(rows, simd.parts(backend), MIN_PART / S, T).map(([r0, r1]) => args(r0, r1 - r0));
}

/**
 * The causal softmax of `rows` rows of S scores at byte address x into y (which may be x), T queries per group
 * (see above), with the SIMD module split over the kernel threads; only where softmaxSimdActive.
 */
export function softmaxRows(backend: WasmBackendLike, x: number, y: number, rows: number, T: number, S: number, scale: number): void {
  simd.run(
    backend,
    'causalSoftmax',
    rowParts(backend, rows, T, S, (r0, n) => [x + 4 * r0 * S, y + 4 * r0 * S, n, T, S, scale]),
  );
}

function causalSoftmax({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo {
  const { scores } = inputs;
  const scale = Number(attrs?.scale ?? 1);
  const [rows, T, S] = dims(scores, 'CausalSoftmax');
  const out = backend.makeOutput(scores.shape, 'float32'); // scores' shape
  if (simd.on(backend)) {
    softmaxRows(backend, heapOffset(backend, scores), heapOffset(backend, out), rows, T, S, scale);
    return out;
  }
  const [X, Y] = views(backend, scores, out);
  for (let r = 0; r < rows; r++) {
    const base = r * S;
    const last = (r % T) + S - T;
    let mx = -Infinity;
    for (let j = 0; j <= last; j++) mx = Math.max(mx, X[base + j] * scale);
    let sum = 0;
    for (let j = 0; j <= last; j++) sum += Y[base + j] = Math.exp(X[base + j] * scale - mx);
    for (let j = 0; j < S; j++) Y[base + j] = j <= last ? Y[base + j] / sum : 0;
  }
  return out;
}

function causalSoftmaxGrad({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo {
  const { y, dy } = inputs;
  const scale = Number(attrs?.scale ?? 1);
  const [rows, T, S] = dims(y, 'CausalSoftmaxGrad');
  const out = backend.makeOutput(y.shape, 'float32'); // y's shape
  if (simd.on(backend)) {
    const [Y, DY, DS] = [heapOffset(backend, y), heapOffset(backend, dy), heapOffset(backend, out)];
    simd.run(
      backend,
      'causalSoftmaxGrad',
      rowParts(backend, rows, T, S, (r0, n) => [Y + 4 * r0 * S, DY + 4 * r0 * S, DS + 4 * r0 * S, n, T, S, scale]),
    );
    return out;
  }
  const [Y, DY, DS] = views(backend, y, dy, out);
  for (let r = 0; r < rows; r++) {
    const base = r * S;
    let dot = 0;
    for (let j = 0; j < S; j++) dot += DY[base + j] * Y[base + j];
    for (let j = 0; j < S; j++) DS[base + j] = scale * Y[base + j] * (DY[base + j] - dot);
  }
  return out;
}

export function registerAttention(): void {
  registerWasm([
    [FUSED.causalSoftmax, causalSoftmax],
    [FUSED.causalSoftmaxGrad, causalSoftmaxGrad],
  ]);
}
