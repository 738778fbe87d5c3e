/**
 * Attention's heads on the wasm backend: (B, T, 3C) → q, k, v, each (B, nh, T, hs), as one copy, and the
 * inverse copy for the gradient. The stock ops take a split along the last axis (a strided slice per
 * output, each reading the whole input back from the heap first: ~2 ms at the baby size), then a reshape
 * and a transpose per output; backward a transpose each and a concat.
 *
 *   q[b, h, t, i] = qkv[b, t, 0·C + h·hs + i],  k: 1·C + …,  v: 2·C + …
 */
import * as tf from '../../tf';
import { FUSED } from '../fused';
import { views } from './heap';
import { registerWasm, type WasmKernelArgs } from '../wasmKernels';

function dims(shape: number[], nHead: number): [number, number, number, number] {
  if (shape.length !== 3 || shape[2] % (3 * nHead) !== 0) throw new Error(`SplitHeads: [${shape}] is not (B, T, 3C) with C a multiple of ${nHead} heads`);
  const [B, T, C3] = shape;
  return [B, T, C3 / 3, C3 / 3 / nHead];
}

/** Copies between qkv (B, T, 3C) and the three (B, nh, T, hs) tensors, in the direction asked. */
function copyHeads(qkv: Float32Array, parts: Float32Array[], B: number, T: number, C: number, hs: number, split: boolean): void {
  const nh = C / hs;
  for (let p = 0; p < 3; p++) {
    const part = parts[p];
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < nh; h++) {
        for (let t = 0; t < T; t++) {
          const src = (b * T + t) * 3 * C + p * C + h * hs; // qkv[b, t, p·C + h·hs]
          const dst = ((b * nh + h) * T + t) * hs; // part[b, h, t, 0]
          if (split) for (let i = 0; i < hs; i++) part[dst + i] = qkv[src + i];
          else for (let i = 0; i < hs; i++) qkv[src + i] = part[dst + i];
        }
      }
    }
  }
}

function splitHeads({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo[] {
  const { qkv } = inputs;
  const nHead = Number(attrs?.nHead);
  const [B, T, C, hs] = dims(qkv.shape, nHead);
  const outs = [0, 1, 2].map(() => backend.makeOutput([B, nHead, T, hs], 'float32')); // each (B, nh, T, hs)
  const [X, ...parts] = views(backend, qkv, ...outs);
  copyHeads(X, parts, B, T, C, hs, true);
  return outs;
}

function mergeHeads({ inputs, backend }: WasmKernelArgs): tf.TensorInfo {
  const { q, k, v } = inputs;
  const [B, nh, T, hs] = q.shape;
  const C = nh * hs;
  const out = backend.makeOutput([B, T, 3 * C], 'float32'); // (B, T, 3C)
  const [X, ...parts] = views(backend, out, q, k, v);
  copyHeads(X, parts, B, T, C, hs, false);
  return out;
}

export function registerHeads(): void {
  registerWasm([
    [FUSED.splitHeads, splitHeads],
    [FUSED.mergeHeads, mergeHeads],
  ]);
}
