/**
 * The GPT: nanoGPT's model.py in TF.js.
 *
 *   x = wte[idx] + wpe[0..T)            (B, T, C)
 *   for each block: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))
 *   logits = ln_f(x) · wteᵀ             (B, T, V)   LM head tied to the token embedding
 *
 * Shapes: B batch, T time (≤ blockSize), C = nEmbd, V = vocabSize.
 */
import * as tf from '../tf';
import { validateConfig, type GPTConfig } from './config';
import { causalMask, causalSelfAttention, type AttentionCache, type AttentionWeights, type LayerKV } from './attention';
import { crossEntropyRows, dropout, embedInput, gelu, layerNorm, linear } from './layers';
import { disposeParams, initParams, paramSpecs, WPE, WTE, type Params } from './params';
import { createRng, type Rng } from '../random';
import type { LoraAdapters } from './lora';
import { cachedAttentionActive, moveCacheRows } from '../ops/wasmFused/cachedAttention';

export interface ForwardOptions {
  /** Present only when training: draws the dropout masks. No rng means evaluation (dropout off). */
  rng?: Rng;
}

/**
 * Keys and values of every layer for the positions sampled so far (all rows share one length). Owned by
 * whoever received it from `decode`: dispose with disposeCache.
 */
export interface KVCache {
  layers: LayerKV[];
  length: number;
  /**
   * On wasm, the keys and values are buffers of the whole context, (B, nh, capacity, hs), of which the first
   * `length` positions are filled: the next position is written into them rather than concatenated.
   */
  capacity?: number;
}

export function disposeCache(cache: KVCache | null): void {
  if (cache) for (const l of cache.layers) tf.dispose([l.k, l.v]);
}

/** Whether a cache can move its rows (moveRows): in buffers of the whole context, on wasm. */
export function rowsMovable(cache: KVCache | null): cache is KVCache {
  return cache?.capacity !== undefined && cachedAttentionActive();
}

/**
 * Move rows of a cache in buffers of the whole context (rowsMovable): each [from, to] moves row `from`'s keys and
 * values into row `to`, in every layer, in order. Sampling fills the rows of finished replies with the last ones
 * still running; the next `decode` then passes fewer rows, which sit in the buffers' first rows in the order the
 * moves leave them.
 */
export function moveRows(cache: KVCache, moves: [number, number][]): void {
  if (!rowsMovable(cache)) throw new Error('only a cache in buffers of the whole context can move its rows');
  moveCacheRows(
    cache.layers.flatMap((l) => [l.k, l.v]),
    moves,
    cache.length,
  );
}

/** A linear layer's or a LayerNorm's weight and (when the config has biases) bias. */
interface Affine {
  w: tf.Tensor;
  b?: tf.Tensor;
}

/** One transformer block's parameters, as nanoGPT's Block holds them. */
interface BlockWeights {
  ln1: Affine;
  attn: AttentionWeights;
  ln2: Affine;
  fc: Affine; // (4C, C)
  proj: Affine; // (C, 4C)
}

/** Per forward pass: the block's mask, dropout and (when sampling) its key/value cache. */
interface BlockContext {
  nHead: number;
  mask: tf.Tensor2D;
  rate: number;
  seed: () => number | undefined;
  cache?: AttentionCache;
  /** Receives this block's attention weights (B, nh, T, T). */
  probe?: (att: tf.Tensor4D) => void;
  /** Only the last position's output, (B, 1, C) (the last block when only the next token's logits are wanted). */
  lastOnly?: boolean;
}

/**
 * nanoGPT's Block.forward: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)).
 * x: (B, T, C) → (B, T, C).
 */
function block(x: tf.Tensor3D, w: BlockWeights, c: BlockContext): tf.Tensor3D {
  const seeds = c.rate > 0 ? ([c.seed()!, c.seed()!] as [number, number]) : undefined;
  const a = layerNorm(x, w.ln1.w, w.ln1.b) as tf.Tensor3D; // (B, T, C)
  if (c.lastOnly) {
    // Every position's keys and values, but the rest for the last position only: (B, 1, C) from here on.
    const [B, T, C] = x.shape;
    x = x.slice([0, T - 1, 0], [B, 1, C]); // (B, 1, C)
  }
  x = x.add(causalSelfAttention(a, w.attn, c.nHead, c.mask, c.rate, seeds, c.cache, c.probe, c.lastOnly)); // (B, T, C), or (B, 1, C)
  const m = layerNorm(x, w.ln2.w, w.ln2.b); // (B, T, C)
  const h = gelu(linear(m, w.fc.w, w.fc.b)); // (B, T, 4C)
  const y = linear(h, w.proj.w, w.proj.b); // (B, T, C)
  return x.add(dropout(y, c.rate, c.seed())); // (B, T, C)
}

/** A block's weights with its adapters folded in: W + (α/r)·B·A for each adapted linear layer (inside tf.tidy). */
function adapted(w: BlockWeights, i: number, lora: LoraAdapters): BlockWeights {
  const h = `transformer.h.${i}`;
  return {
    ...w,
    attn: { ...w.attn, cAttnW: lora.adapt(`${h}.attn.c_attn.weight`, w.attn.cAttnW), cProjW: lora.adapt(`${h}.attn.c_proj.weight`, w.attn.cProjW) },
    fc: { ...w.fc, w: lora.adapt(`${h}.mlp.c_fc.weight`, w.fc.w) },
    proj: { ...w.proj, w: lora.adapt(`${h}.mlp.c_proj.weight`, w.proj.w) },
  };
}

export class GPT {
  /** Causal mask for the full block, created on first use; shorter sequences slice it. Owned by the model. */
  private fullMask: tf.Tensor2D | null = null;
  /** The blocks' parameters by role, looked up once (the tensors are the ones in `params`). */
  private readonly blockWeights: BlockWeights[];
  private readonly wte: tf.Variable;
  private readonly wpe: tf.Variable;
  private readonly lnF: Affine;
  /**
   * Low-rank adapters on some of the blocks' linear layers (LoRA), owned by the model while attached;
   * null for a plain model. With adapters, each adapted weight reads W + (α/r)·B·A in every forward pass.
   */
  lora: LoraAdapters | null = null;

  /** Takes ownership of `params`; dispose() frees them. Shapes are checked against the config. */
  constructor(
    readonly config: GPTConfig,
    readonly params: Params,
  ) {
    validateConfig(config);
    for (const spec of paramSpecs(config)) {
      const p = params.get(spec.name);
      if (!p) throw new Error(`missing parameter ${spec.name}`);
      if (!tf.util.arraysEqual(p.shape, spec.shape)) {
        throw new Error(`parameter ${spec.name} has shape [${p.shape}], expected [${spec.shape}]`);
      }
    }
    if (params.size !== paramSpecs(config).length) {
      const known = new Set(paramSpecs(config).map((s) => s.name));
      const extra = [...params.keys()].filter((n) => !known.has(n));
      throw new Error(`unexpected parameters for this config: ${extra.join(', ')}`);
    }
    const p = (name: string) => params.get(name)!;
    const affine = (prefix: string): Affine => ({ w: p(`${prefix}.weight`), b: params.get(`${prefix}.bias`) });
    this.wte = p(WTE);
    this.wpe = p(WPE);
    this.lnF = affine('transformer.ln_f');
    this.blockWeights = Array.from({ length: config.nLayer }, (_, i) => {
      const h = `transformer.h.${i}`;
      const cAttn = affine(`${h}.attn.c_attn`);
      const cProj = affine(`${h}.attn.c_proj`);
      return {
        ln1: affine(`${h}.ln_1`),
        attn: { cAttnW: cAttn.w, cAttnB: cAttn.b, cProjW: cProj.w, cProjB: cProj.b },
        ln2: affine(`${h}.ln_2`),
        fc: affine(`${h}.mlp.c_fc`),
        proj: affine(`${h}.mlp.c_proj`),
      };
    });
  }

  static create(config: GPTConfig, seed: number): GPT {
    validateConfig(config);
    return new GPT(config, initParams(config, createRng(seed)));
  }

  /** Causal mask for length T: a slice of the cached full mask (call inside tf.tidy). */
  private mask(T: number): tf.Tensor2D {
    this.fullMask ??= tf.keep(causalMask(this.config.blockSize));
    return T === this.config.blockSize ? this.fullMask : this.fullMask.slice([0, 0], [T, T]);
  }

  /** idx: (B, T) int32 → final hidden states after ln_f, (B, T, C). */
  hidden(idx: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    return this.blocks(idx, opts, null, null);
  }

  /**
   * The decoder stack. With `past` (P cached positions) the T new tokens sit at positions P..P+T-1 and
   * attend to the cached keys and values; `present` collects every layer's keys and values.
   */
  private blocks(
    idx: tf.Tensor2D,
    opts: ForwardOptions,
    past: KVCache | null,
    present: LayerKV[] | null,
    probe?: (layer: number, att: tf.Tensor4D) => void,
    lastOnly = false,
  ): tf.Tensor3D {
    const { nHead, blockSize, dropout: rate } = this.config;
    const [, T] = idx.shape;
    const P = past?.length ?? 0;
    if (P + T > blockSize) throw new Error(`cannot forward a sequence of length ${P + T}: blockSize is only ${blockSize}`);
    const training = opts.rng !== undefined && rate > 0;
    const seed = () => (training ? opts.rng!.seed() : undefined);
    // A cache in buffers of the whole context (decode gives one only for a single new position): written in place.
    const stored = past?.capacity !== undefined ? P : undefined;
    return tf.tidy(() => {
      // Queries P..P+T-1 over keys 0..P+T-1: rows of the full causal mask (unused with the buffers: one query sees every key).
      const mask = stored !== undefined ? this.mask(blockSize) : present ? this.mask(P + T).slice([P, 0], [T, P + T]) : this.mask(T); // (T, P+T)
      let x = dropout(embedInput(idx, this.wte, this.wpe, P), rate, seed()) as tf.Tensor3D; // (B, T, C): wte[idx] + wpe[P..P+T)
      this.blockWeights.forEach((base, i) => {
        const w = this.lora ? adapted(base, i, this.lora) : base;
        const cache: AttentionCache | undefined = present
          ? { past: past?.layers[i] ?? null, stored, present: (kv) => void present.push({ k: tf.keep(kv.k), v: tf.keep(kv.v) }) }
          : undefined;
        const last = lastOnly && i === this.blockWeights.length - 1;
        x = block(x, w, { nHead, mask, rate: training ? rate : 0, seed, cache, probe: probe && ((att) => probe(i, att)), lastOnly: last }); // (B, T, C); the last (B, 1, C) with lastOnly
      });
      return layerNorm(x, this.lnF.w, this.lnF.b) as tf.Tensor3D; // (B, T, C), or (B, 1, C)
    });
  }

  /**
   * The attention weights of every layer and head for one sequence, from one forward pass (evaluation: no
   * dropout): idx (1, T) → (nLayer, nh, T, T), each row a distribution over the keys up to its query.
   */
  attention(idx: tf.Tensor2D): tf.Tensor4D {
    // Kept past the stack's own tidy, then stacked and released here.
    const maps: tf.Tensor3D[] = [];
    try {
      tf.dispose(this.blocks(idx, {}, null, null, (_, att) => void maps.push(tf.keep(att.squeeze([0]) as tf.Tensor3D)))); // each (nh, T, T)
      return tf.stack(maps) as tf.Tensor4D; // (L, nh, T, T)
    } finally {
      tf.dispose(maps);
    }
  }

  /** idx: (B, T) int32 → logits (B, T, V). */
  forward(idx: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => linear(this.hidden(idx, opts), this.wte) as tf.Tensor3D); // (B, T, V)
  }

  /**
   * Logits at the last position only, (B, V): what sampling needs past the context, where the window is recomputed
   * for every token. The last block computes every position's keys and values but the rest (its attention's query,
   * projection, MLP) and the head for the last position only (the starter's held-out replies, most of them past its
   * context: 0.85× the time on one and two threads).
   */
  lastLogits(idx: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [B] = idx.shape;
      const h = this.blocks(idx, {}, null, null, undefined, true); // (B, 1, C)
      return linear(h.reshape([B, -1]), this.wte) as tf.Tensor2D; // (B, V)
    });
  }

  /**
   * Sampling with a key/value cache: the logits after T new tokens (B, V), given the cache of the P tokens
   * before them (null at the start), and the cache of all P + T. P + T ≤ blockSize. The old cache is left
   * to the caller: dispose it once the new one is made, and nothing else (on wasm both can hold the same buffers,
   * the new position written into them). Same logits as lastLogits over the whole context.
   */
  decode(idx: tf.Tensor2D, past: KVCache | null): { logits: tf.Tensor2D; cache: KVCache } {
    const [B, T] = idx.shape;
    const { blockSize } = this.config;
    const length = (past?.length ?? 0) + T;
    // On wasm the cache lives in buffers of the whole context, and one new position is written into them (its
    // cache holds new handles on the same buffers: the old cache may only be disposed). Else, and for several new
    // positions, the cache so far is concatenated with the new keys and values, as TF.js's tensors cannot grow.
    const buffers = cachedAttentionActive();
    let prior = past;
    let sliced: KVCache | null = null;
    if (past?.capacity !== undefined && (T > 1 || !buffers)) {
      const P = past.length;
      const filled = (t: tf.Tensor4D) => t.slice([0, 0, 0, 0], [B, -1, P, -1]) as tf.Tensor4D; // (B, nh, P, hs): the first B rows
      prior = sliced = { layers: past.layers.map((l) => ({ k: filled(l.k), v: filled(l.v) })), length: P };
    }
    const layers: LayerKV[] = [];
    try {
      const logits = tf.tidy(() => {
        const h = this.blocks(idx, {}, prior, layers); // (B, T, C)
        // One new position (every pass of sampling but the first): h is already the last one; a slice would be a
        // kernel that copies it, and on wasm waits for the queued kernels before it (the quiz: one per position).
        const last = (T === 1 ? h : h.slice([0, T - 1, 0], [B, 1, -1])).reshape([B, -1]); // (B, C)
        return linear(last, this.wte) as tf.Tensor2D; // (B, V)
      });
      if (prior?.capacity !== undefined) return { logits, cache: { layers, length, capacity: prior.capacity } };
      if (!buffers || length >= blockSize) return { logits, cache: { layers, length } };
      // Into buffers of the whole context for the positions to come: zeros after the first `length`.
      const widen = (t: tf.Tensor4D) =>
        tf.keep(
          tf.pad(t, [
            [0, 0],
            [0, 0],
            [0, blockSize - length],
            [0, 0],
          ]),
        ) as tf.Tensor4D; // (B, nh, blockSize, hs)
      const wide = layers.map((l) => ({ k: widen(l.k), v: widen(l.v) }));
      disposeCache({ layers, length });
      return { logits, cache: { layers: wide, length, capacity: blockSize } };
    } finally {
      disposeCache(sliced);
    }
  }

  /**
   * Mean cross-entropy of next-token targets. idx, targets: (B, T) int32. weights: optional (B, T) float
   * loss mask (1 = counted); the mean is over counted positions, as PyTorch's ignore_index does.
   * Returns a scalar.
   */
  loss(idx: tf.Tensor2D, targets: tf.Tensor2D, weights?: tf.Tensor2D, opts: ForwardOptions = {}): tf.Scalar {
    return tf.tidy(() => this.lossOf(this.forward(idx, opts).reshape([-1, this.config.vocabSize]) as tf.Tensor2D, targets, weights)); // logits (N, V)
  }

  /**
   * Evaluation: the loss as `loss` computes it and the next-token accuracy (share of counted positions whose
   * most likely token is the target), from one forward pass. Returns a scalar pair [loss, accuracy].
   */
  lossAndAccuracy(idx: tf.Tensor2D, targets: tf.Tensor2D, weights?: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const logits = this.forward(idx).reshape([-1, this.config.vocabSize]) as tf.Tensor2D; // (N, V)
      const hit = logits
        .argMax(-1)
        .equal(targets.reshape([-1]))
        .cast('float32'); // (N)
      const w = weights ? weights.reshape([-1]) : tf.onesLike(hit); // (N)
      const accuracy = hit.mul(w).sum().div(w.sum().maximum(1)); // ()
      return tf.stack([this.lossOf(logits, targets, weights), accuracy]) as tf.Tensor1D; // (2)
    });
  }

  /** Mean cross-entropy of logits (N, V) against targets, over counted positions. */
  private lossOf(logits: tf.Tensor2D, targets: tf.Tensor2D, weights?: tf.Tensor2D): tf.Scalar {
    const nll = crossEntropyRows(logits, targets); // (N): -log p(target)
    if (!weights) return nll.mean() as tf.Scalar;
    const w = weights.reshape([-1]); // (N)
    // max(…, 1): a batch with no counted position gives loss 0, not NaN.
    return nll.mul(w).sum().div(w.sum().maximum(1)) as tf.Scalar;
  }

  /** Attach adapters (the model takes ownership; any previous ones are disposed), or detach with null. */
  setLora(adapters: LoraAdapters | null): void {
    if (adapters && (adapters.config.nLayer !== this.config.nLayer || adapters.config.nEmbd !== this.config.nEmbd)) {
      throw new Error('these adapters were made for a model of another shape');
    }
    if (this.lora && this.lora !== adapters) this.lora.dispose();
    this.lora = adapters;
  }

  dispose(): void {
    this.setLora(null);
    disposeParams(this.params);
    this.fullMask?.dispose();
    this.fullMask = null;
  }
}
