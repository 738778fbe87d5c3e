/**
 * Causal multi-head self-attention, as nanoGPT's CausalSelfAttention.
 *
 * Shapes: B batch, T time, C = nEmbd, nh heads, hs = C / nh head size.
 */
import * as tf from '../tf';
import { dropout, linear } from './layers';
import { bmm } from '../ops/bmm';
import { FUSED, FUSED_WASM, hasFused, runFused } from '../ops/fused';
import { cachedAttention } from '../ops/wasmFused/cachedAttention';

export interface AttentionWeights {
  cAttnW: tf.Tensor; // (3C, C): rows are q, then k, then v
  cAttnB?: tf.Tensor; // (3C)
  cProjW: tf.Tensor; // (C, C)
  cProjB?: tf.Tensor; // (C)
}

/**
 * Additive causal mask: 0 where key position j ≤ query position i, -1e9 above the diagonal.
 * -1e9 rather than -Infinity: exp underflows to exactly 0 either way, and a finite value cannot
 * turn into NaN (-Inf − -Inf) inside the softmax.
 */
export function causalMask(T: number): tf.Tensor2D {
  const values = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) values[i * T + j] = -1e9;
  return tf.tensor2d(values, [T, T]); // (T, T)
}

/**
 * softmax(scale · att + mask) over the keys. att: (B, nh, T, S), mask: (T, S) as causalSelfAttention's.
 * Where the backend has the fused kernels, one each way with the scale folded in, and the mask is the
 * causal rule itself (key j visible to query i iff j ≤ i + S − T, which is what the mask holds).
 */
export function maskedSoftmax(att: tf.Tensor, mask: tf.Tensor2D, scale = 1): tf.Tensor {
  if (!hasFused(FUSED.causalSoftmax) || !hasFused(FUSED.causalSoftmaxGrad)) return maskedSoftmaxReference(att, mask, scale);
  const [T, S] = att.shape.slice(-2);
  if (mask.shape[0] !== T || mask.shape[1] !== S) throw new Error(`attention mask [${mask.shape}] does not fit scores [${att.shape}]`);
  return causalSoftmax(scale)(att);
}

/** The stock ops (and the reference the fused kernels are tested against). */
export function maskedSoftmaxReference(att: tf.Tensor, mask: tf.Tensor2D, scale = 1): tf.Tensor {
  const scaled = scale === 1 ? att : att.mul(scale); // (B, nh, T, S)
  return tf.softmax(scaled.add(mask), -1); // mask broadcasts over (B, nh)
}

function causalSoftmax(scale: number): (scores: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [scores, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const y = runFused(FUSED.causalSoftmax, { scores }, { scale }); // (B, nh, T, S)
    save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runFused(FUSED.causalSoftmaxGrad, { y: saved[0], dy }, { scale }), // (B, nh, T, S)
    };
  }) as (scores: tf.Tensor) => tf.Tensor;
}

/**
 * qkv (B, T, 3C) → q, k, v, each (B, nh, T, hs): nanoGPT's split + view + transpose. One copy where the
 * backend has the fused kernel (wasm: the stock split is a strided slice per output), else the stock ops.
 */
export function splitHeads(qkv: tf.Tensor3D, nHead: number): tf.Tensor4D[] {
  if (hasFused(FUSED.splitHeads) && hasFused(FUSED.mergeHeads)) {
    return runFused(FUSED.splitHeads, { qkv }, { nHead }) as unknown as tf.Tensor4D[]; // three outputs
  }
  const [B, T, C3] = qkv.shape;
  return tf.split(qkv, 3, 2).map(
    (t) => t.reshape([B, T, nHead, C3 / 3 / nHead]).transpose([0, 2, 1, 3]) as tf.Tensor4D, // (B, nh, T, hs)
  );
}

/**
 * Attention's output (B, nh, T, hs) → (B, T, C), heads side by side, as torch's y.transpose(1, 2).view(B, T, C):
 * one copy each way where the backend has the fused kernels, else a transpose and a reshape.
 */
export function headsToRows(y: tf.Tensor4D): tf.Tensor3D {
  const [B, nh, T, hs] = y.shape;
  if (hasFused(FUSED_WASM.headsToRows) && hasFused(FUSED_WASM.rowsToHeads)) return runFused(FUSED_WASM.headsToRows, { y }, { nHead: nh }); // (B, T, C)
  return y.transpose([0, 2, 1, 3]).reshape([B, T, nh * hs]); // (B, T, nh, hs) → (B, T, C)
}

if (!tf.getGradient(FUSED_WASM.headsToRows)) {
  tf.registerGradient({
    kernelName: FUSED_WASM.headsToRows,
    gradFunc: (dy, _saved, attrs) => ({ y: () => runFused(FUSED_WASM.rowsToHeads, { x: dy as tf.Tensor }, { nHead: (attrs as { nHead: number }).nHead }) }),
  });
}

// The fused head split's gradient, on any backend that has the pair: the inverse copy.
if (!tf.getGradient(FUSED.splitHeads)) {
  tf.registerGradient({
    kernelName: FUSED.splitHeads,
    gradFunc: (dy) => {
      const [q, k, v] = dy as tf.Tensor[];
      return { qkv: () => runFused(FUSED.mergeHeads, { q, k, v }) };
    },
  });
}

/** Keys and values of earlier positions, per layer (for sampling one token at a time). */
export interface LayerKV {
  k: tf.Tensor4D; // (B, nh, P, hs)
  v: tf.Tensor4D; // (B, nh, P, hs)
}

/** Sampling with a key/value cache: the earlier positions' keys and values, and where to put this call's. */
export interface AttentionCache {
  past: LayerKV | null;
  /**
   * Where past's keys and values are buffers of the whole context, (B, nh, blockSize, hs) (wasm): how many
   * positions they hold. The one new position is written into them in place (ops/wasmFused/cachedAttention.ts).
   */
  stored?: number;
  /** Receives this layer's keys and values over all positions so far (past + new), inside the caller's tidy. */
  present(kv: LayerKV): void;
}

/**
 * x: (B, T, C) → (B, T, C). `mask` is the causal mask of these T queries over all keys: causalMask(T),
 * cached by the caller, or with a cache of P earlier positions its rows P..P+T-1, (T, P+T).
 * dropoutSeeds: two seeds (attention weights, output) when training with dropout, else undefined.
 */
export function causalSelfAttention(
  x: tf.Tensor3D,
  w: AttentionWeights,
  nHead: number,
  mask: tf.Tensor2D,
  dropoutRate: number,
  dropoutSeeds?: [number, number],
  cache?: AttentionCache,
  /** Receives the attention weights (B, nh, T, T) — the softmax itself, inside the caller's tidy. */
  probe?: (att: tf.Tensor4D) => void,
  /** Only the last position's output, (B, 1, C): its query over every key (sampling's last block, below). */
  lastQuery = false,
): tf.Tensor3D {
  const [B, T, C] = x.shape;
  const hs = C / nHead;
  const qkv = linear(x, w.cAttnW, w.cAttnB) as tf.Tensor3D; // (B, T, 3C)
  let [q, k, v] = splitHeads(qkv, nHead); // each (B, nh, T, hs)
  if (lastQuery) {
    // The last query sees every key: one row of scores per head, no triangle, no dropout (sampling only).
    const qLast = q.slice([0, 0, T - 1, 0], [B, nHead, 1, hs]); // (B, nh, 1, hs)
    const att = maskedSoftmax(bmm(qLast, k, false, true), mask.slice([T - 1, 0], [1, T]), 1 / Math.sqrt(hs)); // (B, nh, 1, T)
    return linear(headsToRows(bmm(att, v) as tf.Tensor4D), w.cProjW, w.cProjB) as tf.Tensor3D; // (B, 1, C)
  }
  if (cache?.past && cache.stored !== undefined) {
    // One new position on buffers of the whole context: its keys and values written into them, no concatenation.
    const y = cachedAttention(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, cache.past.k, cache.past.v, cache.stored, 1 / Math.sqrt(hs)); // (B, nh, 1, hs)
    cache.present({ k: cache.past.k.clone(), v: cache.past.v.clone() }); // new handles on the same buffers
    return linear(headsToRows(y), w.cProjW, w.cProjB) as tf.Tensor3D; // (B, 1, C)
  }
  if (cache) {
    // Sampling: the new positions attend to every earlier one too, whose keys and values are cached.
    if (cache.past) {
      k = tf.concat([cache.past.k, k], 2); // (B, nh, P+T, hs)
      v = tf.concat([cache.past.v, v], 2); // (B, nh, P+T, hs)
    }
    cache.present({ k: k as tf.Tensor4D, v: v as tf.Tensor4D });
  }
  // Scaled dot product: (B, nh, T, hs) x (B, nh, hs, T) → (B, nh, T, T)   (T keys become P+T with a cache).
  // Causal: only the scores' lower triangle is read, and the weights are lower-triangular (bmm's Tri 1 and 2:
  // the wasm kernel skips the rest; with a cache of earlier positions the products are not square, and whole).
  let att = maskedSoftmax(bmm(q, k, false, true, 1), mask, 1 / Math.sqrt(hs)); // (B, nh, T, T)
  probe?.(att as tf.Tensor4D);
  att = dropout(att, dropoutRate, dropoutSeeds?.[0]);
  const y = headsToRows(bmm(att, v, false, false, 2) as tf.Tensor4D); // (B, nh, T, hs) → (B, T, C)
  return dropout(linear(y, w.cProjW, w.cProjB), dropoutRate, dropoutSeeds?.[1]) as tf.Tensor3D; // (B, T, C)
}
