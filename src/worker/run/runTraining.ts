/**
 * One training run in the worker, from its request to its end event:
 *
 *   setup.ts     data checks, snapshot, adapters and optimizer, the spec; the run announced
 *   metrics.ts   step metrics batched for the page          earlyStop.ts  pause when held-out loss stalls
 *   samples.ts   a line of text between steps               autosave.ts   the session between steps
 *   scoring.ts   after a fine-tune, held-out replies scored keep.ts       the run's final weights kept
 *   preEval.ts   the snapshot's evaluation at step 0, measured ahead or kept from an earlier run
 *
 * A run that cannot start throws (the session reports it as a failed run); once started, every outcome —
 * done, paused (Pause, "step once", a breakpoint, early stopping), stopped, or an error — ends in one
 * runEnded event, with the metrics reported before it.
 */
import type { EvalMetrics, TrainCallbacks } from '../../engine/train/trainer';
import { toWireError, type RunRequest } from '../protocol';
import { autosaveDue, postAutosave } from './autosave';
import type { ActiveRun, RunContext } from './context';
import { EarlyStop } from './earlyStop';
import { keepRunWeights } from './keep';
import { MetricBatcher } from './metrics';
import { sampleForStrip } from './samples';
import { scoreRun } from './scoring';
import { announceRun, setUpRun } from './setup';
import { keepSnapshotEval } from './preEval';
import { GpuProgramError } from '../gpuGuard';

type Status = 'done' | 'paused' | 'stopped';

export async function runTraining(ctx: RunContext, r: RunRequest, startStep: number, active: ActiveRun): Promise<void> {
  const { owner, post } = ctx;
  const { spec, snapshotEvalKey } = await setUpRun(ctx, r, startStep);
  announceRun(ctx, r, spec, startStep);
  const { model, trainer } = owner.require();
  const metrics = new MetricBatcher(post, r.runId);
  const earlyStop = new EarlyStop(r.earlyStop?.patience, r.phase);
  // A breakpoint the run has already passed is ignored, so Resume goes on.
  const breakAt = r.breakAt !== undefined && r.breakAt > startStep ? r.breakAt : undefined;
  const t0 = performance.now();
  let step = startStep;
  // The run's evaluation of the snapshot at its step 0, to keep for the next run from the snapshot (run/preEval.ts).
  const snapshotEval = { key: spec.initialEval ? undefined : snapshotEvalKey, result: null as EvalMetrics | null };
  try {
    const res = await trainer.run(
      { ...spec, startStep, stopAt: Math.min(r.steps, r.pauseAt ?? r.steps, breakAt ?? r.steps) },
      callbacks(ctx, r, active, metrics, earlyStop, snapshotEval),
      active.ctl.signal,
    );
    step = res.stepsDone;
    metrics.flush();
    if (snapshotEval.key !== undefined && snapshotEval.result) await keepSnapshotEval(ctx, snapshotEval.key, snapshotEval.result);
    owner.training = { ...owner.training, step: trainer.globalStep };
    // Training time only: the scoring below is not part of the run's cost.
    const wallMs = performance.now() - t0;
    const status: Status = step >= r.steps ? 'done' : active.reason === 'pause' || step === r.pauseAt || step === breakAt ? 'paused' : 'stopped';
    if (status === 'paused' && (step === breakAt || earlyStop.stopped)) {
      post({
        type: 'breakpoint',
        runId: r.runId,
        step,
        globalStep: trainer.globalStep,
        reason: earlyStop.stopped ? 'earlyStop' : 'step',
        evals: earlyStop.sinceBest,
      });
    }
    const finishedFinetune = r.phase === 'finetune' && status !== 'paused';
    if (finishedFinetune) {
      active.scoring = new AbortController();
      await scoreRun(ctx, r, active.scoring.signal);
    }
    if (model.lora) {
      await owner.measureAdapters();
      post({ type: 'modelInfo', info: owner.info() });
    }
    if (finishedFinetune) await keepRunWeights(ctx, r, step);
    post({ type: 'runEnded', runId: r.runId, status, stepsDone: step, wallMs, msPerStep: step > startStep ? wallMs / (step - startStep) : 0 });
  } catch (e) {
    metrics.flush();
    owner.training = { ...owner.training, step: trainer.globalStep };
    // Replies sampled since the GPU was last checked may be work it skipped: none is kept to go on from.
    if (e instanceof GpuProgramError) owner.partialScore = null;
    const wallMs = performance.now() - t0;
    post({ type: 'runEnded', runId: r.runId, status: 'error', stepsDone: step, wallMs, msPerStep: 0, error: toWireError(e) });
  }
}

/** The trainer's callbacks for this run: metrics, evaluations and freeze changes to the page; work between steps. */
function callbacks(
  ctx: RunContext,
  r: RunRequest,
  active: ActiveRun,
  metrics: MetricBatcher,
  earlyStop: EarlyStop,
  snapshotEval: { key?: string; result: EvalMetrics | null },
): TrainCallbacks {
  const { post } = ctx;
  const sampleDue = (n: number) => r.sampleEvery > 0 && (n % r.sampleEvery === 0 || n === r.steps);
  const saveDue = (n: number) => autosaveDue(n, r.autosaveEvery, r.steps);
  return {
    onStep: (m) => metrics.add(m),
    onEval: (e) => {
      metrics.flush();
      post({ type: 'eval', runId: r.runId, step: e.step, globalStep: e.globalStep, losses: e.losses, accuracy: e.accuracy });
      if (e.step === 0) snapshotEval.result = e;
      if (earlyStop.observe(e.losses)) {
        // Takes effect at the end of the step under way, like Pause.
        active.reason = 'pause';
        active.ctl.abort();
      }
    },
    onFreezeChange: (e) => {
      metrics.flush();
      post({ type: 'freeze', runId: r.runId, step: e.step, globalStep: e.globalStep, trainable: e.trainable, trainableParams: e.trainableParams });
    },
    // Between steps: a sample for the "how the text improves" strip, an autosave.
    between: {
      due: (n) => sampleDue(n) || saveDue(n),
      run: async (n) => {
        metrics.flush();
        if (sampleDue(n)) await sampleForStrip(ctx, r, n, active.ctl.signal);
        if (saveDue(n)) await postAutosave(ctx, r.runId, n);
      },
    },
  };
}
