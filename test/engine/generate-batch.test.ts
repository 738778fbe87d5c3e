import { describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { GPT } from '../../src/engine/model/gpt';
import { generate } from '../../src/engine/model/generate';
import { fillHoles, generateBatch } from '../../src/engine/model/generateBatch';
import { setWasmKernelsEnabled } from '../../src/engine/ops/wasmKernels';

describe('generateBatch', () => {
  // A random model gives near-uniform logits: every draw depends on the row's own tokens, context and Rng.
  const config = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true };
  const prompts = [[1, 2, 3], [4], [5, 6, 7, 8, 9, 1], [], [2, 2, 2, 2, 2, 2, 2, 2]];

  const oneByOne = (model: GPT, opts: { maxNewTokens: number; temperature: number; seed: number; stop?: number[]; topK?: number }) =>
    Promise.all(prompts.map((p, i) => generate(model, p, { ...opts, seed: opts.seed + i })));

  it('gives each prompt the reply generate gives it alone: greedy and sampled, within and past the context', async () => {
    const model = GPT.create(config, 4);
    for (const temperature of [0, 1]) {
      for (const maxNewTokens of [3, 14]) {
        const opts = { maxNewTokens, temperature, seed: 9, topK: temperature ? 5 : 0 };
        const batch = await generateBatch(model, prompts, opts);
        expect(batch, `temperature ${temperature}, ${maxNewTokens} tokens`).toEqual(await oneByOne(model, opts));
        expect(batch.every((r) => r.ids.length === maxNewTokens && r.reason === 'length')).toBe(true);
      }
    }
    model.dispose();
  });

  it('reads the positions every prompt covers in its first pass (one pass, not one each), with the same replies', async () => {
    const model = GPT.create(config, 7);
    const long = [
      [1, 2, 3, 4, 5],
      [6, 7, 8],
      [9, 1, 2, 3],
      [4, 5, 6, 7, 8, 9, 1, 2],
    ]; // the shortest: 3 tokens
    const opts = { maxNewTokens: 6, temperature: 1, seed: 3, topK: 5 };
    const widths: number[] = [];
    const decode = model.decode.bind(model);
    model.decode = (idx, past) => (widths.push(idx.shape[1]), decode(idx, past));
    const batch = await generateBatch(model, long, opts);
    model.decode = decode;
    // 3 positions at once, then one per pass up to the context (8), then the window slides (no decode).
    expect(widths).toEqual([3, 1, 1, 1, 1, 1]);
    expect(batch).toEqual(await Promise.all(long.map((p, i) => generate(model, p, { ...opts, seed: opts.seed + i }))));
    model.dispose();
  });

  it('stops each row at its own stop sequence, in any number of passes per chunk of rows', async () => {
    const model = GPT.create(config, 5);
    const stop = [3];
    const opts = { maxNewTokens: 12, temperature: 1, seed: 2, stop };
    const expected = await oneByOne(model, opts);
    expect(expected.some((r) => r.reason === 'stop')).toBe(true); // the case is exercised
    expect(expected.some((r) => r.reason === 'length')).toBe(true);
    for (const rowsPerPass of [1, 2, 128]) expect(await generateBatch(model, prompts, { ...opts, rowsPerPass })).toEqual(expected);
    model.dispose();
  });

  it('fills the holes finished rows leave with the last running rows (pure)', () => {
    const done = (x: string) => x === x.toUpperCase();
    expect(fillHoles(['a', 'b', 'c'], done)).toEqual({ kept: ['a', 'b', 'c'], moves: [] });
    expect(fillHoles(['a', 'B', 'c', 'd'], done)).toEqual({ kept: ['a', 'd', 'c'], moves: [[3, 1]] });
    expect(fillHoles(['A', 'b', 'C', 'D', 'e', 'F'], done)).toEqual({ kept: ['e', 'b'], moves: [[4, 0]] });
    expect(fillHoles(['A', 'B', 'c', 'd', 'e'], done)).toEqual({
      kept: ['e', 'd', 'c'],
      moves: [
        [4, 0],
        [3, 1],
      ],
    });
    expect(fillHoles(['a', 'b', 'C'], done)).toEqual({ kept: ['a', 'b'], moves: [] });
    expect(fillHoles(['A', 'B'], done)).toEqual({ kept: [], moves: [] });
    expect(fillHoles([], done)).toEqual({ kept: [], moves: [] });
  });

  it('drops finished rows from later passes on wasm (the cache’s rows move), with the same replies; keeps them all with the stock ops', async () => {
    const model = GPT.create({ ...config, blockSize: 40 }, 8);
    const many = Array.from({ length: 12 }, (_, i) => [1 + (i % 9), 2 + (i % 7)]);
    const opts = { maxNewTokens: 30, temperature: 1, seed: 5, topK: 0, stop: [3] };
    const expected = await Promise.all(many.map((p, i) => generate(model, p, { ...opts, seed: opts.seed + i })));
    const lengths = new Set(expected.map((r) => r.ids.length));
    expect(lengths.size).toBeGreaterThan(3); // rows finish at many different passes
    const rowsPerPass = async () => {
      const rows: number[] = [];
      const decode = model.decode.bind(model);
      model.decode = (idx, past) => (rows.push(idx.shape[0]), decode(idx, past));
      try {
        expect(await generateBatch(model, many, opts)).toEqual(expected);
      } finally {
        model.decode = decode;
      }
      return rows;
    };
    const before = tf.memory().numTensors;
    const dropped = await rowsPerPass();
    expect(tf.memory().numTensors).toBe(before);
    expect(dropped[0]).toBe(12);
    // Each pass computes only the rows still running: fewer and fewer, down to the longest reply alone.
    const running = (t: number) => expected.filter((r) => r.ids.length + (r.reason === 'stop' ? 1 : 0) > t).length;
    expect(dropped.slice(1)).toEqual(dropped.slice(1).map((_, t) => running(t + 1)));
    expect(dropped[dropped.length - 1]).toBe(1);
    setWasmKernelsEnabled(false);
    try {
      expect(new Set(await rowsPerPass())).toEqual(new Set([12]));
    } finally {
      setWasmKernelsEnabled(true);
    }
    model.dispose();
  });

  it('reports each result as its row finishes, leaks no tensors, and stops when aborted', async () => {
    const model = GPT.create(config, 6);
    await generateBatch(model, prompts, { maxNewTokens: 10, temperature: 0 }); // the model's cached masks are made once
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    await generateBatch(model, prompts, { maxNewTokens: 5, temperature: 0, onResult: (_, i) => void seen.push(i) });
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(tf.memory().numTensors).toBe(before);
    const ctl = new AbortController();
    ctl.abort();
    const aborted = await generateBatch(model, prompts, { maxNewTokens: 5, temperature: 0, signal: ctl.signal });
    expect(aborted.every((r) => r.reason === 'aborted')).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
