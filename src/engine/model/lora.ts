/**
 * LoRA: low-rank adapters on chosen linear layers (Hu et al., 2021).
 *
 *   W' = W + (α/r)·B·A     W (out, in) frozen, B (out, r), A (r, in) trained
 *
 * A starts small and random (seeded), B at zero, so at step 0 W' = W exactly and the model is the base
 * model. Only A and B train; the base weights stay bit-identical. The adapted weight is formed once per
 * forward pass (a (out, r)·(r, in) product, small beside the (B·T, in)·(in, out) one it feeds), so the
 * layers themselves are untouched and the merged export is the very same sum.
 *
 * Adapter variables carry names beside their layer's (`transformer.h.0.attn.c_attn.lora_A`), so the
 * optimizer keys its state by them and they fall into their block's group.
 */
import * as tf from '../tf';
import { createRng } from '../random';
import { Fingerprint } from '../fingerprint';
import type { GPTConfig } from './config';
import { adapterSpecs, LoraError, validateLora, type AdapterSpec, type LoraConfig } from './loraConfig';
import { createVariable } from './params';

export { adapterSpecs, DEFAULT_LORA, LORA_LAYERS, LORA_MAX_RANK, LoraError, loraLayers, loraParamCount, parseLoraTargets, validateLora } from './loraConfig';
export type { AdapterSpec, LoraConfig, LoraLayer, LoraTargets } from './loraConfig';

/** A model's adapters: owned variables, looked up by the adapted weight's name. */
export class LoraAdapters {
  /** Every adapter variable by its name (…lora_A, …lora_B): what the trainer trains. */
  readonly params = new Map<string, tf.Variable>();
  private readonly byWeight = new Map<string, { spec: AdapterSpec; a: tf.Variable; b: tf.Variable }>();
  readonly scale: number;

  /** Takes ownership of `values` as variables; shapes are checked against the config. */
  constructor(
    readonly config: GPTConfig,
    readonly lora: LoraConfig,
    values: Map<string, Float32Array>,
  ) {
    validateLora(lora);
    this.scale = lora.alpha / lora.rank;
    const specs = adapterSpecs(config, lora);
    try {
      for (const spec of specs) {
        const make = (t: { name: string; shape: [number, number] }) => {
          const v = values.get(t.name);
          if (!v) throw new LoraError(`adapter tensor ${t.name} is missing`, 'loraAdapterDamaged', { detail: `${t.name} missing` });
          if (v.length !== t.shape[0] * t.shape[1])
            throw new LoraError(`adapter tensor ${t.name} has ${v.length} values, expected [${t.shape}]`, 'loraAdapterDamaged', {
              detail: `${t.name}: ${v.length} ≠ [${t.shape}]`,
            });
          const variable = createVariable(t.name, v, t.shape);
          this.params.set(t.name, variable);
          return variable;
        };
        this.byWeight.set(spec.weight, { spec, a: make(spec.a), b: make(spec.b) });
      }
      const known = new Set(specs.flatMap((s) => [s.a.name, s.b.name]));
      const extra = [...values.keys()].filter((n) => !known.has(n));
      if (extra.length)
        throw new LoraError(
          `unexpected adapter tensors for rank ${lora.rank}, targets ${lora.targets}: ${extra.slice(0, 5).join(', ')}`,
          'loraAdapterDamaged',
          { detail: `+ ${extra.slice(0, 5).join(', ')}` },
        );
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Fresh adapters: A uniform in ±1/√in (PyTorch's Linear init, as PEFT does), B zero. Seeded. */
  static create(config: GPTConfig, lora: LoraConfig, seed: number): LoraAdapters {
    validateLora(lora);
    const rng = createRng(seed);
    const values = new Map<string, Float32Array>();
    for (const spec of adapterSpecs(config, lora)) {
      const [r, inp] = spec.a.shape;
      const bound = 1 / Math.sqrt(inp);
      values.set(
        spec.a.name,
        Float32Array.from({ length: r * inp }, () => (2 * rng.next() - 1) * bound),
      );
      values.set(spec.b.name, new Float32Array(spec.b.shape[0] * spec.b.shape[1]));
    }
    return new LoraAdapters(config, lora, values);
  }

  get specs(): AdapterSpec[] {
    return [...this.byWeight.values()].map((x) => x.spec);
  }

  get size(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /** W + (α/r)·B·A for an adapted weight; W itself when the layer has no adapter. Call inside tf.tidy. */
  adapt(name: string, w: tf.Tensor): tf.Tensor {
    const ad = this.byWeight.get(name);
    if (!ad) return w;
    return w.add(tf.matMul(ad.b, ad.a).mul(this.scale)); // (out, r)·(r, in) → (out, in)
  }

  /** ‖(α/r)·B·A‖ per adapter (the size of each layer's update), keyed by the adapted weight. A sync point. */
  async updateNorms(): Promise<Map<string, number>> {
    const names = [...this.byWeight.keys()];
    const t = tf.tidy(() =>
      tf.stack(
        names.map((n) => {
          const ad = this.byWeight.get(n)!;
          return tf.matMul(ad.b, ad.a).mul(this.scale).norm();
        }),
      ),
    ); // (adapters)
    const v = await t.data();
    t.dispose();
    return new Map(names.map((n, i) => [n, v[i]]));
  }

  /** Copy of every adapter variable's values. A sync point. */
  async values(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.params) out.set(name, (await v.data()) as Float32Array);
    return out;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
    this.byWeight.clear();
  }
}

/**
 * A fingerprint of a model's weights: 64 bits (two FNV-1a streams) over the names, shapes and float bits
 * in name order, as 16 hex digits. An adapter file carries its base's, so it is never loaded onto another.
 */
export function weightsFingerprint(values: Map<string, Float32Array>): string {
  const f = new Fingerprint();
  for (const name of [...values.keys()].sort()) f.text(name).bits(values.get(name)!);
  return f.hex();
}
