import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { bmm, bmmKernelActive, bmmPartCount, bmmParts, splitAxis, type Product } from '../../src/engine/ops/bmm';
import { relaxedSimdSupported, setWasmFma, setWasmKernelsEnabled, wasmFmaActive } from '../../src/engine/ops/wasmKernels';
import { createRng } from '../../src/engine/random';
import { useNodeBackend } from '../backends';

afterAll(() => useNodeBackend('wasm'));

type Case = { batch: number[]; M: number; N: number; K: number; tA: boolean; tB: boolean };

/** Random shapes: odd sizes (not multiples of 4 or 8), batch 1, none and many, every transpose combination. */
function cases(): Case[] {
  const rng = createRng(7);
  const out: Case[] = [];
  const batches = [[], [1], [5], [2, 3], [12, 4]];
  const sizes: Array<[number, number, number]> = [
    [1, 1, 1],
    [4, 8, 16],
    [64, 32, 64],
    [64, 64, 32],
    // one row of A (sampling with a key/value cache): the gemv path, B's columns (tB) or rows contiguous, tails
    [1, 77, 32],
    [1, 32, 77],
    [1, 7, 13],
    [1, 13, 5],
    [1, 128, 128],
  ];
  for (let n = 0; n < 12; n++) sizes.push([1 + rng.int(70), 1 + rng.int(70), 1 + rng.int(70)]);
  let i = 0;
  for (const [M, N, K] of sizes)
    for (const tA of [false, true]) for (const tB of [false, true]) out.push({ batch: batches[i++ % batches.length], M, N, K, tA, tB });
  return out;
}

function operands(c: Case, seed: number): [tf.Tensor, tf.Tensor] {
  const aShape = [...c.batch, ...(c.tA ? [c.K, c.M] : [c.M, c.K])];
  const bShape = [...c.batch, ...(c.tB ? [c.N, c.K] : [c.K, c.N])];
  return [tf.randomNormal(aShape, 0, 1, 'float32', seed), tf.randomNormal(bShape, 0, 1, 'float32', seed + 1)];
}

/** Reference values on the cpu backend: the product and the bound Σk |a_ik||b_kj| for its rounding error. */
async function reference(c: Case, seed: number): Promise<{ value: Float32Array; scale: Float32Array }> {
  await useNodeBackend('cpu');
  const [a, b] = operands(c, seed);
  const value = tf.matMul(a, b, c.tA, c.tB);
  const scale = tf.matMul(a.abs(), b.abs(), c.tA, c.tB);
  const out = { value: value.dataSync() as Float32Array, scale: scale.dataSync() as Float32Array };
  tf.dispose([a, b, value, scale, ...[]]);
  return out;
}

function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  return worst;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, scale: ArrayLike<number>, rel: number): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (scale[i] + 1e-30));
  expect(worst).toBeLessThanOrEqual(rel);
}

describe('splitting a product over threads (pure)', () => {
  // x·Wᵀ (linear forward), dy·W (its input gradient), dyᵀ·x (its weight gradient), at sampling's and training's rows
  const linear = (M: number, N: number, K: number) => ({ M, N, K, sAi: K, sAk: 1, sBj: K });
  const gradX = (M: number, N: number, K: number) => ({ M, N, K, sAi: K, sAk: 1, sBj: 1 });
  const gradW = (M: number, N: number, K: number) => ({ M, N, K, sAi: 1, sAk: M, sBj: 1 });

  it('splits by columns where every row part would pack all of B again, by rows where a transposed A is the larger', () => {
    expect(splitAxis(linear(128, 384, 128))).toBe('columns'); // B = Wᵀ read through strides: packed
    expect(splitAxis(gradX(768, 128, 512))).toBe('columns'); // row-major B, but large: packed
    expect(splitAxis(gradW(512, 128, 768))).toBe('rows'); // A = dyᵀ (512 × 768) packed, larger than B
    expect(splitAxis(gradW(128, 512, 768))).toBe('columns');
    expect(splitAxis(gradX(64, 32, 64))).toBe('rows'); // row-major B of 2,048 floats: read in place, nothing packed
    // Columns only where their panels can feed every thread, or rows could not either
    expect(splitAxis(linear(768, 24, 128), 2)).toBe('columns'); // 3 panels for 2 threads
    expect(splitAxis(linear(768, 24, 128), 4)).toBe('rows'); // 3 panels for 4 threads: 192 row tiles
    expect(splitAxis(linear(8, 24, 128), 4)).toBe('columns'); // 3 panels, 2 row tiles
  });

  it('cuts columns on whole panels of 8, each part reading its columns of B and writing its columns of C', () => {
    const p: Product = { batch: 1, M: 301, N: 45, K: 131, a: 1000, sAi: 131, sAk: 1, b: 9000, sBk: 1, sBj: 131, c: 50_000, tri: 0 };
    expect(bmmPartCount(1, 301, 45, 131, 2, 0, undefined, 'columns')).toBe(2);
    expect(bmmPartCount(1, 301, 45, 131, 16, 0, undefined, 'columns')).toBe(3); // no part under 2^20 flops
    expect(bmmPartCount(1, 3001, 45, 131, 16, 0, undefined, 'columns')).toBe(6); // 6 panels
    const [first, second] = bmmParts(p, 0, 100, 2, 'columns');
    //              batch M    N   K    a     sAi sAk b                  sBk sBj  c                 work tri ldc
    expect(first).toEqual([1, 301, 24, 131, 1000, 131, 1, 9000, 1, 131, 50_000, 0, 0, 45]);
    expect(second).toEqual([1, 301, 21, 131, 1000, 131, 1, 9000 + 4 * 24 * 131, 1, 131, 50_000 + 4 * 24, 100, 0, 45]);
    // by rows: whole tiles of 4, all of B, C's rows
    const rows = bmmParts(p, 0, 100, 2, 'rows');
    expect(rows.map((r) => [r[1], r[4], r[10]])).toEqual([
      [152, 1000, 50_000], // 38 of the 76 tiles
      [149, 1000 + 4 * 152 * 131, 50_000 + 4 * 152 * 45],
    ]);
  });
});

describe('bmm on the wasm backend (SIMD kernel)', () => {
  it('runs the SIMD kernel on wasm, not TF.js BatchMatMul', async () => {
    await useNodeBackend('wasm');
    expect(bmmKernelActive()).toBe(true);
    const [a, b] = operands({ batch: [2], M: 5, N: 6, K: 7, tA: false, tB: true }, 1);
    const info = await tf.profile(() => bmm(a, b, false, true));
    expect(info.kernels.map((k) => k.name)).toEqual(['SgpBatchMatMul']);
    tf.dispose([a, b, info.result as tf.Tensor]);
  });

  it.each(
    cases().flatMap((c) =>
      [true, false].map(
        (fma) => [`${fma ? 'fused multiply-add' : 'plain SIMD'}, ${JSON.stringify(c.batch)} M${c.M} N${c.N} K${c.K} tA=${c.tA} tB=${c.tB}`, c, fma] as const,
      ),
    ),
  )('matches tf.matMul on cpu to 1e-5 relative: %s', async (_, c, fma) => {
    const want = await reference(c, 11);
    await useNodeBackend('wasm');
    setWasmFma(fma);
    try {
      const [a, b] = operands(c, 11);
      const got = bmm(a, b, c.tA, c.tB);
      expect(got.shape).toEqual([...c.batch, c.M, c.N]);
      expectClose(got.dataSync(), want.value, want.scale, 1e-5);
      tf.dispose([a, b, got]);
    } finally {
      setWasmFma(true);
    }
  });

  it('runs the fused multiply-add variant where the engine has relaxed SIMD (Node: the flag cli/backend.ts sets)', async () => {
    await useNodeBackend('wasm');
    expect(relaxedSimdSupported()).toBe(true);
    expect(wasmFmaActive()).toBe(true);
    // One rounding per multiply-add instead of two: over K = 512 some sums differ in their last bits.
    const [a, b] = operands({ batch: [], M: 16, N: 16, K: 512, tA: false, tB: false }, 21);
    const fused = bmm(a, b).dataSync();
    setWasmFma(false);
    try {
      expect(wasmFmaActive()).toBe(false);
      const plain = bmm(a, b).dataSync();
      expect(Array.from(fused)).not.toEqual(Array.from(plain));
      expect(maxAbsDiff(fused, plain)).toBeLessThan(1e-3);
    } finally {
      setWasmFma(true);
    }
    tf.dispose([a, b]);
  });

  it.each([
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ])('gradients match TF.js matMul gradients (transposeA=%s, transposeB=%s)', async (tA, tB) => {
    await useNodeBackend('wasm');
    const c: Case = { batch: [3, 2], M: 13, N: 7, K: 9, tA, tB };
    const [a, b] = operands(c, 3);
    const w = tf.randomNormal([...c.batch, c.M, c.N], 0, 1, 'float32', 5); // a weighted sum: dy is not all ones
    const loss = (f: typeof bmm) => (x: tf.Tensor, y: tf.Tensor) => f(x, y, tA, tB).mul(w).sum();
    const before = tf.memory().numTensors;
    const mine = tf.grads(loss(bmm))([a, b]);
    const theirs = tf.grads(loss((x, y, ta, tb) => tf.matMul(x, y, ta, tb)))([a, b]);
    expect(tf.memory().numTensors).toBe(before + 4); // only the four gradients stay
    for (let i = 0; i < 2; i++) {
      expect(mine[i].shape).toEqual(theirs[i].shape);
      const want = theirs[i].dataSync();
      const scale = new Float32Array(want.length).fill(tf.max(theirs[i].abs()).dataSync()[0]);
      expectClose(mine[i].dataSync(), want, scale, 1e-5);
    }
    tf.dispose([a, b, w, ...mine, ...theirs]);
  });

  it.each([13, 64])('triangular products (causal attention, T = %i) equal matMul where wanted, with their gradients', async (T) => {
    await useNodeBackend('wasm');
    const hs = 8;
    const lower = tf.linalg.bandPart(tf.ones([T, T]), -1, 0); // 1 on and below the diagonal
    const [q, k, v] = [1, 2, 3].map((seed) => tf.randomNormal([3, T, hs], 0, 1, 'float32', seed));
    const att = tf.randomNormal([3, T, T], 0, 1, 'float32', 4).mul(lower); // lower-triangular weights
    const w = tf.randomNormal([3, T, T], 0, 1, 'float32', 5);
    const wv = tf.randomNormal([3, T, hs], 0, 1, 'float32', 6);
    const close = (got: tf.Tensor, want: tf.Tensor, what: string) => expect(tf.max(tf.abs(got.sub(want))).dataSync()[0], what).toBeLessThan(1e-4);
    // 1: scores q·kᵀ, only the lower triangle wanted; above it, the product or 0 (skipped tiles), never garbage
    const s = bmm(q, k, false, true, 1);
    const full = tf.matMul(q, k, false, true);
    close(s.mul(lower), full.mul(lower), 'scores');
    const above = s.dataSync();
    const want = full.dataSync();
    for (let i = 0; i < above.length; i++) if (above[i] !== 0) expect(Math.abs(above[i] - want[i])).toBeLessThan(1e-4);
    // 2: weights·v with lower-triangular weights
    close(bmm(att, v, false, false, 2), tf.matMul(att, v), 'weights·v');
    // 3: an upper-triangular op(A) (the weights transposed)
    close(bmm(att, v, true, false, 3), tf.matMul(att, v, true, false), 'weightsᵀ·v');
    // Gradients as attention uses them: of the scores' lower triangle, and of weights·v (weights' on their lower triangle)
    const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) => bmm(a, b, false, true, 1).mul(lower).mul(w).sum())([q, k]);
    const theirs = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, false, true).mul(lower).mul(w).sum())([q, k]);
    ours.forEach((g, i) => close(g, theirs[i], `scores d${'qk'[i]}`));
    const [dAtt, dV] = tf.grads((a: tf.Tensor, b: tf.Tensor) => bmm(a, b, false, false, 2).mul(wv).sum())([att, v]);
    const [dAtt0, dV0] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b).mul(wv).sum())([att, v]);
    close(dAtt.mul(lower), dAtt0.mul(lower), 'd weights (lower)');
    close(dV, dV0, 'dv');
    tf.dispose([lower, q, k, v, att, w, wv, s, full, ...ours, ...theirs, dAtt, dV, dAtt0, dV0]);
  });

  it('leaks neither tensors nor wasm heap over many calls, forward and backward', async () => {
    await useNodeBackend('wasm');
    const [a, b] = operands({ batch: [12, 4], M: 64, N: 64, K: 32, tA: false, tB: true }, 9);
    const step = () => tf.tidy(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => bmm(x, y, false, true).square().sum())([a, b]));
    tf.dispose(step()); // warm-up: the heap reaches its working size
    const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) tf.dispose(step());
    expect(tf.memory().numTensors).toBe(tensors);
    expect((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength).toBe(heap);
    tf.dispose([a, b]);
  });

  it('falls back to tf.matMul for broadcast batches, other dtypes and other backends, with its errors', async () => {
    await useNodeBackend('wasm');
    const a = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
    const b = tf.randomNormal([4, 5], 0, 1, 'float32', 2);
    expect(Array.from(bmm(a, b.expandDims(0)).dataSync())).toEqual(Array.from(tf.matMul(a, b.expandDims(0)).dataSync()));
    expect(() => bmm(a, tf.ones([2, 5, 4]))).toThrow(/inner shapes/);
    // Switched off, the same product is tf.matMul's own, bit for bit.
    const [p, q] = operands({ batch: [3], M: 6, N: 5, K: 4, tA: true, tB: false }, 4);
    setWasmKernelsEnabled(false);
    try {
      expect(bmmKernelActive()).toBe(false);
      const info = await tf.profile(() => bmm(p, q, true, false));
      expect(info.kernels.map((k) => k.name)).toEqual(['BatchMatMul']);
      const want = tf.matMul(p, q, true, false);
      expect(Array.from((info.result as tf.Tensor).dataSync())).toEqual(Array.from(want.dataSync()));
      tf.dispose([want, info.result as tf.Tensor]);
    } finally {
      setWasmKernelsEnabled(true);
    }
    tf.dispose([a, b, p, q]);
    await useNodeBackend('cpu');
    expect(bmmKernelActive()).toBe(false);
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
    const y = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 2);
    expect(Array.from(bmm(x, y, false, true).dataSync())).toEqual(Array.from(tf.matMul(x, y, false, true).dataSync()));
    tf.dispose([x, y]);
  });
});
