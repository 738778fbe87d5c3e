import { describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { GPT } from '../../src/engine/model/gpt';
import { generate } from '../../src/engine/model/generate';
import { generateBatch } from '../../src/engine/model/generateBatch';

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
