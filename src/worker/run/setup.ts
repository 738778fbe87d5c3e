/**
 * Before a run's first step: the data it trains on is there; a fine-tune keeps (or goes back to) the
 * pretrained snapshot and starts with its LoRA adapters and a fresh optimizer; a new run reseeds the batch
 * stream; the request becomes the trainer's spec (engine/train/specs.ts). Then the run is announced.
 */
import { restoreParams } from '../../engine/io/checkpoint';
import { EngineError } from '../../engine/errors';
import { trainableAt } from '../../engine/train/freeze';
import type { TrainSpec } from '../../engine/train/trainer';
import { finetuneSpec, pretrainSpec, runSeed } from '../../engine/train/specs';
import { pageReadback } from '../../engine/train/readback';
import type { RunRequest } from '../protocol';
import type { RunContext } from './context';
import { keptSnapshotEval, snapshotEvalKey } from './preEval';

/**
 * Prepare the model and optimizer for the run (or its resumption at `startStep`); returns its spec and, where its
 * first evaluation is one of the snapshot, the key to keep that under (run/preEval.ts).
 */
export async function setUpRun(ctx: RunContext, r: RunRequest, startStep: number): Promise<{ spec: TrainSpec; snapshotEvalKey?: string }> {
  const { owner, data } = ctx;
  const { model, tokenizer } = owner.require();
  if (r.phase === 'pretrain' && !data.corpusData) throw new EngineError('choose a corpus to pretrain on first', 'noCorpus');
  // Pretraining changes the weights a prescore scored: its copy of them (a finished or an unfinished one's) is of no use now.
  if (r.phase === 'pretrain') {
    owner.prescore = null;
    if (owner.partialScore?.weights !== owner.snapshot) owner.partialScore = null; // the snapshot's own stays valid
    if (owner.preEval?.weights !== owner.snapshot) owner.preEval = null;
  }
  // A fine-tune starts from the snapshot when it restores it, or when there is none yet (the model becomes it).
  const atSnapshot = r.phase === 'finetune' && (r.fromSnapshot || !owner.snapshot);
  if (r.phase === 'finetune') {
    if (!data.pairsData) throw new EngineError('choose dialogue pairs to fine-tune on first', 'noPairs');
    // No snapshot yet (a starter, a loaded model): the model as it is now is the pretrained one.
    if (r.fromSnapshot && !owner.snapshot) await owner.takeSnapshot();
    if (r.fromSnapshot && startStep === 0) restoreParams(model, owner.snapshot!);
    // A fine-tuning run starts with a fresh optimizer (as nanoGPT's init_from='gpt2'): moments from
    // pretraining would carry momentum from the old task, and compared strategies must start equal.
    if (startStep === 0) {
      owner.prepareAdapters(r.lora ?? null, r.fromSnapshot, r.seed);
      owner.freshOptimizer(r.seed);
    }
    // The pretrain → fine-tune boundary: keep the pretrained weights for comparisons and before/after chat.
    if (!owner.snapshot) await owner.takeSnapshot();
  }
  const { trainer } = owner.require();
  if (startStep === 0) trainer.reseed(runSeed(r.seed, r.fromSnapshot, trainer.globalStep));
  const spec: TrainSpec = {
    ...(r.phase === 'pretrain' ? pretrainSpec(r, data.corpusData!) : finetuneSpec(r, data.pairsData!, tokenizer, r.forgetting ? data.corpusData : null)),
    // Metrics go to the page by time, not by step count; on a GPU not more often than every 10 steps, and
    // never with more than a quarter second of steps queued (on a slow device, every step), so that Pause and
    // Stop take effect at the end of the step under way, not after ten more.
    ...pageReadback(ctx.fixedShape()),
    weightNorms: true, // for the diagnostics charts
  };
  // Its first evaluation, where it is the snapshot's and was measured ahead (a prescore, an earlier compared run):
  // the key is of the very batches this spec evaluates.
  const evalKey = snapshotEvalKey(ctx, r, spec, startStep, atSnapshot);
  return { spec: { ...spec, initialEval: keptSnapshotEval(ctx, evalKey) }, snapshotEvalKey: evalKey };
}

/** Tell the page the run has started (with the parameters it trains now) and what the model is going through. */
export function announceRun(ctx: RunContext, r: RunRequest, spec: TrainSpec, startStep: number): void {
  const { owner, post } = ctx;
  const { model, trainer } = owner.require();
  const trainableNow = trainer.trainableParams(trainableAt(spec.freeze ?? r.freeze, startStep, model.config.nLayer, spec.freezeOptions), spec.adaptersOnly);
  post({ type: 'runStarted', runId: r.runId, phase: r.phase, steps: r.steps, startStep, trainableParams: trainableNow });
  owner.training = { ...owner.training, phase: r.phase, ...(r.phase === 'finetune' ? { freezePlan: r.freeze, discriminative: r.discriminative } : {}) };
  post({ type: 'modelInfo', info: owner.info() });
}
