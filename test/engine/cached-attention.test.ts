/**
 * Sampling's attention over a key/value cache held in buffers of the whole context (wasm,
 * src/engine/ops/wasmFused/cachedAttention.ts): against the stock ops on the cpu backend, on one thread and split
 * over two kernel threads; the buffers written only at the new position; and the model's decode using it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { cachedAttention, cachedAttentionActive, moveCacheRows } from '../../src/engine/ops/wasmFused/cachedAttention';
import { setWasmKernelsEnabled, wasmKernelThreads } from '../../src/engine/ops/wasmKernels';
import { disposeCache, GPT, moveRows, rowsMovable } from '../../src/engine/model/gpt';
import { useNodeBackend } from '../backends';
import { maxErr, randoms } from './numerics';
import { splitCalls } from './helpers';

afterAll(async () => {
  setWasmKernelsEnabled(true);
  await useNodeBackend('wasm');
});

interface Dims {
  B: number;
  nh: number;
  hs: number;
  Tmax: number;
}

/** softmax(scale·q·K[0..P]ᵀ)·V[0..P] with row P of K and V the new k and v, on the stock ops. */
function reference(
  d: Dims,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  kStore: Float32Array,
  vStore: Float32Array,
  P: number,
  scale: number,
): Float32Array {
  const shape = (T: number): [number, number, number, number] => [d.B, d.nh, T, d.hs];
  return tf.tidy(() => {
    const rows = (store: Float32Array, fresh: Float32Array) =>
      tf.concat([tf.tensor(store, shape(d.Tmax)).slice([0, 0, 0, 0], [-1, -1, P, -1]), tf.tensor(fresh, shape(1))], 2); // (B, nh, P+1, hs)
    const scores = tf.matMul(tf.tensor(q, shape(1)) as tf.Tensor4D, rows(kStore, k) as tf.Tensor4D, false, true).mul(scale); // (B, nh, 1, P+1)
    return tf.matMul(tf.softmax(scores), rows(vStore, v) as tf.Tensor4D).dataSync() as Float32Array; // (B, nh, 1, hs)
  });
}

// Small and odd (hs 5: the products' tails) on one thread; on two, enough work that each product splits (hs 6).
const SMALL: Dims = { B: 3, nh: 5, hs: 5, Tmax: 11 };
const LARGE: Dims = { B: 256, nh: 4, hs: 6, Tmax: 200 };

describe('attention over a key/value cache in buffers of the whole context', () => {
  it.each([
    [1, SMALL, 0],
    [1, SMALL, 4],
    [1, SMALL, 10],
    [2, LARGE, 190],
  ])('on %i thread(s) (%o), after %i positions: the stock ops’ values; the buffers written at that position only', async (threads, d, P) => {
    const shape = (T: number): [number, number, number, number] => [d.B, d.nh, T, d.hs];
    const [q, k, v, kStore, vStore] = [shape(1), shape(1), shape(1), shape(d.Tmax), shape(d.Tmax)].map((s, i) => randoms(s, 10 * P + i + 1));
    const scale = 0.41;
    await useNodeBackend('cpu');
    const want = reference(d, q, k, v, kStore, vStore, P, scale);
    await useNodeBackend('wasm', { threads });
    expect(wasmKernelThreads()).toBe(threads);
    expect(cachedAttentionActive()).toBe(true);
    const before = tf.memory().numTensors;
    const [ks, vs] = [tf.tensor(kStore, shape(d.Tmax)) as tf.Tensor4D, tf.tensor(vStore, shape(d.Tmax)) as tf.Tensor4D];
    let got: Float32Array = new Float32Array();
    const split = splitCalls(
      () =>
        (got = tf.tidy(() => {
          const t = (x: Float32Array) => tf.tensor(x, shape(1)) as tf.Tensor4D;
          return cachedAttention(t(q), t(k), t(v), ks, vs, P, scale).dataSync() as Float32Array;
        })),
    );
    expect(split).toBe(threads > 1 ? 3 : 0); // both products and the softmax
    expect(maxErr(got, want)).toBeLessThan(1e-5);
    // Row P of every head now holds the new key and value; every other row is as it was.
    for (const [after, was, fresh] of [
      [ks.dataSync(), kStore, k],
      [vs.dataSync(), vStore, v],
    ] as const) {
      let wrong = 0;
      for (let h = 0; h < d.B * d.nh; h++)
        for (let t = 0; t < d.Tmax; t++)
          for (let i = 0; i < d.hs; i++) {
            const at = (h * d.Tmax + t) * d.hs + i;
            if (after[at] !== (t === P ? fresh[h * d.hs + i] : was[at])) wrong++;
          }
      expect(wrong).toBe(0);
    }
    tf.dispose([ks, vs]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('moves rows within the buffers (their filled positions, every head) and attends with fewer rows than they hold', async () => {
    await useNodeBackend('wasm');
    const d: Dims = { B: 5, nh: 3, hs: 4, Tmax: 9 };
    const P = 6;
    const shape = (B: number, T: number): [number, number, number, number] => [B, d.nh, T, d.hs];
    const [kStore, vStore] = [1, 2].map((seed) => randoms(shape(d.B, d.Tmax), seed));
    const [ks, vs] = [tf.tensor(kStore, shape(d.B, d.Tmax)) as tf.Tensor4D, tf.tensor(vStore, shape(d.B, d.Tmax)) as tf.Tensor4D];
    const before = tf.memory().numTensors;
    // Rows 1 and 3 finished: row 4 fills hole 1, row 3 goes (fillHoles's moves for [0, 1, 2, 3, 4] minus 1 and 3).
    moveCacheRows([ks, vs], [[4, 1]], P);
    const rowOf = (x: Float32Array, b: number) => x.slice(b * d.nh * d.Tmax * d.hs, (b + 1) * d.nh * d.Tmax * d.hs);
    for (const [store, was] of [
      [ks, kStore],
      [vs, vStore],
    ] as const) {
      const now = store.dataSync() as Float32Array;
      for (const b of [0, 2, 3, 4]) expect(Array.from(rowOf(now, b)), `row ${b} untouched`).toEqual(Array.from(rowOf(was, b)));
      // Row 1: row 4's first P positions of every head; past P, its own (never read: the next position is written there).
      const moved = rowOf(now, 1);
      const [from, own] = [rowOf(was, 4), rowOf(was, 1)];
      for (let h = 0; h < d.nh; h++)
        for (let t = 0; t < d.Tmax; t++)
          for (let i = 0; i < d.hs; i++) {
            const at = (h * d.Tmax + t) * d.hs + i;
            expect(moved[at]).toBe(t < P ? from[at] : own[at]);
          }
    }
    // Three rows on buffers of five: the first three rows (0, 4 now at 1, 2), as the stock ops give them.
    const rows = [0, 4, 2];
    const pick = (x: Float32Array) => {
      const per = d.nh * d.Tmax * d.hs;
      const out = new Float32Array(rows.length * per);
      rows.forEach((b, r) => out.set(x.subarray(b * per, (b + 1) * per), r * per));
      return out;
    };
    const [q, k, v] = [3, 4, 5].map((seed) => randoms(shape(rows.length, 1), seed));
    const small: Dims = { ...d, B: rows.length };
    const want = reference(small, q, k, v, pick(kStore), pick(vStore), P, 0.5);
    const got = tf.tidy(() => {
      const t = (x: Float32Array) => tf.tensor(x, shape(rows.length, 1)) as tf.Tensor4D;
      return cachedAttention(t(q), t(k), t(v), ks, vs, P, 0.5).dataSync() as Float32Array;
    });
    expect(maxErr(got, want)).toBeLessThan(1e-5);
    expect(() => moveCacheRows([ks], [[5, 0]], P)).toThrow(/row 5 → 0 of 5/);
    tf.dispose([ks, vs]);
    expect(tf.memory().numTensors).toBe(before - 2);
  });

  it('lets the model move a cache’s rows only where it lives in buffers of the whole context', async () => {
    const model = GPT.create({ vocabSize: 13, blockSize: 12, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true }, 3);
    const first = model.decode(
      tf.tensor2d(
        [
          [1, 2],
          [3, 4],
        ],
        [2, 2],
        'int32',
      ),
      null,
    );
    expect(rowsMovable(first.cache)).toBe(true);
    // The second row, moved into the first, then decoded alone: the logits the second row gets on its own.
    moveRows(first.cache, [[1, 0]]);
    const next = model.decode(tf.tensor2d([[5]], [1, 1], 'int32'), first.cache);
    const alone = model.lastLogits(tf.tensor2d([[3, 4, 5]], [1, 3], 'int32'));
    expect(maxErr(next.logits.dataSync() as Float32Array, alone.dataSync() as Float32Array)).toBeLessThan(1e-5);
    tf.dispose([first.logits, next.logits, alone]);
    disposeCache(next.cache);
    disposeCache(first.cache);
    // Concatenated caches (the stock ops) keep their rows.
    setWasmKernelsEnabled(false);
    try {
      const stock = model.decode(tf.tensor2d([[1, 2]], [1, 2], 'int32'), null);
      expect(rowsMovable(stock.cache)).toBe(false);
      expect(() => moveRows(stock.cache, [[0, 0]])).toThrow(/buffers of the whole context/);
      tf.dispose(stock.logits);
      disposeCache(stock.cache);
    } finally {
      setWasmKernelsEnabled(true);
    }
    model.dispose();
  });

  it('is what the model’s decode runs for one new position on wasm (no concatenation), and not with the kernels off', async () => {
    await useNodeBackend('wasm');
    const model = GPT.create({ vocabSize: 13, blockSize: 12, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true }, 3);
    const kernelsOfStep = async () => {
      const first = model.decode(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'), null);
      const x = tf.tensor2d([[4]], [1, 1], 'int32');
      const info = await tf.profile(() => {
        const r = model.decode(x, first.cache);
        disposeCache(r.cache);
        return r.logits;
      });
      tf.dispose([x, first.logits, info.result as tf.Tensor]);
      disposeCache(first.cache);
      return info.kernels.map((k) => k.name);
    };
    const names = await kernelsOfStep();
    expect(names.filter((n) => n === 'SgpCachedAttention')).toHaveLength(2); // one per layer
    expect(names).not.toContain('Concat');
    setWasmKernelsEnabled(false);
    try {
      const stock = await kernelsOfStep();
      expect(stock).not.toContain('SgpCachedAttention');
      expect(stock).toContain('Concat');
    } finally {
      setWasmKernelsEnabled(true);
    }
    model.dispose();
  });
});
