/**
 * Freezing plans: which parameter groups train at a given step, and at what learning-rate scale.
 *
 * Groups, bottom to top: 'embeddings' (token embedding = tied LM head, and position embedding),
 * 'block.0' … 'block.{L-1}', 'ln_f'. A plan is plain data (JSON-serialisable) and is evaluated per step,
 * so it can change between steps.
 *
 * For unfreezing order, the final LayerNorm travels with the top block: training ln_f alone (2C numbers)
 * teaches nothing, and ULMFiT's "last layer" is the top block together with what sits on it.
 */
import { EngineError, type EngineErrorCode, type ErrorParams } from '../errors';
import { groupIds, type GroupId } from '../model/groups';

export type FreezePlan =
  | { kind: 'none' }
  /** Token/position embeddings (and so the tied LM head) frozen. */
  | { kind: 'embeddings' }
  /** Embeddings and the lowest k blocks frozen. */
  | { kind: 'bottom'; k: number }
  /** Only the top k blocks and the final LayerNorm train. */
  | { kind: 'top'; k: number }
  /** ULMFiT gradual unfreezing: top block + ln_f first, one more group downward every `every` steps, embeddings last. */
  | { kind: 'progressive'; every: number }
  /** Explicit stages: each runs `steps` steps with its trainable groups and lr scale; the last stage runs on. */
  | { kind: 'stages'; stages: FreezeStage[] };

export interface FreezeStage {
  steps: number;
  trainable: GroupId[];
  /** Multiplies the schedule's learning rate during this stage (default 1). */
  lrScale?: number;
}

export interface FreezeOptions {
  /** ULMFiT discriminative fine-tuning: each group one level lower trains at lr / factor (2.6 in the paper). */
  discriminative?: number;
}

/** Trainable groups at a step, each with its learning-rate multiplier. Groups not in the map are frozen. */
export type TrainableSet = Map<GroupId, number>;

/** Unfreezing levels, top first: [ln_f + top block], next block down, …, block 0, embeddings. */
export function unfreezeLevels(nLayer: number): GroupId[][] {
  const levels: GroupId[][] = [['ln_f', `block.${nLayer - 1}` as GroupId]];
  for (let i = nLayer - 2; i >= 0; i--) levels.push([`block.${i}` as GroupId]);
  levels.push(['embeddings']);
  return levels;
}

/** Depth of a group from the top (0 for ln_f and the top block), for discriminative rates. */
export function depthOf(group: GroupId, nLayer: number): number {
  return unfreezeLevels(nLayer).findIndex((level) => level.includes(group));
}

export class FreezePlanError extends EngineError {
  override name = 'FreezePlanError';
}

/** Throws a FreezePlanError naming what is wrong (a code and its values, for the page's language). */
export function validatePlan(plan: FreezePlan, nLayer: number): FreezePlan {
  const bad = (m: string, code: EngineErrorCode, params: ErrorParams = {}) => {
    throw new FreezePlanError(m, code, params);
  };
  switch (plan.kind) {
    case 'none':
    case 'embeddings':
      break;
    case 'bottom':
      if (!Number.isInteger(plan.k) || plan.k < 0 || plan.k > nLayer)
        bad(`bottom:K needs 0 ≤ K ≤ ${nLayer} (the model has ${nLayer} blocks), got ${plan.k}`, 'planBottom', { max: nLayer, value: plan.k });
      break;
    case 'top':
      if (!Number.isInteger(plan.k) || plan.k < 1 || plan.k > nLayer)
        bad(`top:K needs 1 ≤ K ≤ ${nLayer} (the model has ${nLayer} blocks), got ${plan.k}`, 'planTop', { max: nLayer, value: plan.k });
      break;
    case 'progressive':
      if (!Number.isInteger(plan.every) || plan.every < 1)
        bad(`progressive:K needs a whole number of steps K ≥ 1, got ${plan.every}`, 'planProgressive', { value: plan.every });
      break;
    case 'stages': {
      if (!plan.stages.length) bad('a staged plan needs at least one stage', 'planNoStages');
      const valid = new Set<string>(groupIds(nLayer));
      plan.stages.forEach((s, i) => {
        const stage = i + 1;
        if (!Number.isInteger(s.steps) || s.steps < 1)
          bad(`stage ${stage}: steps must be a whole number ≥ 1, got ${s.steps}`, 'planStageSteps', { stage, value: s.steps });
        if (!s.trainable.length) bad(`stage ${stage}: no trainable groups`, 'planStageEmpty', { stage });
        for (const g of s.trainable) {
          if (!valid.has(g))
            bad(`stage ${stage}: unknown group ${g}; groups are ${[...valid].join(', ')}`, 'planStageGroup', {
              stage,
              group: g,
              groups: [...valid].join(', '),
            });
        }
        if (s.lrScale !== undefined && !(s.lrScale > 0))
          bad(`stage ${stage}: lrScale must be > 0, got ${s.lrScale}`, 'planStageLr', { stage, value: s.lrScale });
      });
      break;
    }
    default: {
      const never: never = plan;
      bad(`unknown freeze plan ${JSON.stringify(never)}`, 'planUnknown', { value: JSON.stringify(never) });
    }
  }
  return plan;
}

/** The trainable groups and their lr multipliers at `step` (0-based, counted within this run). */
export function trainableAt(plan: FreezePlan, step: number, nLayer: number, opts: FreezeOptions = {}): TrainableSet {
  const all = groupIds(nLayer);
  let groups: GroupId[];
  let scale = 1;
  switch (plan.kind) {
    case 'none':
      groups = all;
      break;
    case 'embeddings':
      groups = all.filter((g) => g !== 'embeddings');
      break;
    case 'bottom':
      groups = all.filter((g) => g !== 'embeddings' && !(g.startsWith('block.') && Number(g.slice(6)) < plan.k));
      break;
    case 'top':
      groups = all.filter((g) => g === 'ln_f' || (g.startsWith('block.') && Number(g.slice(6)) >= nLayer - plan.k));
      break;
    case 'progressive': {
      const levels = unfreezeLevels(nLayer);
      const open = Math.min(levels.length, 1 + Math.floor(step / plan.every));
      groups = levels.slice(0, open).flat();
      break;
    }
    case 'stages': {
      let s = 0;
      let acc = plan.stages[0].steps;
      while (step >= acc && s < plan.stages.length - 1) acc += plan.stages[++s].steps;
      groups = plan.stages[s].trainable;
      scale = plan.stages[s].lrScale ?? 1;
      break;
    }
  }
  const factor = opts.discriminative;
  const set: TrainableSet = new Map();
  for (const g of all) {
    if (!groups.includes(g)) continue;
    set.set(g, factor && factor > 0 ? scale / factor ** depthOf(g, nLayer) : scale);
  }
  return set;
}

/** Steps (within the run, ≤ totalSteps) at which the trainable set changes, for chart markers and tests. */
export function planChanges(plan: FreezePlan, nLayer: number, totalSteps: number, opts: FreezeOptions = {}): { step: number; trainable: GroupId[] }[] {
  const out: { step: number; trainable: GroupId[] }[] = [];
  let prev = '';
  for (let s = 0; s < totalSteps; s++) {
    const set = trainableAt(plan, s, nLayer, opts);
    const key = JSON.stringify([...set.entries()]);
    if (key !== prev) out.push({ step: s, trainable: [...set.keys()] });
    prev = key;
  }
  return out;
}

/** CLI syntax: none | embeddings | bottom:K | top:K | progressive:K. */
export function parsePlan(text: string): FreezePlan {
  const [kind, arg] = text.split(':');
  const k = Number(arg);
  switch (kind) {
    case 'none':
    case 'embeddings':
      if (arg !== undefined) break;
      return { kind };
    case 'bottom':
    case 'top':
      if (arg === undefined || !Number.isInteger(k)) break;
      return { kind, k };
    case 'progressive':
      if (arg === undefined || !Number.isInteger(k)) break;
      return { kind, every: k };
  }
  throw new FreezePlanError(`unknown freeze plan "${text}": use none, embeddings, bottom:K, top:K or progressive:K`, 'planUnknown', { value: text });
}

export function describePlan(plan: FreezePlan): string {
  switch (plan.kind) {
    case 'none':
    case 'embeddings':
      return plan.kind;
    case 'bottom':
    case 'top':
      return `${plan.kind}:${plan.k}`;
    case 'progressive':
      return `progressive:${plan.every}`;
    case 'stages':
      return `stages:${plan.stages.map((s) => `${s.steps}×[${s.trainable.join(',')}]`).join('→')}`;
  }
}
