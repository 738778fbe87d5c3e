/**
 * Autoregressive sampling, as nanoGPT's GPT.generate: crop the context to blockSize, take the last
 * position's logits, scale by temperature, keep the top-k / nucleus (top-p), sample.
 *
 * The filtering and the draw happen on the CPU from one read-back of V logits per token: streaming
 * needs each token on the CPU anyway, and the seeded Rng then gives the same text on every backend.
 */
import * as tf from '../tf';
import { disposeCache, type GPT, type KVCache } from './gpt';
import { createRng } from '../random';
import { makeYielder } from '../yielder';

export interface SampleOptions {
  maxNewTokens: number;
  /** 0 means greedy (argmax). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens; 0 or undefined keeps all. */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p; 1 or undefined keeps all. */
  topP?: number;
  seed?: number;
  /** Stop once the output ends with this id sequence (the dialogue end marker); it is not returned. */
  stop?: ArrayLike<number>;
  /**
   * Called with each new token id as it is drawn; return false to stop. With `explain`, also what the model
   * thought at that position: the drawn token's probability and the most likely alternatives.
   */
  onToken?(id: number, why?: TokenChoice): boolean | void;
  /** How many alternatives `onToken` receives (0 or absent: none). */
  explain?: number;
  signal?: AbortSignal;
  /**
   * Always run the model on a full blockSize window (the context left-aligned, padding after it, which causal
   * attention keeps from mattering). One input shape for every token: GPU backends compile their kernels
   * once instead of once per context length.
   */
  fixedShape?: boolean;
}

export interface SampleResult {
  ids: number[];
  /** Why sampling ended. */
  reason: 'length' | 'stop' | 'aborted';
}

/** The model's next-token distribution at one position: softmax of its logits (temperature 1, unfiltered). */
export interface TokenChoice {
  /** Probability of the token that was drawn. */
  p: number;
  /** The k most likely tokens, most likely first. */
  top: { id: number; p: number }[];
}

/** Softmax of logits (V), the probability of `id` and the k most likely ids; pure, for tests. */
export function explainToken(logits: Float32Array, id: number, k: number): TokenChoice {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += Math.exp(logits[i] - max);
  const prob = (i: number) => Math.exp(logits[i] - max) / z;
  const order = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  return { p: prob(id), top: order.slice(0, k).map((i) => ({ id: i, p: prob(i) })) };
}

export class SampleError extends Error {
  override name = 'SampleError';
}

/** Pick a token id from logits (V) with temperature, top-k and top-p; pure, for tests. */
export function pickToken(logits: Float32Array, temperature: number, topK: number, topP: number, u: number): number {
  const V = logits.length;
  if (temperature <= 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a]);
  const k = topK > 0 ? Math.min(topK, V) : V;
  const kept = order.slice(0, k);
  const max = logits[kept[0]];
  let probs = kept.map((i) => Math.exp((logits[i] - max) / temperature));
  let z = probs.reduce((a, b) => a + b, 0);
  probs = probs.map((p) => p / z);
  if (topP > 0 && topP < 1) {
    let cum = 0;
    let n = 0;
    while (n < probs.length && cum < topP) cum += probs[n++];
    probs = probs.slice(0, Math.max(n, 1));
    z = probs.reduce((a, b) => a + b, 0);
    probs = probs.map((p) => p / z);
  }
  let acc = 0;
  for (let i = 0; i < probs.length; i++) {
    acc += probs[i];
    if (u < acc) return kept[i];
  }
  return kept[probs.length - 1];
}

/**
 * Whether the active backend is a GPU's, where a cache growing a position at a time costs more than recomputing one
 * window's shape (README, Benchmark: 146 against 208 tokens/s on an H200): there, sampling keeps one input shape
 * (SampleOptions.fixedShape). Batches ask programPerShape.
 */
export function compilesPerShape(): boolean {
  return tf.getBackend() === 'webgpu' || tf.getBackend() === 'webgl';
}

/**
 * Whether the active backend bakes every input's shape into the program it compiles (WebGL: a new program for each
 * new shape). WebGPU keys its programs by shader, input ranks and a few properties of the shapes (a product's
 * tiling), the shapes themselves being uniforms (TF.js's makeShaderKey, the engine's own WGSL programs): a new
 * shape there compiles at most a new variant, once a page.
 */
export function programPerShape(): boolean {
  return tf.getBackend() === 'webgl';
}

export async function generate(model: GPT, prompt: ArrayLike<number>, opts: SampleOptions): Promise<SampleResult> {
  const { blockSize, vocabSize } = model.config;
  const temperature = opts.temperature ?? 1;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new SampleError(`temperature must be ≥ 0, got ${temperature}`);
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0) throw new SampleError(`maxNewTokens must be a whole number ≥ 0, got ${opts.maxNewTokens}`);
  for (let i = 0; i < prompt.length; i++) {
    if (!Number.isInteger(prompt[i]) || prompt[i] < 0 || prompt[i] >= vocabSize)
      throw new SampleError(`prompt token ${prompt[i]} at ${i} is outside the vocabulary`);
  }
  const rng = createRng(opts.seed ?? 0);
  const context = Array.from(prompt);
  // An empty prompt starts from token 0, as nanoGPT's sample.py starts from a zero context.
  if (context.length === 0) context.push(0);
  const out: number[] = [];
  const stop = opts.stop ? Array.from(opts.stop) : [];
  const yieldNow = makeYielder(); // a reply never deafens the worker (Pause, Stop, cancel stay live)
  // Key/value cache while the context fits the block (each token then costs one position, not the whole
  // window). Past the block the window slides and every position moves, so the window is recomputed, as
  // nanoGPT does. GPU backends keep one fixed input shape instead (their kernels compile per shape).
  let cache: KVCache | null = null;
  try {
    for (let n = 0; n < opts.maxNewTokens; n++) {
      await yieldNow();
      if (opts.signal?.aborted) return { ids: out, reason: 'aborted' };
      const ctx = context.slice(-blockSize); // the last blockSize tokens
      const useCache = !opts.fixedShape && context.length <= blockSize;
      if (!useCache && cache) {
        disposeCache(cache);
        cache = null;
      }
      let logits: tf.Tensor1D;
      if (useCache) {
        const fresh = cache ? context.slice(cache.length) : ctx; // the tokens the cache has not seen
        const input = tf.tensor2d(fresh, [1, fresh.length], 'int32');
        const res = model.decode(input, cache); // the new cache's tensors are kept for us
        input.dispose();
        disposeCache(cache);
        cache = res.cache;
        logits = res.logits.reshape([-1]); // (V)
        res.logits.dispose();
      } else
        logits = tf.tidy(() => {
          if (!opts.fixedShape || ctx.length === blockSize) return model.lastLogits(tf.tensor2d(ctx, [1, ctx.length], 'int32')).reshape([-1]) as tf.Tensor1D;
          const padded = [...ctx, ...new Array<number>(blockSize - ctx.length).fill(0)];
          const all = model.forward(tf.tensor2d(padded, [1, blockSize], 'int32')); // (1, T, V)
          return all.slice([0, ctx.length - 1, 0], [1, 1, -1]).reshape([-1]) as tf.Tensor1D; // (V)
        });
      const values = (await logits.data()) as Float32Array; // sync point: one per token, needed to stream
      logits.dispose();
      const id = pickToken(values, temperature, opts.topK ?? 0, opts.topP ?? 1, rng.next());
      context.push(id);
      out.push(id);
      if (stop.length && out.length >= stop.length && stop.every((s, i) => out[out.length - stop.length + i] === s)) {
        out.splice(out.length - stop.length);
        return { ids: out, reason: 'stop' };
      }
      const why = opts.explain ? explainToken(values, id, opts.explain) : undefined;
      if (opts.onToken?.(id, why) === false) return { ids: out, reason: 'aborted' };
    }
    return { ids: out, reason: 'length' };
  } finally {
    disposeCache(cache);
  }
}
