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
import { causalMask, causalSelfAttention, type LayerKV } from './attention';
import { crossEntropyRows, dropout, embedding, gelu, layerNorm, linear } from './layers';
import { disposeParams, initParams, paramSpecs, WPE, WTE, type Params } from './params';
import { createRng, type Rng } from '../random';

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
}

export function disposeCache(cache: KVCache | null): void {
  if (cache) for (const l of cache.layers) tf.dispose([l.k, l.v]);
}

export class GPT {
  /** Causal mask for the full block, created on first use; shorter sequences slice it. Owned by the model. */
  private fullMask: tf.Tensor2D | null = null;

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
  }

  static create(config: GPTConfig, seed: number): GPT {
    validateConfig(config);
    return new GPT(config, initParams(config, createRng(seed)));
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`missing parameter ${name}`);
    return v;
  }

  private optional(name: string): tf.Variable | undefined {
    return this.params.get(name);
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
  private blocks(idx: tf.Tensor2D, opts: ForwardOptions, past: KVCache | null, present: LayerKV[] | null): tf.Tensor3D {
    const { nLayer, nHead, blockSize, dropout: rate } = this.config;
    const [, T] = idx.shape;
    const P = past?.length ?? 0;
    if (P + T > blockSize) throw new Error(`cannot forward a sequence of length ${P + T}: blockSize is only ${blockSize}`);
    const training = opts.rng !== undefined && rate > 0;
    const seed = () => (training ? opts.rng!.seed() : undefined);
    return tf.tidy(() => {
      // Queries P..P+T-1 over keys 0..P+T-1: rows of the full causal mask.
      const mask = present ? this.mask(P + T).slice([P, 0], [T, P + T]) : this.mask(T); // (T, P+T)
      const tokEmb = embedding(idx, this.p(WTE)) as tf.Tensor3D; // (B, T, C)
      const posEmb = this.p(WPE).slice([P, 0], [T, -1]); // (T, C)
      let x = dropout(tokEmb.add(posEmb), rate, seed()) as tf.Tensor3D; // (B, T, C)
      for (let i = 0; i < nLayer; i++) {
        const h = `transformer.h.${i}`;
        const a = layerNorm(x, this.p(`${h}.ln_1.weight`), this.optional(`${h}.ln_1.bias`)); // (B, T, C)
        const seeds: [number, number] | undefined = training ? [seed()!, seed()!] : undefined;
        x = x.add(
          causalSelfAttention(
            a as tf.Tensor3D,
            {
              cAttnW: this.p(`${h}.attn.c_attn.weight`),
              cAttnB: this.optional(`${h}.attn.c_attn.bias`),
              cProjW: this.p(`${h}.attn.c_proj.weight`),
              cProjB: this.optional(`${h}.attn.c_proj.bias`),
            },
            nHead,
            mask,
            training ? rate : 0,
            seeds,
            present ? { past: past?.layers[i] ?? null, present: (kv) => void present.push({ k: tf.keep(kv.k), v: tf.keep(kv.v) }) } : undefined,
          ),
        ); // (B, T, C)
        const m = layerNorm(x, this.p(`${h}.ln_2.weight`), this.optional(`${h}.ln_2.bias`)); // (B, T, C)
        const f = gelu(linear(m, this.p(`${h}.mlp.c_fc.weight`), this.optional(`${h}.mlp.c_fc.bias`))); // (B, T, 4C)
        const proj = linear(f, this.p(`${h}.mlp.c_proj.weight`), this.optional(`${h}.mlp.c_proj.bias`)); // (B, T, C)
        x = x.add(dropout(proj, rate, seed())); // (B, T, C)
      }
      return layerNorm(x, this.p('transformer.ln_f.weight'), this.optional('transformer.ln_f.bias')) as tf.Tensor3D;
    });
  }

  /** idx: (B, T) int32 → logits (B, T, V). */
  forward(idx: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => linear(this.hidden(idx, opts), this.p(WTE)) as tf.Tensor3D); // (B, T, V)
  }

  /** Logits at the last position only, (B, V): what sampling needs, without the (B, T, V) head. */
  lastLogits(idx: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [B, T] = idx.shape;
      const h = this.hidden(idx); // (B, T, C)
      const last = h.slice([0, T - 1, 0], [B, 1, -1]).reshape([B, -1]); // (B, C)
      return linear(last, this.p(WTE)) as tf.Tensor2D; // (B, V)
    });
  }

  /**
   * Sampling with a key/value cache: the logits after T new tokens (B, V), given the cache of the P tokens
   * before them (null at the start), and the cache of all P + T. P + T ≤ blockSize. The old cache is left
   * to the caller (dispose it once the new one is made). Same logits as lastLogits over the whole context.
   */
  decode(idx: tf.Tensor2D, past: KVCache | null): { logits: tf.Tensor2D; cache: KVCache } {
    const layers: LayerKV[] = [];
    const logits = tf.tidy(() => {
      const [B, T] = idx.shape;
      const h = this.blocks(idx, {}, past, layers); // (B, T, C)
      const last = h.slice([0, T - 1, 0], [B, 1, -1]).reshape([B, -1]); // (B, C)
      return linear(last, this.p(WTE)) as tf.Tensor2D; // (B, V)
    });
    return { logits, cache: { layers, length: (past?.length ?? 0) + idx.shape[1] } };
  }

  /**
   * Mean cross-entropy of next-token targets. idx, targets: (B, T) int32. weights: optional (B, T) float
   * loss mask (1 = counted); the mean is over counted positions, as PyTorch's ignore_index does.
   * Returns a scalar.
   */
  loss(idx: tf.Tensor2D, targets: tf.Tensor2D, weights?: tf.Tensor2D, opts: ForwardOptions = {}): tf.Scalar {
    return tf.tidy(() => {
      const V = this.config.vocabSize;
      const logits = this.forward(idx, opts).reshape([-1, V]); // (N, V)
      const nll = crossEntropyRows(logits as tf.Tensor2D, targets); // (N): -log p(target)
      if (!weights) return nll.mean() as tf.Scalar;
      const w = weights.reshape([-1]); // (N)
      // max(…, 1): a batch with no counted position gives loss 0, not NaN.
      return nll.mul(w).sum().div(w.sum().maximum(1)) as tf.Scalar;
    });
  }

  dispose(): void {
    disposeParams(this.params);
    this.fullMask?.dispose();
    this.fullMask = null;
  }
}
