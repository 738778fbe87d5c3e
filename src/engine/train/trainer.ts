/**
 * The training loop, as nanoGPT's train.py: micro-batches with gradient accumulation, global-norm
 * clipping, AdamW, a learning-rate schedule, periodic evaluation. It knows nothing of pretraining vs
 * fine-tuning (those are two TrainSpecs), of the UI, or of the backend, and reports only through
 * callbacks. It stops between steps when its AbortSignal fires.
 *
 * Freezing: gradients are taken only with respect to the trainable parameters, so TF.js's tape skips
 * the backward pass below the lowest trainable group; frozen parameters are never touched.
 *
 * Read-backs: each step's statistics stay on the device as a small vector and are read back together
 * every `logEvery` steps (one sync point). A non-finite loss or gradient is caught on the device: that
 * step changes nothing, and the next read-back stops the run with a NonFiniteError.
 */
import * as tf from '../tf';
import type { GPT } from '../model/gpt';
import { groupIds, groupOf, type GroupId } from '../model/params';
import { createRng, type Rng } from '../random';
import { sumOfSquares } from '../ops/sum';
import { EngineError } from '../errors';
import { makeYielder } from '../yielder';
import { readbackDue, type ReadbackRule } from './readback';
import { AdamW, DEFAULT_ADAMW, StepGuard, type AdamWConfig, type SavedSlot } from './adamw';
import { evaluateSources, batchTensors, type EvalSource, type Evaluation } from './evaluate';
import { packStepStats, readStepStats } from './stepStats';
import { trainableAt, validatePlan, type FreezeOptions, type FreezePlan, type TrainableSet } from './freeze';
import { lrAt, validateSchedule, type Schedule } from './schedule';
import type { DataSource } from '../data/sources';

/** Evaluation batches per source when a spec does not say (TrainSpec.evalIters). */
export const DEFAULT_EVAL_ITERS = 10;

export interface TrainSpec {
  /** Total steps of this run; the schedule and the freeze plan count from 0 within the run. */
  steps: number;
  /** Continue a run from this step (after a pause or a reload); default 0. */
  startStep?: number;
  /** Stop before this step (default: steps). Lets a caller run a long run in chunks, e.g. to sample between them. */
  stopAt?: number;
  batchSize: number;
  /** Micro-batches per optimizer step (nanoGPT's gradient_accumulation_steps); default 1. */
  gradAccum?: number;
  schedule: Schedule;
  freeze?: FreezePlan;
  freezeOptions?: FreezeOptions;
  /**
   * LoRA: train the model's adapters (in the groups the freeze plan opens) instead of its weights, which stay
   * frozen. The model must have adapters attached.
   */
  adaptersOnly?: boolean;
  /** Global-norm gradient clip; 0 turns it off. Default 1.0. */
  clip?: number;
  train: DataSource;
  /** Named evaluation sources ('val', 'train', 'corpus', …). */
  evals?: EvalSource[];
  /**
   * The evaluation of the model as it is at startStep, measured ahead on these very weights and `evals`' batches
   * (evaluateSources with the same batch size and evalIters): reported as the run's first evaluation instead of
   * computing it again. The worker measures it while the student reads, before "Fine-tune".
   */
  initialEval?: Evaluation;
  /** Evaluate every N steps (and at the last step); 0 turns evaluation off. */
  evalEvery?: number;
  evalIters?: number;
  /** Read statistics back every N steps; default 1. */
  logEvery?: number;
  /**
   * Also read back once this many milliseconds have passed since the last read-back (whichever comes
   * first). With a large logEvery, GPU backends read back a few times a second instead of every step: each
   * read-back stalls the GPU's pipeline, and everything downstream throttles to ~250 ms anyway.
   */
  readbackMs?: number;
  /**
   * With readbackMs: read back only once this many steps are also pending (whichever comes later). GPU
   * backends pass ~10, so a fast GPU reads back every ~250 ms or 10 steps, not every step (a slow one is
   * bounded by maxQueuedMs instead).
   */
  readbackMinSteps?: number;
  /**
   * Never queue more than about this many milliseconds of steps on the device (by the time a step took at the
   * last read-back): GPU backends pass 250, so Pause and Stop take effect within that much queued work, even
   * on a device that needs seconds a step. See readback.ts.
   */
  maxQueuedMs?: number;
  /** Measure each group's weight norm at every read-back (the page's diagnostics; a few reductions each time). */
  weightNorms?: boolean;
}

export interface StepMetrics {
  /** Step within this run (0-based). */
  step: number;
  /** Steps ever taken by this trainer, across runs (the x axis of a chart that spans phases). */
  globalStep: number;
  loss: number;
  lr: number;
  gradNorm: number;
  /** L2 norm of this step's parameter change per group; exactly 0 for frozen groups. */
  updateNorms: Record<GroupId, number>;
  /** Tokens per second, measured over the steps since the previous read-back. */
  tokensPerSec: number;
  msPerStep: number;
  /** L2 norm of each group's weights, measured at the read-back that reported this step (spec.weightNorms only). */
  weightNorms?: Record<GroupId, number>;
  /** Tensors alive and bytes they hold on the backend, at that read-back. */
  memory: { tensors: number; bytes: number };
}

export interface EvalMetrics {
  step: number;
  globalStep: number;
  losses: Record<string, number>;
  /** Next-token accuracy per evaluation (share of positions whose most likely token is the target). */
  accuracy: Record<string, number>;
}

export interface FreezeEvent {
  step: number;
  globalStep: number;
  /** Trainable groups with their learning-rate multipliers; absent groups are frozen. */
  trainable: Partial<Record<GroupId, number>>;
  trainableParams: number;
}

export interface TrainCallbacks {
  onStep?(m: StepMetrics): void;
  onEval?(e: EvalMetrics): void;
  onFreezeChange?(e: FreezeEvent): void;
  /**
   * Work between two steps (a sample for the page's strip, an autosave): after a step where `due` says so,
   * the statistics so far are read back and reported, then `run` is awaited before the next step.
   */
  between?: { due(stepsDone: number): boolean; run(stepsDone: number): Promise<void> };
}

export interface RunResult {
  /** Steps completed in this run (spec.startStep included). */
  stepsDone: number;
  aborted: boolean;
  lastLoss: number;
  lastEval?: EvalMetrics;
}

export class NonFiniteError extends EngineError {
  override name = 'NonFiniteError';
  constructor(
    readonly step: number,
    readonly loss: number,
    readonly gradNorm: number,
  ) {
    super(
      `training stopped at step ${step}: the ${Number.isFinite(loss) ? `gradient norm became ${gradNorm}` : `loss became ${loss}`}. ` +
        'The parameters keep their values from before that step. Try a lower learning rate or a stronger gradient clip.',
      Number.isFinite(loss) ? 'nonFiniteGrad' : 'nonFiniteLoss',
      { step, value: Number.isFinite(loss) ? gradNorm : loss },
    );
  }
}

export interface TrainerOptions {
  seed: number;
  adamw?: AdamWConfig;
  /**
   * Called right after each read-back of statistics; throws to stop the run. The browser worker passes a
   * check of the GPU's error scopes here, so a program the device rejected (whose work was skipped)
   * stops training instead of going unnoticed.
   */
  checkDevice?: () => Promise<void>;
}

interface Pending {
  step: number;
  lr: number;
  /** This step's statistics on the device, (3 + groups): see stepStats.ts. */
  stats: tf.Tensor1D;
  /** Parameters the optimizer stepped (their step counts are given back if the step turns out skipped). */
  names: string[];
}

/** A loss the guard reads as not finite (loss + norm > 3e38), yet a finite number (WGSL may assume no Inf). */
const NOT_OK_LOSS = 3.3e38;

export class Trainer {
  readonly optimizer: AdamW;
  private rng: Rng;
  private readonly checkDevice?: () => Promise<void>;
  private penalty: tf.Variable | null = null;
  private consts: { zero: tf.Scalar; one: tf.Scalar; notOk: tf.Scalar } | null = null;
  globalStep = 0;

  constructor(
    readonly model: GPT,
    opts: TrainerOptions,
  ) {
    this.optimizer = new AdamW(opts.adamw ?? DEFAULT_ADAMW);
    this.rng = createRng(opts.seed);
    this.checkDevice = opts.checkDevice;
  }

  /** Reseed the batch and dropout stream (e.g. each compared strategy from the same seed). */
  reseed(seed: number): void {
    this.rng = createRng(seed);
  }

  get rngState(): [number, number, number, number] {
    return this.rng.state();
  }

  set rngState(s: [number, number, number, number]) {
    this.rng = createRng(s);
  }

  /**
   * Continue from a saved session (engine/io/session.ts): the optimizer's moments and step counts, keyed by
   * parameter name, the step count, and the batch and dropout stream (absent in old sessions: left as it is).
   * The model's weights, and LoRA adapters if the session had some, must already be in place.
   */
  restore(saved: { optimizer: Map<string, SavedSlot>; globalStep: number; rng?: [number, number, number, number] | null }): void {
    const shapes = new Map([...this.model.params, ...(this.model.lora?.params ?? [])].map(([n, p]) => [n, p.shape]));
    this.optimizer.load(saved.optimizer, shapes);
    this.globalStep = saved.globalStep;
    if (saved.rng) this.rngState = saved.rng;
  }

  trainableParams(set: TrainableSet, adaptersOnly = false): number {
    let n = 0;
    for (const [name, p] of this.trainSource(adaptersOnly)) if (set.has(groupOf(name))) n += p.size;
    return n;
  }

  /** The variables a run trains from: the model's weights, or (LoRA) its adapters alone. */
  private trainSource(adaptersOnly: boolean | undefined): Map<string, tf.Variable> {
    if (!adaptersOnly) return this.model.params;
    if (!this.model.lora) throw new EngineError('a LoRA run needs adapters attached to the model', 'loraMissing');
    return this.model.lora.params;
  }

  async run(spec: TrainSpec, cb: TrainCallbacks = {}, signal?: AbortSignal): Promise<RunResult> {
    const nLayer = this.model.config.nLayer;
    const plan = validatePlan(spec.freeze ?? { kind: 'none' }, nLayer);
    validateSchedule(spec.schedule);
    this.trainSource(spec.adaptersOnly);
    const logEvery = Math.max(1, spec.logEvery ?? 1);
    const readback: ReadbackRule = { logEvery, readbackMs: spec.readbackMs, readbackMinSteps: spec.readbackMinSteps, maxQueuedMs: spec.maxQueuedMs };
    const evalEvery = spec.evalEvery ?? 0;
    const evalIters = spec.evalIters ?? DEFAULT_EVAL_ITERS;
    const pending: Pending[] = [];
    // A new run starts healthy (the previous one may have stopped on a non-finite step).
    tf.tidy(() => this.penaltyFlag().assign(tf.scalar(0)));
    const groups = groupIds(nLayer);
    let lastLoss = NaN;
    let lastEval: EvalMetrics | undefined;
    let lastFlush = performance.now();
    // The time a step took at the last read-back (the device's pace, once it is the bottleneck).
    let measuredMsPerStep: number | undefined;
    let stepsSinceFlush = 0;
    let tokensSinceFlush = 0;

    const flush = async () => {
      if (!pending.length) return;
      // The weights' norms per group ride along in the same read-back.
      const stacked = tf.tidy(() => tf.concat([...pending.map((p) => p.stats), ...(spec.weightNorms ? [this.weightNorms()] : [])]));
      const values = await stacked.data(); // sync point: once per logEvery steps
      stacked.dispose();
      const read = readStepStats(values, pending.length, groups, spec.weightNorms ?? false);
      const { numTensors, numBytes } = tf.memory();
      if (this.checkDevice) {
        try {
          await this.checkDevice();
        } catch (e) {
          for (const p of pending.splice(0)) p.stats.dispose();
          throw e;
        }
      }
      const now = performance.now();
      const elapsed = Math.max(now - lastFlush, 1e-3);
      const tokensPerSec = (tokensSinceFlush / elapsed) * 1000;
      const msPerStep = elapsed / stepsSinceFlush;
      measuredMsPerStep = msPerStep;
      lastFlush = now;
      stepsSinceFlush = 0;
      tokensSinceFlush = 0;
      const records = pending.splice(0);
      let failure: NonFiniteError | undefined;
      records.forEach((p, i) => {
        const stats = read.steps[i];
        p.stats.dispose();
        if (failure) return;
        if (!stats.ok) {
          failure = new NonFiniteError(p.step, stats.loss, stats.gradNorm);
          // This step and every later one of the window changed nothing (the guard is sticky, see step()):
          // give their step counts back, so AdamW's bias correction counts only the steps it took.
          for (const skipped of records.slice(i)) this.optimizer.rewind(skipped.names);
          return;
        }
        lastLoss = stats.loss;
        cb.onStep?.({
          step: p.step,
          globalStep: this.globalStep - records.length + i + 1,
          loss: stats.loss,
          lr: p.lr,
          gradNorm: stats.gradNorm,
          updateNorms: stats.updateNorms,
          tokensPerSec,
          msPerStep,
          weightNorms: read.weightNorms,
          memory: { tensors: numTensors, bytes: numBytes },
        });
      });
      if (failure) throw failure;
    };

    // Between steps the event loop runs (Pause, Stop, a chat request reach a worker even on wasm).
    const yieldNow = makeYielder();

    /** Evaluate every source and report; false (nothing reported) when Pause or Stop came in the meantime. */
    const evaluate = async (step: number): Promise<boolean> => {
      const known = step === (spec.startStep ?? 0) && lastEval === undefined ? spec.initialEval : undefined;
      // With a signal, batch by batch: Pause and Stop (through the event loop, as between steps) do not wait for
      // the rest of the evaluation, seconds a batch on a slow device.
      const r = known ?? (await evaluateSources(this.model, spec.evals ?? [], spec.batchSize, evalIters, signal && { signal, between: yieldNow }));
      if (!r) return false;
      lastEval = { step, globalStep: this.globalStep, losses: { ...r.losses }, accuracy: { ...r.accuracy } };
      cb.onEval?.(lastEval);
      // Evaluation time is not training time.
      lastFlush = performance.now();
      return true;
    };

    let step = spec.startStep ?? 0;
    const end = Math.min(spec.stopAt ?? spec.steps, spec.steps);
    const keyOf = (set: TrainableSet) => JSON.stringify([...set.entries()]);
    try {
      for (; step < end; step++) {
        await yieldNow();
        if (signal?.aborted) break;
        const trainable = trainableAt(plan, step, nLayer, spec.freezeOptions);
        // Announce the plan at a run's first step and wherever it changes (not again when a run resumes).
        if (step === 0 || keyOf(trainable) !== keyOf(trainableAt(plan, step - 1, nLayer, spec.freezeOptions))) {
          cb.onFreezeChange?.({
            step,
            globalStep: this.globalStep,
            trainable: Object.fromEntries(trainable),
            trainableParams: this.trainableParams(trainable, spec.adaptersOnly),
          });
        }
        if (evalEvery > 0 && step % evalEvery === 0 && spec.evals?.length) {
          await flush();
          // Cut short by Pause or Stop: before this step (on resume its evaluation runs again).
          if (!(await evaluate(step))) break;
        }
        const lr = lrAt(spec.schedule, step);
        const { stats, tokens, names } = this.step(spec, trainable, lr);
        this.globalStep++;
        pending.push({ step, lr, stats, names });
        stepsSinceFlush++;
        tokensSinceFlush += tokens;
        const due = readbackDue(readback, pending.length, performance.now() - lastFlush, measuredMsPerStep);
        const pause = cb.between?.due(step + 1) ?? false;
        if (due || pause || step === end - 1) await flush();
        if (pause) {
          await cb.between!.run(step + 1);
          // Time spent between steps is not training time.
          lastFlush = performance.now();
        }
      }
      await flush();
      if (evalEvery > 0 && spec.evals?.length && step === spec.steps && lastEval?.step !== step) await evaluate(step);
    } finally {
      for (const p of pending) p.stats.dispose();
    }
    return { stepsDone: step, aborted: step < end, lastLoss, lastEval };
  }

  /** L2 norm of each group's weights, (groups): a few reductions, read back with the step statistics. */
  private weightNorms(): tf.Tensor1D {
    return tf.tidy(() => {
      const members = new Map<GroupId, tf.Tensor[]>();
      for (const [name, p] of this.model.params) members.set(groupOf(name), [...(members.get(groupOf(name)) ?? []), p]);
      const { zero } = this.constants();
      return tf.stack(groupIds(this.model.config.nLayer).map((g) => (members.has(g) ? sumOfSquares(members.get(g)!).sqrt() : zero))) as tf.Tensor1D; // (groups)
    });
  }

  /** One optimizer step over gradAccum micro-batches. Returns the packed statistics (caller disposes). */
  private step(spec: TrainSpec, trainable: TrainableSet, lr: number): { stats: tf.Tensor1D; tokens: number; names: string[] } {
    const accum = Math.max(1, spec.gradAccum ?? 1);
    const source = this.trainSource(spec.adaptersOnly);
    const names = [...source.keys()].filter((n) => trainable.has(groupOf(n)));
    const vars = names.map((n) => source.get(n)!);
    const dropoutRng = this.model.config.dropout > 0 ? this.rng : undefined;
    let tokens = 0;
    let lossSum: tf.Scalar | null = null;
    let gradSum: tf.Tensor[] | null = null;
    for (let micro = 0; micro < accum; micro++) {
      const batch = spec.train.sample(spec.batchSize, this.rng);
      tokens += batch.batchSize * batch.blockSize;
      const { value, grads } = tf.tidy(() => {
        const { x, y, w } = batchTensors(batch);
        // With one micro-batch no division (a scalar upload on GPU backends, and ÷1 changes nothing).
        return tf.variableGrads(() => {
          const l = this.model.loss(x, y, w, { rng: dropoutRng });
          return (accum > 1 ? l.div(accum) : l) as tf.Scalar;
        }, vars);
      });
      const g = vars.map((v) => grads[v.name]);
      if (gradSum === null || lossSum === null) {
        gradSum = g;
        lossSum = value;
      } else {
        const prevG: tf.Tensor[] = gradSum;
        const prevL: tf.Scalar = lossSum;
        gradSum = g.map((t, i) => tf.tidy(() => prevG[i].add(t)));
        lossSum = tf.tidy(() => prevL.add(value) as tf.Scalar);
        tf.dispose([...prevG, prevL, ...g, value]);
      }
    }
    const grads = gradSum!;
    const loss = lossSum!;
    const groups = groupIds(this.model.config.nLayer);
    const stats = tf.tidy(() => {
      const gradNorm = sumOfSquares(grads).sqrt() as tf.Scalar;
      // Sticky: after a non-finite step, every later step of the run is skipped too (on the device, before
      // any read-back), so a run stops with the weights from just before its first bad step.
      // penalty is 0 while the run is healthy, else a loss the guard reads as not finite (arithmetic, not
      // tf.where: no Select kernel, which the wasm AdamW path avoids).
      const penalty = this.penaltyFlag();
      const guardLoss = loss.add(penalty) as tf.Scalar;
      const guard = new StepGuard(guardLoss, gradNorm, spec.clip ?? 1.0);
      try {
        const perGroup = groups.map((gid) => {
          const members = names.flatMap((name, i) => (groupOf(name) === gid ? [{ name, param: vars[i], grad: grads[i] }] : []));
          return members.length ? this.optimizer.step(members, lr * trainable.get(gid)!, guard) : this.constants().zero;
        });
        // Kept constants: no scalar uploaded per step (on WebGPU each new scalar is a buffer upload).
        const { one, notOk } = this.constants();
        const ok = guard.ok.cast('float32') as tf.Scalar; // 1 or 0
        penalty.assign(one.sub(ok).mul(notOk));
        return packStepStats(loss, gradNorm, ok, perGroup); // (3 + groups)
      } finally {
        guard.dispose();
      }
    });
    tf.dispose([...grads, loss]);
    return { stats, tokens, names };
  }

  /** 0 while every step of the run so far was finite, then NOT_OK_LOSS (a device scalar, reset when a run starts). */
  private penaltyFlag(): tf.Variable {
    this.penalty ??= tf.tidy(() => tf.variable(tf.scalar(0), false));
    return this.penalty;
  }

  private constants(): { zero: tf.Scalar; one: tf.Scalar; notOk: tf.Scalar } {
    this.consts ??= { zero: tf.keep(tf.scalar(0)), one: tf.keep(tf.scalar(1)), notOk: tf.keep(tf.scalar(NOT_OK_LOSS)) };
    return this.consts;
  }

  dispose(): void {
    this.optimizer.dispose();
    this.penalty?.dispose();
    this.penalty = null;
    if (this.consts) tf.dispose(Object.values(this.consts));
    this.consts = null;
  }
}
