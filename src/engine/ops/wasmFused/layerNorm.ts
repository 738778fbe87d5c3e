/**
 * LayerNorm on the wasm backend as one kernel forward and three backward (four with a bias): the kernels
 * and formulas of the WebGPU programs (src/worker/webgpu/layerNorm.ts),
 *
 *   μ = mean(x),  r = 1/√(mean((x − μ)²) + eps),  x̂ = (x − μ)·r,  y = x̂·w (+ b)
 *   dx = r · (g − mean(g) − x̂·mean(g·x̂)),  g = dy·w
 *   dw = Σ_rows dy·x̂,  db = Σ_rows dy
 *
 * Why: with the stock ops a LayerNorm is ~10 kernels forward and ~20 backward, each a pass over (N, C)
 * plus TF.js's bookkeeping per kernel — ~8 ms forward + backward at the baby size, nine times a step.
 * Rows whose width is a multiple of 4 run the SIMD module (kernels/layerNorm.wat); any other width, or an
 * engine without SIMD, a plain JavaScript loop with the same formulas.
 */
import * as tf from '../../tf';
import { FUSED } from '../fused';
import { WASM_BASE64 } from '../kernels/layerNorm.wasm';
import { heapBuffer, heapOffset, registerWasm, splitRange, type WasmBackendLike, type WasmKernelArgs, WasmKernelModule } from '../wasmKernels';
import { views } from './heap';

interface LayerNormExports {
  stats(x: number, s: number, N: number, C: number, eps: number): void;
  forward(x: number, w: number, b: number, y: number, s: number, N: number, C: number, eps: number): void;
  gradX(x: number, w: number, dy: number, s: number, dx: number, N: number, C: number): void;
  gradParam(x: number, dy: number, s: number, out: number, N: number, C: number, weight: number): void;
}

const simd = new WasmKernelModule<LayerNormExports>(WASM_BASE64);

/** Whether rows whose width is a multiple of 4 run the SIMD module on the active backend (else JavaScript). */
export function layerNormSimdActive(): boolean {
  return simd.get() !== null;
}

function rowsOf(x: tf.TensorInfo): [number, number] {
  const C = x.shape[x.shape.length - 1];
  if (x.shape.length < 1 || !C) throw new Error(`LayerNorm kernel: input of shape [${x.shape}] has no last axis`);
  return [tf.util.sizeFromShape(x.shape) / C, C];
}

/** The SIMD module where it can take rows of C floats on this backend, else null (the JavaScript path). */
function simdFor(backend: WasmBackendLike, C: number): LayerNormExports | null {
  return C % 4 === 0 ? simd.on(backend) : null;
}

const at = heapOffset;

/** Elements per part below which a call stays on one thread. */
const MIN_PART = 32_768;

/**
 * Rows [r0, r1) of N, split over the kernel threads, each part's arguments made by `args` (offsets advance by
 * r0 rows: r0·C floats in x-shaped tensors, r0 pairs in the statistics).
 */
function rowParts(backend: WasmBackendLike, N: number, C: number, args: (r0: number, rows: number) => number[]): number[][] {
  return splitRange(N, simd.parts(backend), Math.ceil(MIN_PART / C)).map(([r0, r1]) => args(r0, r1 - r0));
}

/** Mean and 1/σ of the row of x at base (the JavaScript path). */
function rowStats(x: Float32Array, base: number, C: number, eps: number, s: Float32Array, r: number): void {
  let sum = 0;
  for (let c = 0; c < C; c++) sum += x[base + c];
  const mean = sum / C;
  let v = 0;
  for (let c = 0; c < C; c++) v += (x[base + c] - mean) ** 2;
  s[2 * r] = mean;
  s[2 * r + 1] = 1 / Math.sqrt(v / C + eps);
}

function layerNormStats({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo {
  const { x } = inputs;
  const eps = Number(attrs?.eps ?? 1e-5);
  const [N, C] = rowsOf(x);
  const out = backend.makeOutput([N, 2], 'float32'); // (N, 2): mean, 1/σ per row
  const k = simdFor(backend, C);
  if (k) {
    const [X, S] = [at(backend, x), at(backend, out)];
    simd.run(
      backend,
      'stats',
      rowParts(backend, N, C, (r0, n) => [X + 4 * r0 * C, S + 8 * r0, n, C, eps]),
    );
    return out;
  }
  const [X, S] = views(backend, x, out);
  for (let r = 0; r < N; r++) rowStats(X, r * C, C, eps, S, r);
  return out;
}

/** y = LayerNorm(x) into `out`, the row statistics (mean, 1/σ) into `stats` (a heap address of N pairs). */
function forward(
  backend: WasmBackendLike,
  x: tf.TensorInfo,
  weight: tf.TensorInfo,
  bias: tf.TensorInfo | undefined,
  out: tf.TensorInfo,
  stats: number,
  eps: number,
): void {
  const [N, C] = rowsOf(x);
  if (tf.util.sizeFromShape(weight.shape) !== C || (bias && tf.util.sizeFromShape(bias.shape) !== C)) {
    throw new Error(`LayerNorm kernel: weight/bias must have ${C} elements`);
  }
  const k = simdFor(backend, C);
  if (k) {
    const [X, W, B, Y] = [at(backend, x), at(backend, weight), bias ? at(backend, bias) : 0, at(backend, out)];
    simd.run(
      backend,
      'forward',
      rowParts(backend, N, C, (r0, n) => [X + 4 * r0 * C, W, B, Y + 4 * r0 * C, stats + 8 * r0, n, C, eps]),
    );
    return;
  }
  const [X, W, Y, B] = views(backend, x, weight, out, ...(bias ? [bias] : []));
  const S = new Float32Array(heapBuffer(backend), stats, 2 * N);
  for (let r = 0; r < N; r++) {
    const base = r * C;
    rowStats(X, base, C, eps, S, r);
    for (let c = 0; c < C; c++) Y[base + c] = (X[base + c] - S[2 * r]) * S[2 * r + 1] * W[c] + (B ? B[c] : 0);
  }
}

/** The fused program ops/fused.ts names: y only (the statistics in scratch). */
function layerNorm({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo {
  const { x, weight, bias } = inputs;
  const out = backend.makeOutput(x.shape, 'float32'); // x's shape
  const stats = backend.wasm._malloc(8 * rowsOf(x)[0]); // scratch: (N, 2) row statistics
  try {
    forward(backend, x, weight, bias, out, stats, Number(attrs?.eps ?? 1e-5));
    return out;
  } finally {
    backend.wasm._free(stats);
  }
}

/**
 * wasm's own LayerNorm for training: y and the row statistics (N, 2) as a second output, which the gradient
 * keeps (registered below) instead of recomputing them with a kernel of its own, nine times a step at baby.
 */
function layerNormWithStats({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo[] {
  const { x, weight, bias } = inputs;
  const out = backend.makeOutput(x.shape, 'float32'); // x's shape
  const stats = backend.makeOutput([rowsOf(x)[0], 2], 'float32'); // (N, 2): mean, 1/σ per row
  forward(backend, x, weight, bias, out, at(backend, stats), Number(attrs?.eps ?? 1e-5));
  return [out, stats];
}

function layerNormGradX({ inputs, backend }: WasmKernelArgs): tf.TensorInfo {
  const { x, weight, dy, stats } = inputs;
  const [N, C] = rowsOf(x);
  const out = backend.makeOutput(x.shape, 'float32'); // x's shape
  const k = simdFor(backend, C);
  if (k) {
    const [X, W, DY, S, DX] = [at(backend, x), at(backend, weight), at(backend, dy), at(backend, stats), at(backend, out)];
    simd.run(
      backend,
      'gradX',
      rowParts(backend, N, C, (r0, n) => [X + 4 * r0 * C, W, DY + 4 * r0 * C, S + 8 * r0, DX + 4 * r0 * C, n, C]),
    );
    return out;
  }
  const [X, W, DY, S, DX] = views(backend, x, weight, dy, stats, out);
  for (let r = 0; r < N; r++) {
    const base = r * C;
    const [mean, rstd] = [S[2 * r], S[2 * r + 1]];
    let sg = 0;
    let sgx = 0;
    for (let c = 0; c < C; c++) {
      const g = DY[base + c] * W[c];
      sg += g;
      sgx += g * (X[base + c] - mean) * rstd;
    }
    for (let c = 0; c < C; c++) DX[base + c] = rstd * (DY[base + c] * W[c] - sg / C - (X[base + c] - mean) * rstd * (sgx / C));
  }
  return out;
}

/** Column sums over the rows: Σ dy·x̂ (what = 'weight') or Σ dy (what = 'bias'). */
function layerNormGradParam({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo {
  const { x, dy, stats } = inputs;
  const weight = attrs?.what !== 'bias';
  const [N, C] = rowsOf(x);
  const out = backend.makeOutput([C], 'float32'); // (C)
  const k = simdFor(backend, C);
  if (k) {
    simd.run(backend, 'gradParam', [[at(backend, x), at(backend, dy), at(backend, stats), at(backend, out), N, C, weight ? 1 : 0]]);
    return out;
  }
  const [X, DY, S, G] = views(backend, x, dy, stats, out);
  G.fill(0);
  for (let r = 0; r < N; r++) {
    const base = r * C;
    for (let c = 0; c < C; c++) G[c] += weight ? DY[base + c] * (X[base + c] - S[2 * r]) * S[2 * r + 1] : DY[base + c];
  }
  return out;
}

/** The kernel's name: wasm only (not a fused-program name: WebGPU's LayerNorm has one output). */
export const WASM_LAYER_NORM = 'SgpWasmLayerNorm';

export function registerLayerNorm(): void {
  // The gradient: only what the tape asks for (a frozen layer's weights are not), from the saved statistics.
  if (!tf.getGradient(WASM_LAYER_NORM)) {
    tf.registerGradient({
      kernelName: WASM_LAYER_NORM,
      inputsToSave: ['x', 'weight'],
      outputsToSave: [false, true],
      gradFunc: (dys, saved) => {
        const [x, weight, stats] = saved;
        const dy = (dys as tf.Tensor[])[0]; // y's (the statistics' is unused)
        const run = (name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}) => tf.engine().runKernel(name, inputs, attrs) as tf.Tensor;
        return {
          x: () => run(FUSED.layerNormGradX, { x, weight, dy, stats }), // x's shape
          weight: () => run(FUSED.layerNormGradParam, { x, dy, stats }, { what: 'weight' }), // (C)
          bias: () => run(FUSED.layerNormGradParam, { x, dy, stats }, { what: 'bias' }), // (C)
        };
      },
    });
  }
  registerWasm([
    [WASM_LAYER_NORM, layerNormWithStats],
    [FUSED.layerNorm, layerNorm],
    [FUSED.layerNormStats, layerNormStats],
    [FUSED.layerNormGradX, layerNormGradX],
    [FUSED.layerNormGradParam, layerNormGradParam],
  ]);
}
