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
import { causalMask, causalSelfAttention } from './attention';
import { dropout, embedding, gelu, layerNorm, linear, oneHotFloat } from './layers';
import { disposeParams, initParams, paramSpecs, WPE, WTE, type Params } from './params';
import { createRng, type Rng } from '../random';

export interface ForwardOptions {
  /** Present only when training: draws the dropout masks. No rng means evaluation (dropout off). */
  rng?: Rng;
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
    const { nLayer, nHead, blockSize, dropout: rate } = this.config;
    const [, T] = idx.shape;
    if (T > blockSize) throw new Error(`cannot forward a sequence of length ${T}: blockSize is only ${blockSize}`);
    const training = opts.rng !== undefined && rate > 0;
    const seed = () => (training ? opts.rng!.seed() : undefined);
    return tf.tidy(() => {
      const mask = this.mask(T); // (T, T)
      const tokEmb = embedding(idx, this.p(WTE)) as tf.Tensor3D; // (B, T, C)
      const posEmb = this.p(WPE).slice([0, 0], [T, -1]); // (T, C)
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
   * Mean cross-entropy of next-token targets. idx, targets: (B, T) int32. weights: optional (B, T) float
   * loss mask (1 = counted); the mean is over counted positions, as PyTorch's ignore_index does.
   * Returns a scalar.
   */
  loss(idx: tf.Tensor2D, targets: tf.Tensor2D, weights?: tf.Tensor2D, opts: ForwardOptions = {}): tf.Scalar {
    return tf.tidy(() => {
      const V = this.config.vocabSize;
      const logits = this.forward(idx, opts).reshape([-1, V]); // (N, V)
      const logp = tf.logSoftmax(logits, -1); // (N, V)
      // -log p(target): picked with a one-hot product, as gather has no gradient on wasm.
      const nll = oneHotFloat(targets, V).mul(logp).sum(-1).neg(); // (N)
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
