/**
 * Sampling's attention for one new position with a key/value cache held in buffers of the whole context, on the
 * wasm backend: one kernel that writes the new keys and values into their row of the buffers and attends over
 * the P + 1 positions held there.
 *
 *   kStore[b, h, P] = k[b, h, 0],  vStore[b, h, P] = v[b, h, 0]
 *   y[b, h, 0] = softmax(scale · q[b, h, 0] · kStore[b, h, 0..P]ᵀ) · vStore[b, h, 0..P]        (B, nh, 1, hs)
 *
 * Why: with TF.js's tensors, which cannot grow, each position's cache is the last one concatenated with the new
 * keys and values: the whole cache copied, per layer, per position (~20 % of the lesson's scoring). Here the
 * cache is written, one row per head, into buffers made once per reply; the products read its first P + 1 rows
 * in place (bmm's gemv with a batch stride) and the softmax is the causal one with every key visible.
 *
 * The one kernel that writes into an input: the buffers, which only the model's `decode` makes and hands on
 * (each position's cache holds new handles on the same buffers; the old cache is only disposed). No gradient:
 * sampling records no tape.
 */
import * as tf from '../../tf';
import { bmmKernelActive, runBmm } from '../bmm';
import { heapOffset, registerWasm, type WasmBackendLike, type WasmKernelArgs } from '../wasmKernels';
import { copyRows, headsSimdActive } from './heads';
import { softmaxRows, softmaxSimdActive } from './attention';

const KERNEL = 'SgpCachedAttention';

function cachedAttentionKernel({ inputs, backend: be, attrs }: WasmKernelArgs): tf.TensorInfo {
  const { q, k, v, kStore, vStore } = inputs;
  const P = Number(attrs?.length);
  const scale = Number(attrs?.scale);
  const [B, nh, T, hs] = q.shape;
  const Tmax = kStore.shape[2];
  if (T !== 1 || !(P >= 0 && P < Tmax)) throw new Error(`CachedAttention: one new position after ${P} of ${Tmax}, got ${T}`);
  // The buffers may hold more rows than the batch (rows of finished replies dropped, moveCacheRows): the first B.
  if (kStore.shape[0] < B) throw new Error(`CachedAttention: ${B} rows on buffers of ${kStore.shape[0]}`);
  const BH = B * nh;
  const S = P + 1;
  const y = be.makeOutput([B, nh, 1, hs], 'float32'); // (B, nh, 1, hs)
  const [K, V] = [heapOffset(be, kStore), heapOffset(be, vStore)];
  // The new position's keys and values into row P of every head's buffers.
  copyRows(be, heapOffset(be, k), K + 4 * P * hs, BH, hs, hs, Tmax * hs);
  copyRows(be, heapOffset(be, v), V + 4 * P * hs, BH, hs, hs, Tmax * hs);
  const scores = be.wasm._malloc(8 * BH * S); // scores (BH, S), then the weights (BH, S)
  try {
    const weights = scores + 4 * BH * S;
    // q · kᵀ over the first S rows: (BH, 1, hs)·(BH, hs, S), kStore's rows hs apart and its heads Tmax·hs
    runBmm(be, { batch: BH, M: 1, N: S, K: hs, a: heapOffset(be, q), sAi: hs, sAk: 1, b: K, sBk: 1, sBj: hs, c: scores, tri: 0, sBb: Tmax * hs });
    softmaxRows(be, scores, weights, BH, 1, S, scale); // one query: every key visible
    // weights · v: (BH, 1, S)·(BH, S, hs)
    runBmm(be, { batch: BH, M: 1, N: hs, K: S, a: weights, sAi: S, sAk: 1, b: V, sBk: hs, sBj: 1, c: heapOffset(be, y), tri: 0, sBb: Tmax * hs });
  } finally {
    be.wasm._free(scores);
  }
  return y;
}

export function registerCachedAttention(): void {
  registerWasm([[KERNEL, cachedAttentionKernel]]);
}

/** Whether the kernel runs on the active backend: wasm with the SIMD modules it calls. */
export function cachedAttentionActive(): boolean {
  return bmmKernelActive() && softmaxSimdActive() && headsSimdActive();
}

/**
 * Attention of one new position (q, k, v: (B, nh, 1, hs)) over the `length` positions already in kStore and
 * vStore ((B, nh, Tmax, hs), length < Tmax) and itself, after writing k and v into row `length` of the buffers.
 * → (B, nh, 1, hs). Only where cachedAttentionActive.
 */
export function cachedAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  kStore: tf.Tensor4D,
  vStore: tf.Tensor4D,
  length: number,
  scale: number,
): tf.Tensor4D {
  return tf.engine().runKernel(KERNEL, { q, k, v, kStore, vStore }, { length, scale }) as tf.Tensor4D;
}

/**
 * Move rows of key/value buffers ((R, nh, Tmax, hs), as cachedAttention takes them) within themselves: for each
 * [from, to] in order, the first `length` positions of every head of row `from` into row `to`. Sampling drops the
 * rows of finished replies this way, filling each hole with the last row still running (a few rows' copies, where
 * gathering the rows still running into new buffers would copy them all: measured 2.3–4.1× slower than keeping
 * the finished rows). The batch then runs on the first rows of the buffers. Like the kernel above, it writes into
 * buffers that only the model's `decode` makes and every handle of which shares; only where cachedAttentionActive.
 */
export function moveCacheRows(stores: tf.Tensor4D[], moves: [number, number][], length: number): void {
  if (!moves.length) return;
  const be = tf.backend() as unknown as WasmBackendLike;
  for (const store of stores) {
    const [R, nh, Tmax, hs] = store.shape;
    if (!(length >= 0 && length <= Tmax)) throw new Error(`moveCacheRows: ${length} positions of ${Tmax}`);
    const base = heapOffset(be, store);
    const row = 4 * nh * Tmax * hs; // bytes from one row to the next
    for (const [from, to] of moves) {
      if (!(from >= 0 && from < R && to >= 0 && to < R)) throw new Error(`moveCacheRows: row ${from} → ${to} of ${R}`);
      copyRows(be, base + from * row, base + to * row, nh, length * hs, Tmax * hs, Tmax * hs); // (nh, length, hs)
    }
  }
}
