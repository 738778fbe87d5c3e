import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { GPT } from '../../src/engine/model/gpt';
import { ConfigError, countParams, PRESETS, validateConfig, type GPTConfig } from '../../src/engine/model/config';
import { createVariable, paramSpecs, type Params } from '../../src/engine/model/params';
import { createRng } from '../../src/engine/random';
import { referenceLogits, referenceLoss, type Weights } from '../reference';
import { TEST_BACKENDS, useNodeBackend } from '../backends';
import { attentionMaps, mapOf } from '../../src/engine/model/probe';
import { crossEntropyRows, embedding } from '../../src/engine/model/layers';

const cfg: GPTConfig = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 4, nEmbd: 16, dropout: 0, bias: true };

/** Two full-context sequences of cfg's vocabulary, for the reference comparisons. */
const SEQUENCES = [
  [1, 5, 2, 9, 0, 3, 3, 10],
  [4, 4, 7, 1, 8, 6, 2, 5],
];

/** Fixed, non-trivial weights: every tensor (LayerNorm and biases too) random, std 0.3. */
function fixedWeights(c: GPTConfig, seed: number): { params: Params; ref: Weights } {
  const rng = createRng(seed);
  const params: Params = new Map();
  const ref: Weights = {};
  for (const s of paramSpecs(c)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n).map(() => rng.normal() * 0.3 + (s.init.kind === 'ones' ? 1 : 0));
    params.set(s.name, createVariable(s.name, v, s.shape));
    ref[s.name] = { data: Float64Array.from(v), shape: s.shape };
  }
  return { params, ref };
}

describe('GPTConfig', () => {
  it('names the bad value when heads do not divide the width', () => {
    expect(() => validateConfig({ ...cfg, nEmbd: 30, nHead: 4 })).toThrow(ConfigError);
    expect(() => validateConfig({ ...cfg, nEmbd: 30, nHead: 4 })).toThrow(/nEmbd \(30\) must be divisible by nHead \(4\).*1, 2, 3, 5, 6, 10, 15, 30/);
  });
  it('rejects non-integer, out-of-range and mistyped fields', () => {
    expect(() => validateConfig({ ...cfg, nLayer: 0 })).toThrow(/nLayer must be an integer/);
    expect(() => validateConfig({ ...cfg, blockSize: 2.5 })).toThrow(/blockSize/);
    expect(() => validateConfig({ ...cfg, dropout: 1 })).toThrow(/dropout/);
    expect(() => validateConfig({ ...cfg, bias: 'yes' as unknown as boolean })).toThrow(/bias/);
  });
  it('counts every parameter as nanoGPT does with non_embedding=False', () => {
    // The tied head once, wpe included. nanoGPT's printed default leaves wpe out (64 · 128 fewer; 0.80M either way).
    const baby = { ...PRESETS.baby, vocabSize: 65 };
    const m = GPT.create(baby, 0);
    const total = [...m.params.values()].reduce((a, p) => a + p.size, 0);
    expect(countParams(baby)).toBe(total);
    expect(total).toBe(65 * 128 + 64 * 128 + 4 * (2 * 128 + 12 * 128 * 128) + 128);
    m.dispose();
  });
});

describe.each(TEST_BACKENDS)('GPT on %s', (backend) => {
  beforeAll(() => useNodeBackend(backend));

  it('matches a float64 reference forward pass (logits and loss) within 1e-4', async () => {
    const { params, ref } = fixedWeights(cfg, 7);
    const model = new GPT(cfg, params);
    const xs = SEQUENCES;
    const ys = xs.map((r) => r.map((v, i) => (v * 3 + i) % cfg.vocabSize));
    const idx = tf.tensor2d(xs, [2, 8], 'int32');
    const tgt = tf.tensor2d(ys, [2, 8], 'int32');
    const logits = model.forward(idx);
    const got = (await logits.array()) as number[][][];
    let maxErr = 0;
    xs.forEach((seq, b) => {
      const want = referenceLogits(cfg, ref, seq);
      want.forEach((row, t) => row.forEach((v, k) => (maxErr = Math.max(maxErr, Math.abs(v - got[b][t][k])))));
    });
    expect(maxErr).toBeLessThanOrEqual(1e-4);
    const loss = model.loss(idx, tgt);
    expect(Math.abs((await loss.data())[0] - referenceLoss(cfg, ref, xs, ys))).toBeLessThanOrEqual(1e-4);
    tf.dispose([idx, tgt, logits, loss]);
    model.dispose();
  });

  it('is causal: changing token t+1 leaves logits at positions ≤ t unchanged', async () => {
    const model = GPT.create(cfg, 3);
    const a = [3, 1, 4, 1, 5, 9, 2, 6];
    for (const t of [0, 3, 6]) {
      const b = [...a];
      b[t + 1] = (b[t + 1] + 5) % cfg.vocabSize;
      const la = model.forward(tf.tensor2d([a], [1, 8], 'int32'));
      const lb = model.forward(tf.tensor2d([b], [1, 8], 'int32'));
      const [ra, rb] = [(await la.array()) as number[][][], (await lb.array()) as number[][][]];
      for (let i = 0; i <= t; i++) expect(rb[0][i]).toEqual(ra[0][i]);
      // and the change is visible from t+1 on, so the test can fail
      expect(rb[0][t + 1]).not.toEqual(ra[0][t + 1]);
      tf.dispose([la, lb]);
    }
    model.dispose();
  });

  it('initialises as nanoGPT: normal(0.02), c_proj 0.02/sqrt(2L), LayerNorm weight 1, zero biases', async () => {
    const big: GPTConfig = { ...cfg, nEmbd: 64, nHead: 4, vocabSize: 300 };
    const model = GPT.create(big, 11);
    const std = async (n: string) => {
      const v = Array.from(await model.params.get(n)!.data());
      const mean = v.reduce((a, x) => a + x, 0) / v.length;
      return Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / v.length);
    };
    expect(await std('transformer.wte.weight')).toBeCloseTo(0.02, 3);
    expect(await std('transformer.h.0.mlp.c_fc.weight')).toBeCloseTo(0.02, 3);
    expect(await std('transformer.h.1.mlp.c_proj.weight')).toBeCloseTo(0.02 / Math.sqrt(4), 3);
    expect(Array.from(await model.params.get('transformer.ln_f.weight')!.data()).every((x) => x === 1)).toBe(true);
    expect(Array.from(await model.params.get('transformer.h.0.attn.c_attn.bias')!.data()).every((x) => x === 0)).toBe(true);
    model.dispose();
  });

  it('same seed gives bit-identical weights', async () => {
    const a = GPT.create(cfg, 5);
    const b = GPT.create(cfg, 5);
    for (const [n, p] of a.params) expect(await b.params.get(n)!.data()).toEqual(await p.data());
    a.dispose();
    b.dispose();
  });

  it('lastLogits: the reference logits at the last position, for windows up to the context, with the last block on that position only', async () => {
    const { params, ref } = fixedWeights(cfg, 11);
    const model = new GPT(cfg, params);
    const seqs = SEQUENCES;
    tf.tidy(() => model.lastLogits(tf.tensor2d([[1]], [1, 1], 'int32'))); // the model's causal mask now exists
    const before = tf.memory().numTensors;
    for (const T of [1, 5, 8]) {
      const xs = seqs.map((r) => r.slice(0, T));
      const idx = tf.tensor2d(xs, [2, T], 'int32');
      const { result, kernels } = await tf.profile(() => model.lastLogits(idx));
      const got = (await (result as tf.Tensor).array()) as number[][];
      let maxErr = 0;
      xs.forEach((seq, b) => referenceLogits(cfg, ref, seq)[T - 1].forEach((v, k) => (maxErr = Math.max(maxErr, Math.abs(v - got[b][k])))));
      expect(maxErr, `T = ${T}`).toBeLessThanOrEqual(1e-4);
      // The MLP's hidden layer (4C wide) runs on every position in the first block, on the last one in the last.
      const hidden = kernels
        .filter((k) => /Linear|MatMul/.test(k.name))
        .map((k) => k.outputShapes[0] ?? [])
        .filter((s) => s[s.length - 1] === 4 * cfg.nEmbd);
      expect(
        hidden.map((s) => s.slice(0, -1).reduce((a, b) => a * b, 1)),
        `T = ${T}: rows of the fc layers`,
      ).toEqual([2 * T, 2]);
      tf.dispose([idx, result as tf.Tensor]);
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('refuses a sequence longer than blockSize', () => {
    const model = GPT.create(cfg, 1);
    const idx = tf.zeros([1, 9], 'int32') as tf.Tensor2D;
    expect(() => model.forward(idx)).toThrow(/length 9: blockSize is only 8/);
    idx.dispose();
    model.dispose();
  });
});

describe.each(TEST_BACKENDS)('evaluation on %s', (backend) => {
  beforeAll(() => useNodeBackend(backend));

  it('lossAndAccuracy gives the loss of `loss` and the share of positions whose argmax is the target, leaking nothing', async () => {
    const { params } = fixedWeights(cfg, 3);
    const model = new GPT(cfg, params);
    const rng = createRng(4);
    const ids = Array.from({ length: 2 * 8 }, () => rng.int(cfg.vocabSize));
    const targets = Array.from({ length: 2 * 8 }, () => rng.int(cfg.vocabSize));
    const mask = Array.from({ length: 2 * 8 }, (_, i) => (i % 3 === 0 ? 0 : 1));
    const x = tf.tensor2d(ids, [2, 8], 'int32');
    const y = tf.tensor2d(targets, [2, 8], 'int32');
    const w = tf.tensor2d(mask, [2, 8], 'float32');
    tf.dispose(model.lossAndAccuracy(x, y, w)); // warm-up: the model keeps its causal mask from the first pass
    const before = tf.memory().numTensors;
    const pair = model.lossAndAccuracy(x, y, w);
    const [loss, accuracy] = await pair.data();
    pair.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const plain = model.loss(x, y, w);
    expect(loss).toBeCloseTo((await plain.data())[0], 6);
    plain.dispose();
    // The accuracy by hand, from the logits.
    const logits = (await model.forward(x).array()) as number[][][];
    let hits = 0;
    let counted = 0;
    logits.flat().forEach((row, i) => {
      if (!mask[i]) return;
      counted++;
      if (row.indexOf(Math.max(...row)) === targets[i]) hits++;
    });
    expect(accuracy).toBeCloseTo(hits / counted, 6);
    tf.dispose([x, y, w]);
    model.dispose();
  });
});

describe.each(TEST_BACKENDS)('attention probe on %s', (backend) => {
  beforeAll(() => useNodeBackend(backend));

  it('returns the softmax of the forward pass: equal to the reference, rows summing to 1 over the causal part, nothing left behind', async () => {
    const { params, ref } = fixedWeights(cfg, 7);
    const model = new GPT(cfg, params);
    const ids = [3, 1, 4, 1, 5, 9, 2];
    const expected: number[][][][] = [];
    referenceLogits(cfg, ref, ids, expected);
    await attentionMaps(model, ids); // warm-up: the model keeps its causal mask from the first pass
    const before = tf.memory().numTensors;
    const maps = await attentionMaps(model, ids);
    expect(tf.memory().numTensors).toBe(before);
    expect(maps.ids).toEqual(ids);
    expect(maps.weights).toHaveLength(cfg.nLayer * cfg.nHead * ids.length * ids.length);
    let worst = 0;
    for (let l = 0; l < cfg.nLayer; l++) {
      for (let h = 0; h < cfg.nHead; h++) {
        const m = mapOf(maps, l, h);
        m.forEach((row, i) => {
          expect(row.slice(0, i + 1).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
          for (let j = i + 1; j < row.length; j++) expect(row[j]).toBe(0);
          row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - expected[l][h][i][j]))));
        });
      }
    }
    expect(worst).toBeLessThan(1e-6);
    // A prompt longer than the block keeps its last blockSize tokens.
    const long = await attentionMaps(
      model,
      Array.from({ length: 12 }, (_, i) => i % cfg.vocabSize),
    );
    expect(long.ids).toHaveLength(cfg.blockSize);
    model.dispose();
  });
});

describe.each(TEST_BACKENDS)('embedding and cross-entropy gradients (%s)', (backend) => {
  it('hold when the ids are made inside the differentiated function (disposed with its forward scope)', async () => {
    await useNodeBackend(backend);
    const table = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]); // (V = 3, C = 2)
    const before = tf.memory().numTensors;
    const [g] = tf.grads((t: tf.Tensor) => {
      const ids = tf.tensor2d([[0, 2, 2]], [1, 3], 'int32'); // made here: the forward's tidy disposes it
      const emb = embedding(ids, t); // (1, 3, 2)
      const logits = emb.reshape([3, 2]).matMul(t, false, true) as tf.Tensor2D; // (3, V)
      return crossEntropyRows(logits, tf.tensor1d([1, 0, 2], 'int32')).sum();
    })([table]);
    const got = await g.data();
    // the same with the ids made outside (the trainer's way)
    const ids = tf.tensor2d([[0, 2, 2]], [1, 3], 'int32');
    const targets = tf.tensor1d([1, 0, 2], 'int32');
    const [want] = tf.grads((t: tf.Tensor) => crossEntropyRows(embedding(ids, t).reshape([3, 2]).matMul(t, false, true) as tf.Tensor2D, targets).sum())([
      table,
    ]);
    expect(Array.from(got)).toEqual(Array.from(await want.data()));
    expect(Array.from(got).some((v) => v !== 0)).toBe(true);
    tf.dispose([g, want, ids, targets]);
    expect(tf.memory().numTensors).toBe(before);
    table.dispose();
  });
});
