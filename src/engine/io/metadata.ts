/**
 * A model file's metadata checked field by field as it is read: each value typed and range-checked, so a
 * damaged or hand-edited file is refused in one line naming the field (`metadata training.step must be a
 * whole number from 0 to 1000000000 (got "5")`) instead of crashing later (`training: null`), computing
 * with a string (`"5" + 1` is "51") or carrying -1e300 on. Each error has a code and its parameters
 * (`checkpointInt`, …), so the page says it in its own language.
 */
import { EngineError, type EngineErrorCode, type ErrorParams } from '../errors';
import { ARCH_LIMITS, MAX_VOCAB_SIZE, type ModelArgs } from '../model/config';
import { validateLora, type LoraConfig } from '../model/loraConfig';
import { validatePlan, type FreezePlan } from '../train/freeze';

export class CheckpointError extends EngineError {
  override name = 'CheckpointError';
}

/**
 * A model file damaged inside: what is wrong is a coded reason of its own, said inside checkpointDamaged's sentence
 * in the page's language (tensor names, shapes and values are data, shown as they are); the message is the CLI's.
 */
export function damaged(message: string, code: EngineErrorCode, params: ErrorParams): CheckpointError {
  return new CheckpointError(message, 'checkpointDamaged', {}, new EngineError(message, code, params));
}

/** The most optimizer steps a file may claim: far past any run here (the CLI stops at 1,000,000 a run). */
export const MAX_FILE_STEP = 1e9;

/** A value as the message shows it: JSON (a string keeps its quotes), cut short. */
function shown(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function int(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new CheckpointError(`metadata ${field} must be a whole number from ${min} to ${max} (got ${shown(v)})`, 'checkpointInt', {
      field,
      min,
      max,
      value: shown(v),
    });
  }
  return v;
}

function num(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new CheckpointError(`metadata ${field} must be a number from ${min} to ${max} (got ${shown(v)})`, 'checkpointNumber', {
      field,
      min,
      max,
      value: shown(v),
    });
  }
  return v;
}

function choice<T>(field: string, v: unknown, options: readonly T[]): T {
  if (!options.includes(v as T)) {
    const list = options.map((o) => shown(o)).join(', ');
    throw new CheckpointError(`metadata ${field} must be one of ${list} (got ${shown(v)})`, 'checkpointChoice', { field, options: list, value: shown(v) });
  }
  return v as T;
}

/** Names and paths (a dataset, a pairs file, a run's name): text, of a length a path can have. */
const MAX_TEXT = 4096;

function text(field: string, v: unknown): string {
  if (typeof v !== 'string' || v.length > MAX_TEXT) {
    throw new CheckpointError(`metadata ${field} must be text of at most ${MAX_TEXT} characters (got ${shown(v)})`, 'checkpointText', {
      field,
      max: MAX_TEXT,
      value: shown(v),
    });
  }
  return v;
}

function object(field: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new CheckpointError(`metadata ${field} must be a JSON object (got ${shown(v)})`, 'checkpointObject', { field, value: shown(v) });
  }
  return v as Record<string, unknown>;
}

/** A check of some other part of the engine (a freeze plan, LoRA settings), its message prefixed with the field. */
function nested<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    throw new CheckpointError(`metadata ${field}: ${(e as Error).message}`, 'checkpointNested', { field }, e);
  }
}

/**
 * `model_args`, nanoGPT's names: the architecture within the engine's limits. `bias` and `dropout` may be
 * missing (older exporters), and are then undefined for the caller to default.
 */
export function checkModelArgs(raw: unknown): Omit<ModelArgs, 'bias' | 'dropout'> & { bias?: boolean; dropout?: number } {
  const a = object('model_args', raw);
  const limit = (k: keyof typeof ARCH_LIMITS) => [ARCH_LIMITS[k].min, ARCH_LIMITS[k].max] as const;
  return {
    n_layer: int('model_args.n_layer', a.n_layer, ...limit('nLayer')),
    n_head: int('model_args.n_head', a.n_head, ...limit('nHead')),
    n_embd: int('model_args.n_embd', a.n_embd, ...limit('nEmbd')),
    block_size: int('model_args.block_size', a.block_size, ...limit('blockSize')),
    vocab_size: int('model_args.vocab_size', a.vocab_size, 2, MAX_VOCAB_SIZE),
    bias: a.bias === undefined ? undefined : choice('model_args.bias', a.bias, [true, false]),
    // Below 1 (at 1 every activation is dropped): validateConfig says so for exactly 1.
    dropout: a.dropout === undefined ? undefined : num('model_args.dropout', a.dropout, 0, 1),
  };
}

/** A freeze plan's shape (its kind, and a staged plan's stages as objects with lists), then its values. */
function checkPlan(field: string, raw: unknown, nLayer: number): FreezePlan {
  const p = object(field, raw);
  choice(`${field}.kind`, p.kind, ['none', 'embeddings', 'bottom', 'top', 'progressive', 'stages']);
  if (p.kind === 'stages') {
    if (!Array.isArray(p.stages))
      throw damaged(`metadata ${field}.stages must be a list (got ${shown(p.stages)})`, 'ckStagesList', { field: `${field}.stages`, got: shown(p.stages) });
    p.stages.forEach((s, i) => {
      const stage = object(`${field}.stages[${i}]`, s);
      if (!Array.isArray(stage.trainable) || !stage.trainable.every((g) => typeof g === 'string')) {
        throw damaged(`metadata ${field}.stages[${i}].trainable must be a list of group names (got ${shown(stage.trainable)})`, 'ckStageTrainable', {
          field: `${field}.stages[${i}].trainable`,
          got: shown(stage.trainable),
        });
      }
      if (stage.lrScale !== undefined) num(`${field}.stages[${i}].lrScale`, stage.lrScale, 0, 1e6);
    });
  }
  return nested(field, () => validatePlan(p as unknown as FreezePlan, nLayer));
}

/** Losses by split (`train`, `val`, `pairs-val`, …): each a number ≥ 0, or null (JSON's NaN: a run that diverged). */
function checkLosses(field: string, raw: unknown): Record<string, number | null> {
  const losses = object(field, raw);
  for (const [k, v] of Object.entries(losses)) if (v !== null) num(`${field}.${k}`, v, 0, 1e6);
  return losses as Record<string, number | null>;
}

/**
 * Each field of `training` this app writes, with its check. The bounds are the engine's or generous ones:
 * they refuse what no run could have written, not an unusual run. Fields not listed (a later version's) are
 * kept as they are: nothing here reads them.
 */
const TRAINING_FIELDS: Record<string, (field: string, v: unknown, nLayer: number) => unknown> = {
  step: (f, v) => int(f, v, 0, MAX_FILE_STEP),
  stepsInRun: (f, v) => int(f, v, 0, MAX_FILE_STEP),
  phase: (f, v) => choice(f, v, ['init', 'pretrain', 'finetune']),
  seed: (f, v) => int(f, v, 0, 2 ** 32 - 1),
  lr: (f, v) => num(f, v, 0, 1e3),
  batch: (f, v) => int(f, v, 1, 1_000_000),
  discriminative: (f, v) => num(f, v, 1, 1e6),
  freezePlan: checkPlan,
  lora: (f, v) => nested(f, () => validateLora(object(f, v) as unknown as LoraConfig)),
  losses: checkLosses,
  dataset: text,
  pairs: text,
  tokenizer: text,
  run: text,
};

/**
 * `training` (absent: a model never trained here, step 0, phase "init"): an object whose known fields are
 * checked; `nLayer` bounds a freeze plan.
 */
export function checkTraining(raw: unknown, nLayer: number): { step: number; phase: 'init' | 'pretrain' | 'finetune'; [key: string]: unknown } {
  const t = object('training', raw);
  for (const [k, check] of Object.entries(TRAINING_FIELDS)) if (k in t) check(`training.${k}`, t[k], nLayer);
  return { ...t, step: (t.step as number | undefined) ?? 0, phase: (t.phase as 'init' | 'pretrain' | 'finetune' | undefined) ?? 'init' };
}
