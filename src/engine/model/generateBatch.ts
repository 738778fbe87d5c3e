/**
 * Many replies at once: the prompts go through the model side by side, one position per forward pass for all
 * of them, with one key/value cache. Scoring a quiz of hundreds of questions then costs one forward per
 * position instead of one per position per question.
 *
 * Lockstep without padding: at pass t every row feeds its token at position t — its prompt's token while
 * t is inside its prompt, else the token it drew last — so every row sits at the same position and sees
 * exactly its own tokens, as `generate` would show it. On every backend but WebGL the first pass feeds the
 * positions every prompt covers at once (the shortest prompt's, as `generate` feeds a whole prompt): one pass
 * for them, not one each. A row draws a token once its prompt is consumed, with its own seeded Rng (prompt i:
 * seed + i, as sampleReplies has always done), so each reply equals the one `generate` gives that prompt
 * alone. Where the cache lives in buffers of the whole context (WebAssembly), a finished row leaves the batch:
 * the last running row's cache moves into its place, and later passes compute only the running rows (a third of
 * the passes' rows, in a fine-tuned model's quiz, are replies already finished). Each row's numbers do not depend
 * on where in the batch it sits (a row left alone takes the one-row products, as generate's does). Past the
 * context the window slides, as in `generate`: every unfinished row's last blockSize tokens go through the model
 * at once (all rows are at the same position, so the windows are equally long).
 */
import * as tf from '../tf';
import { disposeCache, moveRows, rowsMovable, type GPT, type KVCache } from './gpt';
import { generate, pickToken, programPerShape, SampleError, type SampleOptions, type SampleResult } from './generate';
import { createRng, type Rng } from '../random';
import { makeYielder } from '../yielder';

export interface BatchOptions extends Pick<SampleOptions, 'maxNewTokens' | 'temperature' | 'topK' | 'topP' | 'stop' | 'signal'> {
  /** Row i samples with seed + i. */
  seed?: number;
  /**
   * Row i samples with seeds[i] instead: a subset of a larger batch's prompts (the rest already sampled) gets the
   * replies it would get there, as each row's reply is the one its prompt gets alone.
   */
  seeds?: readonly number[];
  /** Rows per forward pass (bounds the cache: rows × layers × 2 × context × width floats). Default 128. */
  rowsPerPass?: number;
  /** Called as each row finishes, with its index. */
  onResult?(result: SampleResult, index: number): void;
}

interface Row {
  index: number;
  prompt: number[];
  out: number[];
  rng: Rng;
  done: SampleResult | null;
}

/** A row's token at position i: its prompt's, then its drawn ones (a finished row feeds a dummy 0). */
const tokenAt = (r: Row, i: number) => (i < r.prompt.length ? r.prompt[i] : (r.out[i - r.prompt.length] ?? 0));

/**
 * Pure: drop the finished items of a list in place of a batch's rows, filling each hole with the last unfinished
 * item (so only as many rows move as finished ones sit before the end). Returns the items left, in their new order,
 * and the moves [from, to] that make it, to be applied in order.
 */
export function fillHoles<T>(items: readonly T[], finished: (x: T) => boolean): { kept: T[]; moves: [number, number][] } {
  const kept = items.slice();
  const moves: [number, number][] = [];
  let n = kept.length;
  for (let i = 0; i < n; i++) {
    if (!finished(kept[i])) continue;
    while (n - 1 > i && finished(kept[n - 1])) n--; // finished rows at the end just go
    if (n - 1 === i) {
      n = i;
      break;
    }
    kept[i] = kept[n - 1];
    moves.push([n - 1, i]);
    n--;
  }
  return { kept: kept.slice(0, n), moves };
}

const endsWith = (out: number[], stop: number[]) =>
  stop.length > 0 && out.length >= stop.length && stop.every((s, i) => out[out.length - stop.length + i] === s);

export async function generateBatch(model: GPT, prompts: ArrayLike<number>[], opts: BatchOptions): Promise<SampleResult[]> {
  const { blockSize, vocabSize } = model.config;
  const temperature = opts.temperature ?? 1;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new SampleError(`temperature must be ≥ 0, got ${temperature}`);
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0) throw new SampleError(`maxNewTokens must be a whole number ≥ 0, got ${opts.maxNewTokens}`);
  prompts.forEach((p, r) => {
    for (let i = 0; i < p.length; i++)
      if (!Number.isInteger(p[i]) || p[i] < 0 || p[i] >= vocabSize) throw new SampleError(`prompt ${r}: token ${p[i]} at ${i} is outside the vocabulary`);
  });
  const seed = opts.seed ?? 0;
  if (opts.seeds && opts.seeds.length !== prompts.length) throw new SampleError(`${opts.seeds.length} seeds for ${prompts.length} prompts`);
  const seedOf = (i: number) => opts.seeds?.[i] ?? seed + i;
  const stop = opts.stop ? Array.from(opts.stop) : [];
  const results: SampleResult[] = new Array(prompts.length);
  const per = Math.max(1, opts.rowsPerPass ?? 128);
  const yieldNow = makeYielder();
  const finish = (row: Row, r: SampleResult) => {
    row.done = r;
    results[row.index] = r;
    opts.onResult?.(r, row.index);
  };

  for (let start = 0; start < prompts.length; start += per) {
    // An empty prompt starts from token 0, as generate does.
    const rows: Row[] = Array.from({ length: Math.min(per, prompts.length - start) }, (_, k) => {
      const p = Array.from(prompts[start + k]);
      return { index: start + k, prompt: p.length ? p : [0], out: [], rng: createRng(seedOf(start + k)), done: null };
    });
    // Prompts longer than the context go to generate (it crops them and slides from the start), as do replies of no tokens.
    for (const row of rows)
      if (row.prompt.length > blockSize || opts.maxNewTokens === 0)
        finish(row, await generate(model, prompts[row.index], { ...opts, seed: seedOf(row.index) }));
    // The first pass reads the positions every row's prompt covers (the shortest prompt's) in one go, as
    // generate reads a whole prompt: one forward with R × lead rows instead of lead forwards of R. On a GPU the
    // saving is whole passes (their launches and read-backs, which a GPU pass is mostly made of: a quarter of the
    // lesson's quiz). Not on WebGL, which compiles a program for each new shape: one position a pass there.
    const lead = programPerShape() ? 1 : rows.reduce((m, r) => Math.min(m, r.prompt.length), blockSize);
    let cache: KVCache | null = null;
    // The rows the cache holds, in its order: all of them, but where the cache can move its rows (wasm), finished
    // rows leave it (fillHoles), so that later passes compute only the replies still running.
    let live = rows;
    try {
      for (let t = lead - 1; rows.some((r) => !r.done); t++) {
        await yieldNow();
        if (opts.signal?.aborted) {
          for (const row of rows) if (!row.done) finish(row, { ids: row.out, reason: 'aborted' });
          break;
        }
        let active = live;
        let logitsT: tf.Tensor2D;
        if (t < blockSize) {
          // Within the context: the new positions (from the cache's length to t) for every live row, on the cache.
          const from = cache ? t : 0;
          const input = tf.tensor2d(
            live.flatMap((r) => Array.from({ length: t + 1 - from }, (_, i) => tokenAt(r, from + i))),
            [live.length, t + 1 - from],
            'int32',
          ); // (R, 1), or (R, lead) at the first pass
          const res = model.decode(input, cache);
          input.dispose();
          disposeCache(cache);
          cache = res.cache;
          logitsT = res.logits; // (R, V)
        } else {
          // Past it: the last blockSize tokens of each unfinished row, recomputed (as generate does).
          disposeCache(cache);
          cache = null;
          active = rows.filter((r) => !r.done);
          const windows = active.flatMap((r) => Array.from({ length: blockSize }, (_, i) => tokenAt(r, t - blockSize + 1 + i)));
          logitsT = tf.tidy(() => model.lastLogits(tf.tensor2d(windows, [active.length, blockSize], 'int32'))); // (A, V)
        }
        const logits = (await logitsT.data()) as Float32Array; // one read-back per position
        logitsT.dispose();
        active.forEach((row, k) => {
          if (row.done || t < row.prompt.length - 1) return; // still reading its prompt
          const id = pickToken(logits.subarray(k * vocabSize, (k + 1) * vocabSize), temperature, opts.topK ?? 0, opts.topP ?? 1, row.rng.next());
          row.out.push(id);
          if (endsWith(row.out, stop)) finish(row, { ids: row.out.slice(0, row.out.length - stop.length), reason: 'stop' });
          else if (row.out.length >= opts.maxNewTokens) finish(row, { ids: row.out, reason: 'length' });
        });
        if (rowsMovable(cache) && live.some((r) => r.done)) {
          const { kept, moves } = fillHoles(live, (r) => r.done !== null);
          moveRows(cache, moves);
          live = kept;
        }
      }
    } finally {
      disposeCache(cache);
    }
    if (opts.signal?.aborted) {
      for (let i = start + rows.length; i < prompts.length; i++) results[i] = { ids: [], reason: 'aborted' };
      break;
    }
  }
  return results;
}
