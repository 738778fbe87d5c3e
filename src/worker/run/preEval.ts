/**
 * A fine-tune's first evaluation, measured ahead: at its step 0 the run evaluates the model it starts from (the
 * pretrained snapshot, or the model that becomes it) on fixed batches, which the worker knows before "Fine-tune"
 * is pressed. So the prescore measures it while the student reads (0.3–0.6 s of the lesson's wait on a laptop
 * CPU), and the run reports it instead of computing it: the same numbers, bit for bit, as the weights and the
 * batches are the same (both checked: the weights bit for bit, the batches by their fingerprint). A run that
 * evaluated the snapshot itself keeps that too, for the next run from it (Compare's strategies, one after another).
 */
import * as tf from '../../engine/tf';
import type { GPT } from '../../engine/model/gpt';
import { evaluateSources, evaluationKey, type EvalSource, type Evaluation } from '../../engine/train/evaluate';
import { finetuneEvals } from '../../engine/train/specs';
import { makeYielder } from '../../engine/yielder';
import type { EvalSettings, RunRequest } from '../protocol';
import { DEFAULT_EVAL_ITERS, type TrainSpec } from '../../engine/train/trainer';
import type { RunContext } from './context';
import { sameWeights } from '../owner';

/** A fine-tune's evaluation sources with these settings, from the worker's data (none without pairs). */
function sourcesOf(ctx: RunContext, s: EvalSettings): EvalSource[] | null {
  const pairs = ctx.data.pairsData;
  return pairs ? finetuneEvals(pairs, s.forgetting ? ctx.data.corpusData : null) : null;
}

/** The evaluation's batches and the backend that runs them (backends differ in their last bits). */
const keyOf = (evals: readonly EvalSource[], batchSize: number, iters: number) => `${tf.getBackend()}:${evaluationKey(evals, batchSize, iters)}`;

/**
 * Measure, unless kept already, the first evaluation of a fine-tune with settings `s` starting from `weights`,
 * which `model` holds ('snapshot': the snapshot's weights, on a temporary model). Kept in owner.preEval. False
 * when `signal` interrupted it (nothing kept).
 */
export async function preEvaluate(
  ctx: RunContext,
  s: EvalSettings,
  weights: Map<string, Float32Array>,
  model: GPT | 'snapshot',
  signal: AbortSignal,
): Promise<boolean> {
  const { owner } = ctx;
  const evals = sourcesOf(ctx, s);
  if (!evals?.length) return true;
  const key = keyOf(evals, s.batchSize, s.evalIters);
  const kept = owner.preEval;
  if (kept && kept.key === key && (kept.weights === weights || sameWeights(kept.weights, weights))) return true;
  if (signal.aborted) return false;
  const temp = model === 'snapshot' ? owner.snapshotModel() : null;
  let result: Evaluation | null;
  try {
    result = await evaluateSources(temp ?? (model as GPT), evals, s.batchSize, s.evalIters, { signal, between: makeYielder() });
  } finally {
    temp?.dispose();
  }
  if (!result) return false;
  await owner.checkDevice(); // a GPU that skipped work reads back zeros: not an evaluation to keep
  owner.preEval = { weights, key, result };
  return true;
}

/**
 * The key under which run `r`'s first evaluation (of `spec`'s evaluation batches) is an evaluation of the snapshot:
 * a new fine-tune (step 0) whose model is the snapshot now (`atSnapshot`: restored from it, or it was just taken),
 * without adapters, that evaluates. Else undefined.
 */
export function snapshotEvalKey(ctx: RunContext, r: RunRequest, spec: TrainSpec, startStep: number, atSnapshot: boolean): string | undefined {
  const { owner } = ctx;
  if (r.phase !== 'finetune' || startStep !== 0 || !(spec.evalEvery! > 0) || !spec.evals?.length || !atSnapshot || !owner.snapshot || owner.model?.lora)
    return undefined;
  return keyOf(spec.evals, spec.batchSize, spec.evalIters ?? DEFAULT_EVAL_ITERS);
}

/** The snapshot's evaluation kept for `key` (measured ahead, or by an earlier run from it), if any. */
export function keptSnapshotEval(ctx: RunContext, key: string | undefined): Evaluation | undefined {
  const kept = ctx.owner.preEval;
  return key !== undefined && kept?.key === key && kept.weights === ctx.owner.snapshot ? kept.result : undefined;
}

/**
 * Keep a run's first evaluation of the snapshot (`key` from snapshotEvalKey), once the GPU has been checked since
 * (the run's end): the runs that Compare starts from the snapshot one after another then report it instead of each
 * computing it again.
 */
export async function keepSnapshotEval(ctx: RunContext, key: string, result: Evaluation): Promise<void> {
  const { owner } = ctx;
  const snapshot = owner.snapshot;
  if (!snapshot) return;
  await owner.checkDevice();
  owner.preEval = { weights: snapshot, key, result: { losses: { ...result.losses }, accuracy: { ...result.accuracy } } };
}
