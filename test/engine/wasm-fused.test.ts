/**
 * The wasm backend's fused kernels (src/engine/ops/wasmFused/) against the stock ops they replace, on the
 * cpu backend: values and gradients. Each is also checked to be the kernel that actually ran.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { crossEntropyRows, crossEntropyRowsReference, embedInput, layerNorm, layerNormReference } from '../../src/engine/model/layers';
import { causalMask, headsToRows, maskedSoftmax, maskedSoftmaxReference, splitHeads } from '../../src/engine/model/attention';
import { setWasmKernelsEnabled } from '../../src/engine/ops/wasmKernels';
import { layerNormSimdActive } from '../../src/engine/ops/wasmFused/layerNorm';
import { softmaxSimdActive } from '../../src/engine/ops/wasmFused/attention';
import { crossEntropySimdActive } from '../../src/engine/ops/wasmFused/crossEntropy';
import { useNodeBackend } from '../backends';
import { maxErr, randoms, valueAndGrads } from './numerics';
import { createRng } from '../../src/engine/random';
import { WASM_BASE64 as SOFTMAX_WASM } from '../../src/engine/ops/kernels/softmax.wasm';

afterAll(() => setWasmKernelsEnabled(true));

async function kernelsRun(f: () => tf.Tensor[]): Promise<string[]> {
  const info = await tf.profile(() => tf.tidy(f));
  tf.dispose(info.result as tf.Tensor[]);
  return info.kernels.map((k) => k.name);
}

describe('fused LayerNorm on wasm', () => {
  // 128 and 4: the SIMD module; 10: not a multiple of 4, the JavaScript path
  it.each([
    [128, true],
    [128, false],
    [4, true],
    [10, true],
    [10, false],
  ])('matches the stock ops for width %i (bias %s): y, dx, dw, db', async (C, withBias) => {
    const shapes = [[3, 7, C], [C], [C]];
    const inputs = [randoms(shapes[0], C, 2, 0.5), randoms([C], C + 1, 1, 1), randoms([C], C + 2)];
    const dy = randoms(shapes[0], C + 3);
    const used = withBias ? 3 : 2;
    await useNodeBackend('cpu');
    const want = valueAndGrads((x, w, b) => layerNormReference(x, w, b), inputs.slice(0, used), shapes.slice(0, used), dy);
    await useNodeBackend('wasm');
    expect(layerNormSimdActive()).toBe(true); // widths that are multiples of 4 test the module, not a fallback
    const before = tf.memory().numTensors;
    const got = valueAndGrads((x, w, b) => layerNorm(x, w, b), inputs.slice(0, used), shapes.slice(0, used), dy);
    expect(tf.memory().numTensors).toBe(before);
    const names = ['y', 'dx', 'dw', 'db'];
    got.forEach((g, i) => expect(maxErr(g, want[i]), names[i]).toBeLessThan(1e-5));
  });

  it('runs one kernel forward (keeping the row statistics) and one per gradient asked for, the stock ops when switched off', async () => {
    await useNodeBackend('wasm');
    const x = tf.tensor(randoms([4, 16], 1), [4, 16]);
    const w = tf.ones([16]);
    const b = tf.zeros([16]);
    const run = () => tf.grads((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => layerNorm(x, w, b).sum())([x, w, b]);
    const fused = await kernelsRun(run);
    expect(fused.filter((n) => /^Sgp(Wasm)?LayerNorm/.test(n)).sort()).toEqual([
      'SgpLayerNormGradParam',
      'SgpLayerNormGradParam',
      'SgpLayerNormGradX',
      'SgpWasmLayerNorm',
    ]);
    expect(fused).not.toContain('Mean');
    // Weights frozen (only x's gradient asked for): no work on theirs.
    const xOnly = await kernelsRun(() => tf.grads((x: tf.Tensor) => layerNorm(x, w, b).sum())([x]));
    expect(xOnly.filter((n) => /^Sgp(Wasm)?LayerNorm/.test(n)).sort()).toEqual(['SgpLayerNormGradX', 'SgpWasmLayerNorm']);
    setWasmKernelsEnabled(false);
    try {
      const stock = await kernelsRun(run);
      expect(stock.some((n) => n.startsWith('SgpLayerNorm'))).toBe(false);
      expect(stock).toContain('Mean');
    } finally {
      setWasmKernelsEnabled(true);
    }
    tf.dispose([x, w, b]);
  });
});

describe('fused causal softmax on wasm', () => {
  // The SIMD module both ways for every S: a multiple of 4 (64, 12, 4), or with a tail of S mod 4 keys run one at a
  // time, the last visible key in it or before it (S = 10 with T = 3: a key/value cache of 7 positions; 7, 13, 5,
  // 3, 1: a fine-tune's batch as long as its longest pair, and S < 4 with no whole block at all).
  it.each([
    [64, 64],
    [8, 12],
    [4, 4],
    [1, 4],
    [3, 10],
    [1, 7],
    [5, 7],
    [13, 13],
    [4, 9],
    [1, 5],
    [2, 3],
    [1, 1],
  ])('matches the stock ops (scale, mask, softmax) for %i queries over %i keys: y and ds', async (T, S) => {
    const shape = [2, 3, T, S];
    const scores = randoms(shape, T * S, 3);
    const dy = randoms(shape, T * S + 1);
    const scale = 0.17;
    const maskValues = new Float32Array(T * S);
    for (let i = 0; i < T; i++) for (let j = i + S - T + 1; j < S; j++) maskValues[i * S + j] = -1e9;
    const run = (f: typeof maskedSoftmax) => valueAndGrads((s) => f(s, tf.tensor2d(maskValues, [T, S]), scale), [scores], [shape], dy);
    await useNodeBackend('cpu');
    const want = run(maskedSoftmaxReference);
    await useNodeBackend('wasm');
    expect(softmaxSimdActive()).toBe(true);
    const before = tf.memory().numTensors;
    const got = run(maskedSoftmax);
    expect(tf.memory().numTensors).toBe(before);
    expect(maxErr(got[0], want[0]), 'y').toBeLessThan(1e-6);
    expect(maxErr(got[1], want[1]), 'ds').toBeLessThan(1e-6);
    // hidden keys are exactly 0, their weights and their gradients (a tail's zero fill included)
    for (let r = 0; r < 2 * 3 * T; r++)
      for (let j = (r % T) + S - T + 1; j < S; j++) {
        expect(got[0][r * S + j]).toBe(0);
        expect(Math.abs(got[1][r * S + j])).toBe(0);
      }
  });

  it('is one kernel each way in training attention, the scale included', async () => {
    await useNodeBackend('wasm');
    const s = tf.tensor(randoms([1, 2, 8, 8], 5), [1, 2, 8, 8]);
    const mask = causalMask(8);
    const run = (scale: number) => kernelsRun(() => tf.grads((x: tf.Tensor) => maskedSoftmax(x, mask, scale).sum())([s]));
    const names = await run(0.5);
    expect(names.filter((n) => n.startsWith('SgpCausalSoftmax'))).toEqual(['SgpCausalSoftmax', 'SgpCausalSoftmaxGrad']);
    expect(names).not.toContain('Softmax');
    // the scale costs no kernel of its own
    expect(names).toEqual(await run(1));
    tf.dispose([s, mask]);
  });
});

describe('fused cross-entropy on wasm', () => {
  // 4, 5, 7, 65, 300, 512: the SIMD module (whole blocks, and each remainder of V mod 4); 3: the JavaScript loop.
  // Every 9th target is outside [0, V) (−1 or V): loss 0 and gradient 0 there, as the stock ops' one-hot gives.
  it.each([65, 7, 300, 4, 5, 512, 3])('matches the stock ops for a vocabulary of %i: loss rows and gradient', async (V) => {
    const N = 37;
    const logits = randoms([N, V], V, 4);
    const targets = Int32Array.from({ length: N }, (_, i) => (i % 9 === 4 ? (i % 2 ? -1 : V) : (i * 7919) % V));
    const dy = randoms([N], V + 1);
    const run = (f: typeof crossEntropyRows) =>
      tf.tidy(() => {
        const z = tf.tensor2d(logits, [N, V]);
        const t = tf.tensor1d(targets, 'int32');
        const w = tf.tensor1d(dy);
        const y = f(z, t);
        const [dz] = tf.grads((x: tf.Tensor) =>
          f(x as tf.Tensor2D, t)
            .mul(w)
            .sum(),
        )([z]);
        return [y.dataSync() as Float32Array, dz.dataSync() as Float32Array];
      });
    await useNodeBackend('cpu');
    const want = run(crossEntropyRowsReference);
    await useNodeBackend('wasm');
    expect(crossEntropySimdActive(V)).toBe(V >= 4);
    const before = tf.memory().numTensors;
    const names = await kernelsRun(() => {
      const z = tf.tensor2d(logits, [N, V]);
      const t = tf.tensor1d(targets, 'int32');
      return [tf.grads((x: tf.Tensor) => crossEntropyRows(x as tf.Tensor2D, t).sum())([z])[0]];
    });
    expect(names).toContain('SgpCrossEntropy');
    expect(names).toContain('SgpCrossEntropyGrad');
    const got = run(crossEntropyRows);
    expect(tf.memory().numTensors).toBe(before);
    expect(maxErr(got[0], want[0]), 'loss').toBeLessThan(1e-5);
    expect(maxErr(got[1], want[1]), 'dz').toBeLessThan(1e-6);
  });
});

describe("attention's head split on wasm", () => {
  it('equals split + reshape + transpose, forward and backward, in one kernel each way', async () => {
    const [B, T, nh, hs] = [2, 5, 3, 4];
    const shape = [B, T, 3 * nh * hs];
    const x = randoms(shape, 11);
    const dys = [12, 13, 14].map((seed) => randoms([B, nh, T, hs], seed));
    const run = () =>
      tf.tidy(() => {
        const qkv = tf.tensor3d(x, shape as [number, number, number]);
        const weights = dys.map((d) => tf.tensor4d(d, [B, nh, T, hs]));
        const parts = splitHeads(qkv, nh);
        const [g] = tf.grads((t: tf.Tensor) => tf.addN(splitHeads(t as tf.Tensor3D, nh).map((p, i) => p.mul(weights[i]).sum())))([qkv]);
        return [...parts, g].map((t) => t.dataSync() as Float32Array);
      });
    await useNodeBackend('cpu');
    const want = run();
    await useNodeBackend('wasm');
    const before = tf.memory().numTensors;
    const names = await kernelsRun(() => {
      const qkv = tf.tensor3d(x, shape as [number, number, number]);
      return tf.grads((t: tf.Tensor) => tf.addN(splitHeads(t as tf.Tensor3D, nh).map((p) => p.sum())))([qkv]);
    });
    expect(names.filter((n) => n.startsWith('Sgp'))).toEqual(['SgpSplitHeads', 'SgpMergeHeads']);
    const got = run();
    expect(tf.memory().numTensors).toBe(before);
    // pure copies: exactly equal
    got.forEach((g, i) => expect(Array.from(g), `output ${i}`).toEqual(Array.from(want[i])));
  });
});

describe('the embedding lookup on wasm', () => {
  it.each([0, 3])('equals gather + slice + add, forward and both tables’ gradients, in one kernel each (offset %i)', async (P) => {
    const [B, T, V, C, positions] = [3, 5, 7, 6, 9];
    const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 5) % V); // some ids repeat, some rows of wte get none
    ids[0] = V - 1;
    const wte = randoms([V, C], 31);
    const wpe = randoms([positions, C], 32);
    const dy = randoms([B, T, C], 33);
    const run = () =>
      tf.tidy(() => {
        const idx = tf.tensor2d(ids, [B, T], 'int32');
        const [e, p, w] = [tf.tensor2d(wte, [V, C]), tf.tensor2d(wpe, [positions, C]), tf.tensor3d(dy, [B, T, C])];
        const x = embedInput(idx, e, p, P);
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => embedInput(idx, a, b, P).mul(w).sum())([e, p]);
        return [x, ...grads].map((t) => t.dataSync() as Float32Array);
      });
    await useNodeBackend('cpu');
    const want = run();
    await useNodeBackend('wasm');
    const before = tf.memory().numTensors;
    const got = run();
    expect(tf.memory().numTensors).toBe(before);
    ['x', 'dwte', 'dwpe'].forEach((n, i) => expect(maxErr(got[i], want[i]), n).toBeLessThan(1e-6));
    const names = await kernelsRun(() => {
      const idx = tf.tensor2d(ids, [B, T], 'int32');
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => embedInput(idx, a, b, P).sum())([tf.tensor2d(wte, [V, C]), tf.tensor2d(wpe, [positions, C])]);
    });
    expect(names.filter((n) => n.startsWith('SgpEmbedding')).sort()).toEqual(['SgpEmbedding', 'SgpEmbeddingGradPositions', 'SgpEmbeddingGradTokens']);
    expect(names).not.toContain('GatherV2');
  });

  it('refuses a token id outside the vocabulary, naming it', async () => {
    await useNodeBackend('wasm');
    const before = tf.memory().numTensors;
    expect(() => tf.tidy(() => embedInput(tf.tensor2d([[1, 9]], [1, 2], 'int32'), tf.ones([7, 4]), tf.ones([8, 4]), 0))).toThrow(
      /token id 9 is outside the vocabulary \(0\.\.6\)/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("attention's output heads side by side on wasm", () => {
  it.each([4, 3])('equals transpose + reshape, forward and backward, one copy each way (head size %i)', async (hs) => {
    const [B, nh, T] = [2, 3, 5];
    const y = randoms([B, nh, T, hs], 41);
    const dy = randoms([B, T, nh * hs], 42);
    const run = () =>
      tf.tidy(() => {
        const t = tf.tensor4d(y, [B, nh, T, hs]);
        const w = tf.tensor3d(dy, [B, T, nh * hs]);
        const [g] = tf.grads((a: tf.Tensor) =>
          headsToRows(a as tf.Tensor4D)
            .mul(w)
            .sum(),
        )([t]);
        return [headsToRows(t), g].map((x) => x.dataSync() as Float32Array);
      });
    await useNodeBackend('cpu');
    const want = run();
    await useNodeBackend('wasm');
    const before = tf.memory().numTensors;
    const got = run();
    expect(tf.memory().numTensors).toBe(before);
    got.forEach((g, i) => expect(Array.from(g), `output ${i}`).toEqual(Array.from(want[i])));
    const names = await kernelsRun(() => tf.grads((a: tf.Tensor) => headsToRows(a as tf.Tensor4D).sum())([tf.tensor4d(y, [B, nh, T, hs])]));
    expect(names.filter((n) => n.startsWith('Sgp'))).toEqual(['SgpHeadsToRows', 'SgpRowsToHeads']);
    expect(names).not.toContain('Transpose');
  });
});

describe('the softmax module on its own memory', () => {
  // The tensors above sit in TF.js's heap, where a write past a row's end would land unseen: here the module runs on
  // a memory of its own, every float around its buffers a NaN guard.
  it('its gradient writes exactly its rows, for every key count 1–23 and every query count, at unaligned addresses', () => {
    const memory = new WebAssembly.Memory({ initial: 4 });
    const { causalSoftmaxGrad } = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(SOFTMAX_WASM.plain, 'base64')), { env: { memory } }).exports as {
      causalSoftmaxGrad(y: number, dy: number, ds: number, rows: number, T: number, S: number, scale: number): void;
    };
    const f = new Float32Array(memory.buffer);
    const rng = createRng(11);
    const scale = 0.3;
    for (let S = 1; S <= 23; S++)
      for (let T = 1; T <= S; T++)
        for (const rows of [T, 3 * T]) {
          const n = rows * S;
          const [Y, DY, DS] = [17, 17 + n + 19, 17 + 2 * n + 42]; // float offsets: gaps of guards, not 16-byte aligned
          f.fill(NaN);
          for (let r = 0; r < rows; r++) {
            const last = (r % T) + S - T;
            let sum = 0;
            for (let j = 0; j <= last; j++) sum += f[Y + r * S + j] = rng.next() + 0.01;
            for (let j = 0; j < S; j++) f[Y + r * S + j] = j <= last ? f[Y + r * S + j] / sum : 0;
            for (let j = 0; j < S; j++) f[DY + r * S + j] = rng.next() - 0.5;
          }
          const y = f.slice(Y, Y + n);
          causalSoftmaxGrad(4 * Y, 4 * DY, 4 * DS, rows, T, S, scale);
          for (let r = 0; r < rows; r++) {
            const last = (r % T) + S - T;
            let dot = 0;
            for (let j = 0; j < S; j++) dot += y[r * S + j] * f[DY + r * S + j];
            for (let j = 0; j < S; j++) {
              const got = f[DS + r * S + j];
              if (j > last) expect(Math.abs(got), `S ${S} T ${T} row ${r} key ${j}`).toBe(0);
              else expect(Math.abs(got - scale * y[r * S + j] * (f[DY + r * S + j] - dot)), `S ${S} T ${T} row ${r} key ${j}`).toBeLessThan(1e-6);
            }
          }
          const untouched = (from: number, to: number) => f.subarray(from, to).every((x) => Number.isNaN(x));
          expect(untouched(DS + n, DS + n + 64) && untouched(DS - 8, DS) && untouched(DY + n, DY + n + 8), `S ${S} T ${T}: a write outside ds`).toBe(true);
          expect(f.subarray(Y, Y + n), `S ${S} T ${T}: y changed`).toEqual(y);
        }
  });
});
