import { describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { disposeCache, GPT } from '../../src/engine/model/gpt';
import { explainToken, generate, pickToken, SampleError, type TokenChoice } from '../../src/engine/model/generate';

describe('pickToken', () => {
  const logits = Float32Array.from([1, 3, 2, 0]);
  it('is greedy at temperature 0', () => expect(pickToken(logits, 0, 0, 1, 0.99)).toBe(1));
  it('top-k keeps only the k best', () => {
    for (let u = 0; u < 1; u += 0.05) expect([1, 2]).toContain(pickToken(logits, 1, 2, 1, u));
  });
  it('top-p keeps the smallest set reaching p', () => {
    // softmax([3,2,1,0]) ≈ [.64,.24,.09,.03]: p = 0.5 keeps only the first
    for (let u = 0; u < 1; u += 0.1) expect(pickToken(logits, 1, 0, 0.5, u)).toBe(1);
    const seen = new Set<number>();
    for (let u = 0; u < 1; u += 0.01) seen.add(pickToken(logits, 1, 0, 0.8, u));
    expect([...seen].sort()).toEqual([1, 2]);
  });
});

describe('explainToken', () => {
  it('gives the softmax probability of the drawn token and the k most likely, in order', () => {
    const logits = Float32Array.from([1, 3, 2, 0, 3]);
    const z = [1, 3, 2, 0, 3].reduce((a, l) => a + Math.exp(l), 0);
    const why = explainToken(logits, 2, 3);
    expect(why.p).toBeCloseTo(Math.exp(2) / z, 7);
    expect(why.top.map((c) => c.id)).toEqual([1, 4, 2]); // ties: the lower id first
    for (const c of why.top) expect(c.p).toBeCloseTo(Math.exp(logits[c.id]) / z, 7);
    expect(explainToken(logits, 0, 5).top.reduce((a, c) => a + c.p, 0)).toBeCloseTo(1, 6);
  });
});

describe('generate', () => {
  const config = { vocabSize: 12, blockSize: 6, nLayer: 1, nHead: 2, nEmbd: 8, dropout: 0, bias: false };
  it('explains each token with the softmax of the logits at its position, and draws the same tokens', async () => {
    const model = GPT.create(config, 3);
    const seen: { id: number; why: TokenChoice }[] = [];
    const res = await generate(model, [1, 2], { maxNewTokens: 4, seed: 5, explain: 3, onToken: (id, why) => void seen.push({ id, why: why! }) });
    expect(res.ids).toEqual((await generate(model, [1, 2], { maxNewTokens: 4, seed: 5 })).ids);
    const context = [1, 2];
    for (const { id, why } of seen) {
      const logits = model.lastLogits(tf.tensor2d(context, [1, context.length], 'int32'));
      const probs = tf.softmax(logits).dataSync();
      logits.dispose();
      expect(why.p).toBeCloseTo(probs[id], 5);
      expect(why.top).toHaveLength(3);
      for (const c of why.top) expect(c.p).toBeCloseTo(probs[c.id], 5);
      expect(Math.max(...probs)).toBeCloseTo(why.top[0].p, 5);
      context.push(id);
    }
    model.dispose();
  });

  it('is reproducible with a seed, streams each token, and crops the context to blockSize', async () => {
    const model = GPT.create(config, 1);
    const streamed: number[] = [];
    const a = await generate(model, [1, 2], { maxNewTokens: 20, seed: 9, onToken: (id) => void streamed.push(id) });
    const b = await generate(model, [1, 2], { maxNewTokens: 20, seed: 9 });
    expect(a.ids).toHaveLength(20);
    expect(a.reason).toBe('length');
    expect(b.ids).toEqual(a.ids);
    expect(streamed).toEqual(a.ids);
    const c = await generate(model, [1, 2], { maxNewTokens: 20, seed: 10 });
    expect(c.ids).not.toEqual(a.ids);
    model.dispose();
  });
  it('gives the same tokens with a fixed input shape (padding after the context is invisible to causal attention)', async () => {
    const model = GPT.create(config, 4);
    const a = await generate(model, [1, 2], { maxNewTokens: 9, temperature: 0 });
    const b = await generate(model, [1, 2], { maxNewTokens: 9, temperature: 0, fixedShape: true });
    expect(b.ids).toEqual(a.ids);
    model.dispose();
  });

  it('decodes with a key/value cache to the same logits as the whole context, and leaves no tensors', async () => {
    for (const bias of [false, true]) {
      const model = GPT.create({ ...config, blockSize: 12, nLayer: 2, bias }, 5);
      tf.tidy(() => model.lastLogits(tf.tensor2d([1], [1, 1], 'int32'))); // the model's causal mask now exists
      const before = tf.memory().numTensors;
      const ids = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8];
      const input = (a: number[]) => tf.tensor2d(a, [1, a.length], 'int32');
      const decode = (a: number[], past: Parameters<typeof model.decode>[1]) => {
        const x = input(a);
        const r = model.decode(x, past);
        x.dispose();
        return r;
      };
      // Prefill 4 tokens, then one at a time (and once two at a time) up to the full block.
      let res = decode(ids.slice(0, 4), null);
      for (let n = 4; ;) {
        const want = tf.tidy(() => model.lastLogits(input(ids.slice(0, n))));
        const got = await res.logits.data();
        (await want.data()).forEach((x, i) => expect(Math.abs(got[i] - x)).toBeLessThan(1e-5));
        tf.dispose([want, res.logits]);
        if (n === ids.length) break;
        const k = n === 6 ? 2 : 1;
        const next = decode(ids.slice(n, n + k), res.cache);
        disposeCache(res.cache);
        res = next;
        n += k;
      }
      expect(res.cache.length).toBe(12);
      disposeCache(res.cache);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    }
  });

  it('decodes one new position without slicing it out (a kernel that copies it, and on wasm waits for the queue)', async () => {
    const model = GPT.create({ ...config, blockSize: 12, nLayer: 2 }, 5);
    const first = tf.tensor2d([3, 1, 4], [1, 3], 'int32');
    const next = tf.tensor2d([1], [1, 1], 'int32');
    const prefill = model.decode(first, null);
    let step: ReturnType<typeof model.decode> | null = null;
    const profile = await tf.profile(() => {
      step = model.decode(next, prefill.cache);
    });
    expect(profile.kernelNames.length).toBeGreaterThan(0);
    expect(profile.kernelNames).not.toContain('Slice');
    const whole = tf.tidy(() => model.lastLogits(tf.tensor2d([3, 1, 4, 1], [1, 4], 'int32')));
    const [got, want] = [await step!.logits.data(), await whole.data()];
    want.forEach((x, i) => expect(Math.abs(got[i] - x)).toBeLessThan(1e-5));
    tf.dispose([first, next, prefill.logits, step!.logits, whole]);
    disposeCache(prefill.cache);
    disposeCache(step!.cache);
    model.dispose();
  });

  it('samples the same tokens with the cache as without it, past the end of the block too', async () => {
    const model = GPT.create({ ...config, blockSize: 10 }, 6);
    await generate(model, [1], { maxNewTokens: 1 }); // the model's causal mask now exists
    const before = tf.memory().numTensors;
    const cached = await generate(model, [1, 2, 3], { maxNewTokens: 25, temperature: 0.9, seed: 3 });
    const windowed = await generate(model, [1, 2, 3], { maxNewTokens: 25, temperature: 0.9, seed: 3, fixedShape: true });
    expect(cached.ids).toEqual(windowed.ids);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('lets the event loop run between tokens, so a timer (a cancel message in the worker) stops a long reply', async () => {
    const model = GPT.create(config, 3);
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 30);
    const res = await generate(model, [1, 2], { maxNewTokens: 1_000_000, seed: 1, signal: ctl.signal });
    expect(res.reason).toBe('aborted');
    expect(res.ids.length).toBeLessThan(1_000_000);
    model.dispose();
  });

  it('stops at the end marker and drops it', async () => {
    const model = GPT.create(config, 2);
    const greedy = await generate(model, [3], { maxNewTokens: 10, temperature: 0 });
    const stopAt = greedy.ids[4];
    const r = await generate(model, [3], { maxNewTokens: 10, temperature: 0, stop: [stopAt] });
    expect(r.reason).toBe('stop');
    expect(r.ids).toEqual(greedy.ids.slice(0, greedy.ids.indexOf(stopAt)));
    model.dispose();
  });
  it('rejects bad options and prompts', async () => {
    const model = GPT.create(config, 3);
    await expect(generate(model, [99], { maxNewTokens: 1 })).rejects.toThrow(SampleError);
    await expect(generate(model, [1], { maxNewTokens: 1, temperature: -1 })).rejects.toThrow(/temperature/);
    model.dispose();
  });
});
