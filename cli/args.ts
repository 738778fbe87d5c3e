/**
 * The CLI's flags: their definitions, parsing and range checks, and the run settings they give (the same
 * RunSettings the page's requests are; engine/train/specs.ts turns both into a TrainSpec).
 */
import { parseArgs } from 'node:util';
import { ARCH_LIMITS, isPresetName } from '../src/engine/model/config';
import { parseLoraTargets, type LoraConfig, type LoraTargets } from '../src/engine/model/lora';
import { parsePlan, type FreezePlan } from '../src/engine/train/freeze';
import type { ScheduleKind } from '../src/engine/train/schedule';
import type { RunSettings } from '../src/engine/train/specs';
import { LESSON_FINETUNE, LESSON_FREEZE, LESSON_PRETRAIN, NANOGPT_RECIPES, type LessonRun } from '../src/engine/train/lesson';
import { MAX_VOCAB, MIN_VOCAB } from '../src/engine/tokenizer/bpeTrain';
import { allowed, describeLimit, LIMITS, type Limit, type SettingName } from '../src/engine/train/limits';

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
  threads: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/**
 * Exit code of a run stopped by Ctrl-C (128 + SIGINT), as a shell reports a process killed by it. A command
 * stopped by any stop signal returns it; main() turns it into 128 + that signal's number (143 for SIGTERM).
 */
export const INTERRUPTED = 130;

export { MAX_COUNT, MAX_DISCRIMINATIVE, MAX_LORA_ALPHA, MAX_LR, MAX_SEED, MAX_TEMPERATURE } from '../src/engine/train/limits';

/**
 * A number option: a setting's name takes its one validation (engine/train/limits.ts, as the page's form
 * and URL do); other options give `min` / `max` (inclusive) and `above` (exclusive) themselves.
 */
export function num(
  v: Values,
  key: keyof Values,
  fallback: number,
  opts: SettingName | { int?: boolean; min?: number; max?: number; above?: number } = {},
): number {
  const raw = v[key];
  if (raw === undefined) return fallback;
  const limit: Limit = typeof opts === 'string' ? LIMITS[opts] : { int: opts.int ?? false, min: opts.min, above: opts.above, max: opts.max ?? Infinity };
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !allowed(limit, n)) {
    const said = limit.max === Infinity ? describeLimit(limit).replace(/( and)? ≤ Infinity$/, '') : describeLimit(limit);
    throw new UsageError(`--${String(key)} must be ${said}, got "${String(raw)}"`);
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
export function settingsFromFlags(
  v: Values,
  phase: 'pretrain' | 'finetune',
  lesson: LessonRun = phase === 'pretrain' ? LESSON_PRETRAIN : LESSON_FINETUNE,
  lessonFreeze: FreezePlan = LESSON_FREEZE,
): RunSettings {
  const steps = num(v, 'steps', lesson.steps, 'steps');
  const kind = v.schedule ?? lesson.schedule;
  if (!['cosine', 'constant', 'slanted'].includes(kind)) throw new UsageError(`--schedule must be one of cosine, constant, slanted, got "${kind}"`);
  return {
    phase,
    steps,
    lr: num(v, 'lr', lesson.lr, 'lr'),
    batchSize: num(v, 'batch', lesson.batchSize, 'batch'),
    warmupSteps: num(v, 'warmup', lesson.warmupSteps, 'warmup'),
    schedule: kind as ScheduleKind,
    evalEvery: num(v, 'eval-every', lesson.evalEvery, 'evalEvery'),
    evalIters: num(v, 'eval-iters', lesson.evalIters, 'evalIters'),
    gradAccum: num(v, 'grad-accum', 1, 'gradAccum'),
    seed: num(v, 'seed', 1337, 'seed'),
    freeze: phase === 'pretrain' ? { kind: 'none' } : v.freeze === undefined ? lessonFreeze : parsePlan(v.freeze),
    discriminative: phase === 'finetune' && v.discriminative !== undefined ? num(v, 'discriminative', 2.6, 'discriminative') : undefined,
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
  if (v.freeze !== undefined || v.discriminative !== undefined)
    throw new UsageError('--lora trains the adapters only: --freeze and --discriminative do not apply');
  const rank = num(v, 'lora', 8, 'loraRank');
  let targets: LoraTargets;
  try {
    targets = parseLoraTargets(v['lora-targets'] ?? 'attn');
  } catch (e) {
    throw new UsageError(`--lora-targets: ${(e as Error).message}`);
  }
  if (v.export !== undefined && v.export !== 'merged' && v.export !== 'adapter') throw new UsageError(`--export must be merged or adapter, got "${v.export}"`);
  return { rank, alpha: num(v, 'lora-alpha', 2 * rank, 'loraAlpha'), targets };
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
