/**
 * LoRA's settings and shapes as plain data (no TF.js), so the page's store and diagram can use them: which
 * layers get adapters, the adapters' names and shapes, and how many numbers they train. The adapters
 * themselves live in lora.ts.
 */
import { EngineError } from '../errors';
import type { GPTConfig } from './config';

/** The linear layers an adapter can sit on, by their name inside a block. */
export const LORA_LAYERS = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'] as const;
export type LoraLayer = (typeof LORA_LAYERS)[number];

/** Which layers get adapters: attention only (the default, as in the paper), or the MLP too. */
export type LoraTargets = 'attn' | 'attn,mlp';

export interface LoraConfig {
  /** Rank r, 1–64. */
  rank: number;
  /** α: the update is scaled by α / r, so changing r keeps the update's size comparable. */
  alpha: number;
  targets: LoraTargets;
}

export const DEFAULT_LORA: LoraConfig = { rank: 8, alpha: 16, targets: 'attn' };
export const LORA_MAX_RANK = 64;

export class LoraError extends EngineError {
  override name = 'LoraError';
}

export function loraLayers(targets: LoraTargets): LoraLayer[] {
  return targets === 'attn' ? ['attn.c_attn', 'attn.c_proj'] : [...LORA_LAYERS];
}

/** CLI and URL syntax: "attn" or "attn,mlp" (also "mlp,attn"). */
export function parseLoraTargets(text: string): LoraTargets {
  const parts = new Set(text.split(',').map((s) => s.trim()));
  if (parts.size === 1 && parts.has('attn')) return 'attn';
  if (parts.size === 2 && parts.has('attn') && parts.has('mlp')) return 'attn,mlp';
  throw new LoraError(`unknown LoRA targets "${text}": use attn or attn,mlp`, 'loraTargets', { value: text });
}

export function validateLora(c: LoraConfig): LoraConfig {
  if (!Number.isInteger(c.rank) || c.rank < 1 || c.rank > LORA_MAX_RANK) {
    throw new LoraError(`LoRA rank must be a whole number from 1 to ${LORA_MAX_RANK}, got ${c.rank}`, 'loraRank', { value: c.rank, max: LORA_MAX_RANK });
  }
  if (!(c.alpha > 0) || !Number.isFinite(c.alpha)) throw new LoraError(`LoRA alpha must be a number > 0, got ${c.alpha}`, 'loraAlpha', { value: c.alpha });
  parseLoraTargets(c.targets);
  return c;
}

/** [out, in] of a block's linear layer, as params.ts lays it out. */
function layerShape(config: GPTConfig, layer: LoraLayer): [number, number] {
  const C = config.nEmbd;
  switch (layer) {
    case 'attn.c_attn':
      return [3 * C, C];
    case 'attn.c_proj':
      return [C, C];
    case 'mlp.c_fc':
      return [4 * C, C];
    case 'mlp.c_proj':
      return [C, 4 * C];
  }
}

/** One adapter's tensors and where it sits. */
export interface AdapterSpec {
  block: number;
  layer: LoraLayer;
  /** The adapted weight's name, e.g. transformer.h.0.attn.c_attn.weight. */
  weight: string;
  a: { name: string; shape: [number, number] }; // (r, in)
  b: { name: string; shape: [number, number] }; // (out, r)
}

export function adapterSpecs(config: GPTConfig, lora: LoraConfig): AdapterSpec[] {
  const specs: AdapterSpec[] = [];
  for (let i = 0; i < config.nLayer; i++) {
    for (const layer of loraLayers(lora.targets)) {
      const [out, inp] = layerShape(config, layer);
      const prefix = `transformer.h.${i}.${layer}`;
      specs.push({
        block: i,
        layer,
        weight: `${prefix}.weight`,
        a: { name: `${prefix}.lora_A`, shape: [lora.rank, inp] },
        b: { name: `${prefix}.lora_B`, shape: [out, lora.rank] },
      });
    }
  }
  return specs;
}

/** Trainable numbers in the adapters of a config: r·(in + out) per adapted layer. */
export function loraParamCount(config: GPTConfig, lora: LoraConfig): number {
  return adapterSpecs(config, lora).reduce((n, s) => n + s.a.shape[0] * s.a.shape[1] + s.b.shape[0] * s.b.shape[1], 0);
}
