/**
 * GPTConfig: the shape of a nanoGPT model, as plain readonly data.
 *
 * Field names are ours (camelCase); `toModelArgs` / `fromModelArgs` translate to nanoGPT's
 * `model_args` dict so a checkpoint round-trips through PyTorch.
 */

import { EngineError } from '../errors';

export interface GPTConfig {
  /** Number of token ids, special tokens included (nanoGPT: vocab_size). */
  readonly vocabSize: number;
  /** Longest context the model can see; sizes the position embedding (block_size). */
  readonly blockSize: number;
  /** Transformer blocks (n_layer). */
  readonly nLayer: number;
  /** Attention heads per block (n_head); must divide nEmbd. */
  readonly nHead: number;
  /** Residual stream width C (n_embd). */
  readonly nEmbd: number;
  /** Dropout probability in [0, 1), applied after embeddings, attention weights, and both residual branches. */
  readonly dropout: number;
  /** Bias in Linear layers and LayerNorms (nanoGPT's train.py defaults to false). */
  readonly bias: boolean;
}

/** Architecture presets; vocabSize is filled in from the tokenizer. */
export type PresetName = 'tiny' | 'baby' | 'small';
export type ArchConfig = Omit<GPTConfig, 'vocabSize'>;

export const PRESETS: Readonly<Record<PresetName, ArchConfig>> = {
  /** For tests and a first run that shows a falling loss within seconds on a CPU. */
  tiny: { blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0, bias: false },
  /** nanoGPT's CPU "baby" config (README: 4 layers, 4 heads, 128 wide, block 64, dropout 0). */
  baby: { blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: false },
  /** nanoGPT's config/train_shakespeare_char.py. */
  small: { blockSize: 256, nLayer: 6, nHead: 6, nEmbd: 384, dropout: 0.2, bias: false },
};

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** The preset an architecture is, or 'custom': the one rule that names a configuration. */
export function presetOf(arch: ArchConfig): PresetName | 'custom' {
  const keys = Object.keys(PRESETS.tiny) as (keyof ArchConfig)[];
  return PRESET_NAMES.find((p) => keys.every((k) => PRESETS[p][k] === arch[k])) ?? 'custom';
}

/** The architecture part of a model's configuration. */
export function archOf(c: GPTConfig): ArchConfig {
  return { blockSize: c.blockSize, nLayer: c.nLayer, nHead: c.nHead, nEmbd: c.nEmbd, dropout: c.dropout, bias: c.bias };
}

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as string[]).includes(name);
}

/**
 * The architectures this playground builds, one set of bounds for validateConfig and the model panel, so
 * the page never offers a model the engine refuses nor refuses one the engine builds. The maxima keep a
 * model trainable in TF.js (GPT-2 medium's depth and width, GPT-2's context); the minima are only what
 * the maths needs (tests run 4-wide, 2-token models).
 */
export const ARCH_LIMITS = {
  nLayer: { min: 1, max: 24 },
  nHead: { min: 1, max: 32 },
  nEmbd: { min: 1, max: 1024 },
  blockSize: { min: 1, max: 1024 },
} as const satisfies Partial<Record<keyof ArchConfig, { min: number; max: number }>>;

/** The largest vocabulary a model may have (a model file claiming more is refused). */
export const MAX_VOCAB_SIZE = 1 << 20;

/** Dropout is a probability below 1: at 1 every activation would be zeroed. */
export function isDropout(p: number): boolean {
  return p >= 0 && p < 1;
}

/** Head counts within ARCH_LIMITS that divide the width: what to suggest when nHead does not. */
export function headsDividing(nEmbd: number): number[] {
  const heads = [];
  for (let h = ARCH_LIMITS.nHead.min; h <= Math.min(nEmbd, ARCH_LIMITS.nHead.max); h++) if (nEmbd % h === 0) heads.push(h);
  return heads;
}

export class ConfigError extends EngineError {
  override name = 'ConfigError';
}

function checkInt(field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${field} must be an integer in [${min}, ${max}], got ${String(value)}`, 'configRange', { field, min, max, value: String(value) });
  }
}

/** Throws a ConfigError naming the first bad field and the values it may take. */
export function validateConfig(c: GPTConfig): GPTConfig {
  checkInt('vocabSize', c.vocabSize, 2, MAX_VOCAB_SIZE);
  for (const field of ['blockSize', 'nLayer', 'nHead', 'nEmbd'] as const) checkInt(field, c[field], ARCH_LIMITS[field].min, ARCH_LIMITS[field].max);
  if (c.nEmbd % c.nHead !== 0) {
    throw new ConfigError(
      `nEmbd (${c.nEmbd}) must be divisible by nHead (${c.nHead}); heads that divide ${c.nEmbd}: ${headsDividing(c.nEmbd).join(', ')}`,
      'configHeads',
      { embd: c.nEmbd, heads: c.nHead, options: headsDividing(c.nEmbd).join(', ') },
    );
  }
  if (typeof c.dropout !== 'number' || !isDropout(c.dropout)) {
    throw new ConfigError(`dropout must be a number in [0, 1), got ${String(c.dropout)}`, 'configDropout', { value: String(c.dropout) });
  }
  if (typeof c.bias !== 'boolean') throw new ConfigError(`bias must be true or false, got ${String(c.bias)}`, 'configBias', { value: String(c.bias) });
  return c;
}

/** nanoGPT's model_args dict, as stored in ckpt.pt and in our safetensors metadata. */
export interface ModelArgs {
  n_layer: number;
  n_head: number;
  n_embd: number;
  block_size: number;
  bias: boolean;
  vocab_size: number;
  dropout: number;
}

export function toModelArgs(c: GPTConfig): ModelArgs {
  return {
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_embd: c.nEmbd,
    block_size: c.blockSize,
    bias: c.bias,
    vocab_size: c.vocabSize,
    dropout: c.dropout,
  };
}

export function fromModelArgs(a: ModelArgs): GPTConfig {
  return validateConfig({
    vocabSize: a.vocab_size,
    blockSize: a.block_size,
    nLayer: a.n_layer,
    nHead: a.n_head,
    nEmbd: a.n_embd,
    dropout: a.dropout,
    bias: a.bias,
  });
}

/**
 * Every parameter, the tied LM head counted once and the position embeddings included: nanoGPT's
 * get_num_params(non_embedding=False). nanoGPT's default (the figure it prints when a model is built)
 * is non_embedding=True, which leaves out the position embeddings: blockSize · nEmbd fewer.
 */
export function countParams(c: GPTConfig): number {
  const C = c.nEmbd;
  const b = c.bias ? 1 : 0;
  const ln = C + b * C;
  const block = 2 * ln + (3 * C * C + b * 3 * C) + (C * C + b * C) + (4 * C * C + b * 4 * C) + (4 * C * C + b * C);
  return c.vocabSize * C + c.blockSize * C + c.nLayer * block + ln;
}
