/**
 * The CLI's flags: their definitions, parsing and range checks, and the run settings they give (the same
 * RunSettings the page's requests are; engine/train/specs.ts turns both into a TrainSpec).
 */
import { parseArgs } from 'node:util';
import { ARCH_LIMITS, isPresetName } from '../src/engine/model/config';
import { LORA_MAX_RANK, parseLoraTargets, type LoraConfig, type LoraTargets } from '../src/engine/model/lora';
import { parsePlan, type FreezePlan } from '../src/engine/train/freeze';
import type { ScheduleKind } from '../src/engine/train/schedule';
import type { RunSettings } from '../src/engine/train/specs';
import { LESSON_FINETUNE, LESSON_FREEZE, LESSON_PRETRAIN, NANOGPT_RECIPES, type LessonRun } from '../src/engine/train/lesson';
import { MAX_VOCAB, MIN_VOCAB } from '../src/engine/tokenizer/bpeTrain';

export class UsageError extends Error {
  override name = 'UsageError';
}

export const OPTIONS = {
  text: { type: 'string' },
  tokenizer: { type: 'string' },
  pairs: { type: 'string' },
  out: { type: 'string' },
  init: { type: 'string' },
  ckpt: { type: 'string' },
  prompt: { type: 'string' },
  chat: { type: 'boolean' },
  preset: { type: 'string' },
  recipe: { type: 'string' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  'grad-accum': { type: 'string' },
  lr: { type: 'string' },
  seed: { type: 'string' },
  layers: { type: 'string' },
  heads: { type: 'string' },
  embd: { type: 'string' },
  block: { type: 'string' },
  dropout: { type: 'string' },
  bias: { type: 'boolean' },
  'eval-every': { type: 'string' },
  warmup: { type: 'string' },
  schedule: { type: 'string' },
  'eval-iters': { type: 'string' },
  freeze: { type: 'string' },
  discriminative: { type: 'string' },
  lora: { type: 'string' },
  'lora-alpha': { type: 'string' },
  'lora-targets': { type: 'string' },
  export: { type: 'string' },
  adapter: { type: 'string' },
  tokens: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  split: { type: 'string' },
  dtype: { type: 'string' },
  format: { type: 'string' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  backend: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/**
 * Exit code of a run stopped by Ctrl-C (128 + SIGINT), as a shell reports a process killed by it. A command
 * stopped by any stop signal returns it; main() turns it into 128 + that signal's number (143 for SIGTERM).
 */
export const INTERRUPTED = 130;

/**
 * The most a count flag takes (--steps, --batch, --warmup, --eval-every, …): the page's fields' limit.
 * Past it a run would not end in a lifetime (--steps 1e12) or fit in memory: a typo, not a plan.
 */
export const MAX_COUNT = 1_000_000;
/** Seeds are 32-bit (engine/random.ts): a larger one would silently wrap onto a smaller one's run. */
export const MAX_SEED = 2 ** 32 - 1;
/** A learning rate above this diverges at the first step for every model here. */
export const MAX_LR = 10;

/** Sampling temperature: past this every token is about equally likely (the logits are divided by it). */
export const MAX_TEMPERATURE = 100;
/** Discriminative factor: the bottom of a 24-layer model would train at lr / 100^23 past it, i.e. not at all. */
export const MAX_DISCRIMINATIVE = 100;
/** LoRA alpha: its scale alpha/rank past this swamps the frozen weights at the first step. */
export const MAX_LORA_ALPHA = 10_000;

/** A number option: `min` / `max` are inclusive bounds, `above` an exclusive lower bound (--lr must be > 0). */
export function num(v: Values, key: keyof Values, fallback: number, opts: { int?: boolean; min?: number; max?: number; above?: number } = {}): number {
  const raw = v[key];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  const bad =
    typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || (opts.int && !Number.isInteger(n)) ||
    (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max) || (opts.above !== undefined && !(n > opts.above));
  if (bad) {
    const bounds = [opts.above !== undefined ? `> ${opts.above}` : '', opts.min !== undefined ? `≥ ${opts.min}` : '', opts.max !== undefined ? `≤ ${opts.max}` : ''];
    const range = bounds.filter(Boolean).join(' and ');
    throw new UsageError(`--${String(key)} must be ${opts.int ? 'a whole number' : 'a number'}${range ? ` ${range}` : ''}, got "${String(raw)}"`);
  }
  return n;
}

export function need(v: Values, key: keyof Values, command: string): string {
  const s = v[key];
  if (typeof s !== 'string' || s === '') throw new UsageError(`${command} needs --${String(key)}`);
  return s;
}

/**
 * A run's settings from the flags: the lesson's defaults, each overridable. The same RunSettings the page's
 * requests are, turned into a TrainSpec by the same builder (engine/train/specs.ts).
 */
export function settingsFromFlags(v: Values, phase: 'pretrain' | 'finetune', lesson: LessonRun = phase === 'pretrain' ? LESSON_PRETRAIN : LESSON_FINETUNE, lessonFreeze: FreezePlan = LESSON_FREEZE): RunSettings {
  const steps = num(v, 'steps', lesson.steps, { int: true, min: 1, max: MAX_COUNT });
  const kind = v.schedule ?? lesson.schedule;
  if (!['cosine', 'constant', 'slanted'].includes(kind)) throw new UsageError(`--schedule must be one of cosine, constant, slanted, got "${kind}"`);
  return {
    phase,
    steps,
    lr: num(v, 'lr', lesson.lr, { above: 0, max: MAX_LR }),
    batchSize: num(v, 'batch', lesson.batchSize, { int: true, min: 1, max: MAX_COUNT }),
    warmupSteps: num(v, 'warmup', lesson.warmupSteps, { int: true, min: 0, max: MAX_COUNT }),
    schedule: kind as ScheduleKind,
    evalEvery: num(v, 'eval-every', lesson.evalEvery, { int: true, min: 0, max: MAX_COUNT }),
    evalIters: num(v, 'eval-iters', lesson.evalIters, { int: true, min: 1, max: MAX_COUNT }),
    gradAccum: num(v, 'grad-accum', 1, { int: true, min: 1, max: MAX_COUNT }),
    seed: num(v, 'seed', 1337, { int: true, min: 0, max: MAX_SEED }),
    freeze: phase === 'pretrain' ? { kind: 'none' } : v.freeze === undefined ? lessonFreeze : parsePlan(v.freeze),
    discriminative: phase === 'finetune' && v.discriminative !== undefined ? num(v, 'discriminative', 2.6, { min: 1, max: MAX_DISCRIMINATIVE }) : undefined,
    promptNoise: 0,
    lora: loraFromFlags(v, phase),
  };
}

/** `--lora R [--lora-alpha A] [--lora-targets attn|attn,mlp]`: LoRA settings, or undefined without --lora. */
function loraFromFlags(v: Values, phase: 'pretrain' | 'finetune'): LoraConfig | undefined {
  if (v.lora === undefined) {
    for (const k of ['lora-alpha', 'lora-targets', 'export'] as const) if (v[k] !== undefined) throw new UsageError(`--${k} needs --lora R`);
    return undefined;
  }
  if (phase === 'pretrain') throw new UsageError('--lora is for finetune: adapters sit on a trained model');
  if (v.freeze !== undefined || v.discriminative !== undefined) throw new UsageError('--lora trains the adapters only: --freeze and --discriminative do not apply');
  const rank = num(v, 'lora', 8, { int: true, min: 1, max: LORA_MAX_RANK });
  let targets: LoraTargets;
  try {
    targets = parseLoraTargets(v['lora-targets'] ?? 'attn');
  } catch (e) {
    throw new UsageError(`--lora-targets: ${(e as Error).message}`);
  }
  if (v.export !== undefined && v.export !== 'merged' && v.export !== 'adapter') throw new UsageError(`--export must be merged or adapter, got "${v.export}"`);
  return { rank, alpha: num(v, 'lora-alpha', 2 * rank, { above: 0, max: MAX_LORA_ALPHA }), targets };
}

/** Parse CLI flags (for tests: the settings a command line gives). */
export function parseFlags(argv: string[]): Values {
  return parseArgs({ args: joinNegativeValues(argv), options: OPTIONS, allowPositionals: true, strict: true }).values;
}

/** `--tokenizer char|bpe|bpe:N`: the kind, and for BPE the vocabulary size (undefined: sized to the text). */
export function tokenizerArg(v: Values): { kind: 'char' } | { kind: 'bpe'; size?: number } {
  const raw = v.tokenizer ?? 'char';
  if (raw === 'char') return { kind: 'char' };
  if (raw === 'bpe') return { kind: 'bpe' };
  const m = /^bpe:(\d+)$/.exec(raw);
  const size = m ? Number(m[1]) : NaN;
  if (!(size >= MIN_VOCAB && size <= MAX_VOCAB)) {
    throw new UsageError(`--tokenizer must be char, bpe or bpe:N with N a whole number from ${MIN_VOCAB} to ${MAX_VOCAB}, got "${raw}"`);
  }
  return { kind: 'bpe', size };
}

export const archNum = (v: Values, key: keyof Values, field: keyof typeof ARCH_LIMITS, fallback: number) =>
  num(v, key, fallback, { int: true, min: ARCH_LIMITS[field].min, max: ARCH_LIMITS[field].max });

/**
 * The run's defaults: the lesson's (a short run that shows a falling loss within a minute), or with
 * `--recipe nanogpt` nanoGPT's own recipe for the preset, so the run is nanoGPT's. Explicit flags win either way.
 */
export function pretrainRecipe(v: Values, preset: string): LessonRun {
  const name = v.recipe ?? 'lesson';
  if (name === 'lesson') return LESSON_PRETRAIN;
  if (name !== 'nanogpt') throw new UsageError(`--recipe must be lesson or nanogpt, got "${name}"`);
  const recipe = isPresetName(preset) ? NANOGPT_RECIPES[preset] : undefined;
  if (!recipe) throw new UsageError(`--recipe nanogpt needs --preset ${Object.keys(NANOGPT_RECIPES).join(' or ')} (nanoGPT has no recipe for ${preset})`);
  return recipe;
}

/**
 * `--steps -5` is a number option given a negative number, which parseArgs takes for an option and refuses
 * in three lines; joined as `--steps=-5` it reaches the range check and its one-line message.
 */
export function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : '';
    const opt = (OPTIONS as Record<string, { type: string }>)[name];
    if (opt?.type === 'string' && i + 1 < argv.length && /^-(\d|\.\d|Infinity)/.test(argv[i + 1])) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}
