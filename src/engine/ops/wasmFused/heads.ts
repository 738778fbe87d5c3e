/**
 * Attention's heads on the wasm backend, as copies (kernels/heads.wat; a JavaScript loop where the engine has
 * no SIMD):
 *
 *   split   (B, T, 3C) → q, k, v, each (B, nh, T, hs):  q[b, h, t, i] = qkv[b, t, 0·C + h·hs + i], k: 1·C + …
 *   merge   its inverse (the gradient): dq, dk, dv → (B, T, 3C)
 *   toRows  attention's output (B, nh, T, hs) → (B, T, C), heads side by side (torch's y.transpose(1, 2).view)
 *   toHeads its inverse (the gradient)
 *
 * The stock ops take a split along the last axis (a strided slice per output, each reading the whole input
 * back from the heap first: ~2 ms at the baby size), then a reshape and a transpose per output; backward a
 * transpose each and a concat; toRows is a transpose and a reshape each way.
 */
import * as tf from '../../tf';
import { FUSED, FUSED_WASM } from '../fused';
import { views } from './heap';
import { WASM_BASE64 } from '../kernels/heads.wasm';
import { heapOffset, registerWasm, splitRange, type WasmBackendLike, type WasmKernelArgs, WasmKernelModule } from '../wasmKernels';

interface HeadsExports {
  copyHeads(rows: number, heads: number, B: number, T: number, nh: number, hs: number, W: number, offset: number, toHeads: number): void;
  copyRows(src: number, dst: number, rows: number, n: number, srcStride: number, dstStride: number): void;
}

const simd = new WasmKernelModule<HeadsExports>(WASM_BASE64);

/** Whether the SIMD module runs on the active backend (copyRows has no JavaScript path). */
export function headsSimdActive(): boolean {
  return simd.get() !== null;
}

/**
 * `rows` rows of n floats from byte address src to dst, row r at src + 4·r·srcStride and dst + 4·r·dstStride:
 * one call, on this thread (small copies: a position's keys or values); only where headsSimdActive.
 */
export function copyRows(backend: WasmBackendLike, src: number, dst: number, rows: number, n: number, srcStride: number, dstStride: number): void {
  simd.run(backend, 'copyRows', [[src, dst, rows, n, srcStride, dstStride]]);
}

/** Floats per part below which a copy stays on one thread. */
const MIN_PART = 65_536;

/**
 * Copy between `rows` (B, T, W) at `offset` floats into each row and `heads` (B, nh, T, hs), in the direction
 * asked: the SIMD module split over the kernel threads by batch, else a JavaScript loop.
 */
function copy(backend: WasmBackendLike, rows: tf.TensorInfo, heads: tf.TensorInfo, nh: number, offset: number, toHeads: boolean): void {
  const [B, , T, hs] = heads.shape;
  const W = rows.shape[2];
  if (simd.on(backend)) {
    const [R, H] = [heapOffset(backend, rows), heapOffset(backend, heads)];
    const parts = splitRange(B, simd.parts(backend), MIN_PART / (T * nh * hs)).map(([b0, b1]) => [
      R + 4 * b0 * T * W,
      H + 4 * b0 * nh * T * hs,
      b1 - b0,
      T,
      nh,
      hs,
      W,
      offset,
      toHeads ? 1 : 0,
    ]);
    simd.run(backend, 'copyHeads', parts);
    return;
  }
  const [X, P] = views(backend, rows, heads);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      for (let t = 0; t < T; t++) {
        const r = (b * T + t) * W + offset + h * hs; // rows[b, t, offset + h·hs]
        const q = ((b * nh + h) * T + t) * hs; // heads[b, h, t, 0]
        if (toHeads) for (let i = 0; i < hs; i++) P[q + i] = X[r + i];
        else for (let i = 0; i < hs; i++) X[r + i] = P[q + i];
      }
    }
  }
}

function dims(shape: number[], nHead: number): [number, number, number, number] {
  if (shape.length !== 3 || shape[2] % (3 * nHead) !== 0) throw new Error(`SplitHeads: [${shape}] is not (B, T, 3C) with C a multiple of ${nHead} heads`);
  const [B, T, C3] = shape;
  return [B, T, C3 / 3, C3 / 3 / nHead];
}

function splitHeads({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo[] {
  const { qkv } = inputs;
  const nHead = Number(attrs?.nHead);
  const [B, T, C, hs] = dims(qkv.shape, nHead);
  const outs = [0, 1, 2].map(() => backend.makeOutput([B, nHead, T, hs], 'float32')); // each (B, nh, T, hs)
  outs.forEach((part, p) => copy(backend, qkv, part, nHead, p * C, true));
  return outs;
}

function mergeHeads({ inputs, backend }: WasmKernelArgs): tf.TensorInfo {
  const { q, k, v } = inputs;
  const [B, nh, T, hs] = q.shape;
  const C = nh * hs;
  const out = backend.makeOutput([B, T, 3 * C], 'float32'); // (B, T, 3C)
  [q, k, v].forEach((part, p) => copy(backend, out, part, nh, p * C, false));
  return out;
}

function headsToRows({ inputs, backend }: WasmKernelArgs): tf.TensorInfo {
  const { y } = inputs;
  const [B, nh, T, hs] = y.shape;
  const out = backend.makeOutput([B, T, nh * hs], 'float32'); // (B, T, C)
  copy(backend, out, y, nh, 0, false);
  return out;
}

function rowsToHeads({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo {
  const { x } = inputs;
  const nHead = Number(attrs?.nHead);
  const [B, T, C] = x.shape;
  const out = backend.makeOutput([B, nHead, T, C / nHead], 'float32'); // (B, nh, T, hs)
  copy(backend, x, out, nHead, 0, true);
  return out;
}

export function registerHeads(): void {
  registerWasm([
    [FUSED.splitHeads, splitHeads],
    [FUSED.mergeHeads, mergeHeads],
    [FUSED_WASM.headsToRows, headsToRows],
    [FUSED_WASM.rowsToHeads, rowsToHeads],
  ]);
}
