/**
 * One validation per setting, shared by the page's form, the URL parser and the CLI's flags, so all three
 * accept and refuse the same values: whole or not, the bounds, finite.
 */
import { LORA_MAX_RANK } from '../model/loraConfig';

/**
 * `min` / `max` inclusive, `above` an exclusive lower bound (a learning rate must be > 0).
 * Counts stop at a million: past it a run would not end in a lifetime (steps 1e12) or fit in memory.
 */
export interface Limit {
  int: boolean;
  min?: number;
  above?: number;
  max: number;
}

/** The most a count setting takes (steps, batch, warmup, evaluation interval…). */
export const MAX_COUNT = 1_000_000;
/** Seeds are 32-bit (engine/random.ts): a larger one would silently wrap onto a smaller one's run. */
export const MAX_SEED = 2 ** 32 - 1;
/**
 * A learning rate past this is a typo, not an experiment. Divergence itself stays possible, as a lesson:
 * on `tiny`, lr 1000 turns the loss into NaN within ten steps (the run stops and says so), while lr 10
 * does not in 400 (measured with the CLI).
 */
export const MAX_LR = 1000;
/** Sampling temperature: past this every token is about equally likely (the logits are divided by it). */
export const MAX_TEMPERATURE = 100;
/** Discriminative factor: the bottom of a 24-layer model would train at lr / 100^23 past it, i.e. not at all. */
export const MAX_DISCRIMINATIVE = 100;
/** LoRA alpha: its scale alpha/rank past this swamps the frozen weights at the first step. */
export const MAX_LORA_ALPHA = 10_000;

const count = (min: number): Limit => ({ int: true, min, max: MAX_COUNT });

export const LIMITS = {
  steps: count(1),
  batch: count(1),
  warmup: count(0),
  evalEvery: count(0),
  evalIters: count(1),
  sampleEvery: count(0),
  gradAccum: count(1),
  lr: { int: false, above: 0, max: MAX_LR },
  seed: { int: true, min: 0, max: MAX_SEED },
  discriminative: { int: false, min: 1, max: MAX_DISCRIMINATIVE },
  loraRank: { int: true, min: 1, max: LORA_MAX_RANK },
  loraAlpha: { int: false, above: 0, max: MAX_LORA_ALPHA },
  /** 0 is greedy decoding. */
  temperature: { int: false, min: 0, max: MAX_TEMPERATURE },
  /** Blocks frozen from the bottom or top, steps between unfreezes. */
  k: count(0),
  every: count(1),
} as const satisfies Record<string, Limit>;

export type SettingName = keyof typeof LIMITS;

/** Whether `n` is a value `limit` allows. */
export function allowed(limit: Limit, n: number): boolean {
  return (
    Number.isFinite(n) &&
    (!limit.int || Number.isInteger(n)) &&
    (limit.min === undefined || n >= limit.min) &&
    (limit.above === undefined || n > limit.above) &&
    n <= limit.max
  );
}

/** The allowed values in words: "a whole number ≥ 1 and ≤ 1000000". */
export function describeLimit(limit: Limit): string {
  const bounds = [limit.above !== undefined ? `> ${limit.above}` : '', limit.min !== undefined ? `≥ ${limit.min}` : '', `≤ ${limit.max}`];
  return `${limit.int ? 'a whole number' : 'a number'} ${bounds.filter(Boolean).join(' and ')}`;
}
