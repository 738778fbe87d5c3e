/**
 * Training runs: what the page asks the worker to do (a RunRequest, built by a pure function from the
 * state), starting, pausing, stepping, stopping, and the queue of compared strategies.
 */
import {
  freezePlanOf,
  loraOf,
  get,
  newRunRecord,
  set,
  updateRun,
  type AppState,
  type FinetuneSettings,
  type QueuedStrategy,
  type Strategy,
} from '../store/store';
import { errorText, msg, render, type Text } from '../i18n/i18n';
import type { Phase, Request, RunRequest } from '../worker/protocol';
import { loraName, uniqueName } from './compare';
import { currentData } from './dataPrint';
import { runMemoryRefusal } from './memory';
import { notify, notifyKey } from './notify';
import { planName } from './planName';
import { worker } from './worker';

/** A run id unique within a session and across reloads (no counter to keep). */
function newRunId(phase: Phase): string {
  return `${phase}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** The request for a run from the state's settings; a compared strategy's settings come as a patch. */
export function runRequest(st: AppState, phase: Phase, fromSnapshot: boolean, patch: Partial<FinetuneSettings> = {}, runId = newRunId(phase)): RunRequest {
  const ft = { ...st.finetune, ...patch };
  const t = phase === 'pretrain' ? st.pretrain : ft;
  const nLayer = st.model.info?.config.nLayer ?? st.model.arch.nLayer;
  return {
    runId,
    phase,
    steps: t.steps,
    batchSize: t.batchSize,
    lr: t.lr,
    schedule: t.schedule,
    warmupSteps: t.warmupSteps,
    evalEvery: t.evalEvery,
    evalIters: t.evalIters,
    seed: st.model.seed,
    freeze: phase === 'finetune' ? freezePlanOf(ft, nLayer) : { kind: 'none' },
    discriminative: phase === 'finetune' && ft.useDiscriminative && ft.preset !== 'lora' ? ft.discriminative : undefined,
    lora: phase === 'finetune' ? loraOf(ft) : undefined,
    forgetting: phase === 'finetune' && ft.forgetting,
    sampleEvery: t.sampleEvery,
    // A fine-tune's strip asks a question every N steps: the one typed, else the pairs' first (the question the lesson
    // asks the starter), so the strip shows one question answered better and better, not replies to an empty prompt.
    samplePrompt: t.samplePrompt || (phase === 'finetune' ? (st.pairs.list[0]?.prompt ?? '') : ''),
    fromSnapshot,
    promptNoise: phase === 'finetune' ? ft.promptNoise : 0,
    autosaveEvery: st.autosave.every,
    dialogueEval: phase === 'finetune' ? { ...st.sampling } : undefined,
    breakAt: st.breakpoints.atStep !== null && st.breakpoints.atStep > 0 && st.breakpoints.atStep < t.steps ? st.breakpoints.atStep : undefined,
    earlyStop: st.breakpoints.patience !== null && st.breakpoints.patience > 0 ? { patience: st.breakpoints.patience } : undefined,
  };
}

/**
 * The prescore request (app/model.ts prescore): the chat settings the fine-tune's scoring uses and, where the
 * fine-tune evaluates, the settings its evaluations depend on — taken from the request the run itself would send,
 * so that the worker's evaluation ahead is for the batches the run evaluates.
 */
export function prescoreRequest(st: AppState): Extract<Request, { type: 'prescore' }> {
  const r = runRequest(st, 'finetune', false);
  // A LoRA fine-tune's model has adapters at step 0: it evaluates for itself (run/preEval.ts).
  const evaluation = r.evalEvery > 0 && !r.lora ? { batchSize: r.batchSize, evalIters: r.evalIters, forgetting: r.forgetting } : undefined;
  return { type: 'prescore', settings: { ...st.sampling }, evaluation };
}

/**
 * The run's name: the strategy's, else the user's, else the plan's — never one already shown. Words stay a
 * Message (translated when drawn), made unique by a suffix.
 */
export function runName(st: AppState, r: RunRequest, given?: Text): Text {
  const taken = st.runs.map((x) => render(st.lang, x.name));
  const name =
    r.phase === 'pretrain'
      ? msg('run.pretrainName')
      : (given ??
        (st.finetune.strategyName.trim() ||
          (r.lora ? loraName(r.lora) : null) ||
          (r.discriminative ? msg('plan.discriminative', { name: planName(r.freeze), factor: r.discriminative }) : planName(r.freeze))));
  if (typeof name === 'string') return uniqueName(name, taken);
  const shown = render(st.lang, name);
  return { ...name, suffix: uniqueName(shown, taken).slice(shown.length) || undefined };
}

/**
 * Whether a fine-tune restores the pretrained snapshot before it trains, rather than going on from the weights as
 * they are: a compared strategy does (each from the same weights), another where the user asks for it
 * (FinetuneSettings.fromSnapshot); none while there is no snapshot yet (the model as it is becomes it).
 */
export function startsFromSnapshot(st: AppState, phase: Phase, compare: boolean): boolean {
  return phase === 'finetune' && Boolean(st.model.info?.hasSnapshot) && (compare || st.finetune.fromSnapshot);
}

/**
 * Start a run (pretraining or one fine-tuning strategy; a compared strategy's settings come as a patch). False when
 * it is refused before it starts (no model, one already running, too large for the device: a notice says which).
 */
export function startRun(phase: Phase, opts: { fromSnapshot?: boolean; compare?: boolean; strategy?: Strategy; comparison?: string } = {}): boolean {
  const st = get();
  if (!st.model.info) {
    notifyKey('error', 'model.none');
    return false;
  }
  if (st.run.status === 'running') {
    notifyKey('error', 'run.busy');
    return false;
  }
  const tooLarge = runMemoryRefusal(st, phase);
  if (tooLarge) {
    notify('error', tooLarge);
    return false;
  }
  const fromSnapshot = opts.fromSnapshot ?? startsFromSnapshot(st, phase, Boolean(opts.compare));
  const r = runRequest(st, phase, fromSnapshot, opts.strategy?.patch);
  const record = newRunRecord({
    runId: r.runId,
    name: runName(st, r, opts.strategy?.name),
    request: r,
    phase,
    steps: r.steps,
    freeze: r.freeze,
    discriminative: r.discriminative,
    compare: Boolean(opts.compare),
    comparison: opts.comparison,
    trainedOn: currentData(st, phase) ?? undefined,
  });
  // pending: null — a Pause pressed before a crash (no runEnded came) must not disable the next run's Pause.
  set((s) => ({
    runs: [...s.runs, record],
    run: { ...s.run, runId: r.runId, phase, status: 'running', error: null, step: 0, steps: r.steps, startStep: 0, pending: null },
  }));
  sendTrain(r.runId, { type: 'train', run: r });
  return true;
}

/**
 * The lesson's and the presentation's Fine-tune: always of the pretrained model — from the snapshot once there is
 * one, so a fine-tune pressed again after a comparison does not go on from its last strategy (the long one that
 * forgets) — whatever the lab's "start from" says. The first one (no snapshot yet) is as it always was.
 */
export function startLessonFinetune(): boolean {
  return startRun('finetune', { fromSnapshot: Boolean(get().model.info?.hasSnapshot) });
}

/** Ask the worker to train (the run already shows as running); if the worker is gone, say so rather than show it running. */
function sendTrain(runId: string, request: Extract<Request, { type: 'train' }>): void {
  try {
    worker().send(request);
  } catch (e) {
    updateRun(runId, () => ({ status: 'error' }));
    // As a run that ends in an error: the comparison's other strategies are dropped, not left for the next run's end.
    set((s) => ({ run: { ...s.run, status: 'error', error: errorText(e), queue: [] } }));
    notify('error', errorText(e));
  }
}

/** Queue several fine-tuning strategies, each from the pretrained snapshot with the same seed: one comparison. */
export function queueComparison(strategies: Strategy[]): void {
  const comparison = `cmp-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
  set((s) => ({ run: { ...s.run, queue: strategies.map((x): QueuedStrategy => ({ ...x, comparison })) } }));
  startNextQueued();
}

/** Start the next compared strategy, if any is queued. */
export function startNextQueued(): void {
  const [next, ...rest] = get().run.queue;
  set((s) => ({ run: { ...s.run, queue: rest } }));
  if (!next) return;
  // From the snapshot: a starter (or any model not yet fine-tuned) becomes the snapshot as the first run starts.
  // Refused (too large for the device, say; the notice says why): the rest of the comparison is dropped too, not
  // left queued for whatever run ends next.
  if (!startRun('finetune', { fromSnapshot: true, compare: true, strategy: next, comparison: next.comparison })) set((s) => ({ run: { ...s.run, queue: [] } }));
}

/** How many answers the current run is scoring (0 unless a fine-tune is past its steps: nothing left to pause at). */
export const scoringAnswers = (s: AppState): number => s.runs.find((r) => r.runId === s.run.runId)?.scoring ?? 0;

export function pauseRun(): void {
  // While its answers are scored a run has no step left to pause at (Stop ends the scoring): nothing to do.
  if (scoringAnswers(get()) > 0) return;
  set((s) => ({ run: { ...s.run, pending: 'pause' } }));
  worker().send({ type: 'pause' });
}

export function stopRun(): void {
  set((s) => ({ run: { ...s.run, queue: [], pending: 'stop' } }));
  worker().send({ type: 'stop' });
}

/**
 * The request of the current run, when it is paused (what Resume and Step once continue) — refused, with
 * the reason, when the data selected now is not the data the run trained on (an autosave restored without
 * its upload, or another set chosen meanwhile): resuming would silently train on something else.
 */
function pausedRequest(): RunRequest | undefined {
  const st = get();
  if (st.run.status !== 'paused') return undefined;
  const record = st.runs.find((x) => x.runId === st.run.runId);
  if (!record?.request) return undefined;
  const was = record.trainedOn;
  if (was) {
    const now = currentData(st, record.phase);
    if (now?.print !== was.print) {
      const name = dataName(st, was.source);
      notifyKey('error', record.phase === 'pretrain' ? 'run.otherCorpus' : 'run.otherPairs', { name });
      return undefined;
    }
  }
  return record.request;
}

/** A data source as the user knows it: an upload's file name, a bundled dataset's title, else its id. */
function dataName(st: AppState, source: string | null): string {
  const entry = st.manifest?.datasets.find((d) => d.id === source);
  return entry ? entry.title[st.lang] : (source ?? '').replace(/^upload:/, '') || '—';
}

export function resumeRun(): void {
  const r = pausedRequest();
  if (!r) return;
  updateRun(r.runId, () => ({ status: 'running' }));
  set((s) => ({ run: { ...s.run, status: 'running' } }));
  sendTrain(r.runId, { type: 'train', run: r, resume: { startStep: get().run.step } });
}

/** One optimizer step of the paused run. */
export function stepOnce(): void {
  const r = pausedRequest();
  if (!r) return;
  const step = get().run.step;
  set((s) => ({ run: { ...s.run, status: 'running' } }));
  updateRun(r.runId, () => ({ status: 'running' }));
  sendTrain(r.runId, { type: 'train', run: { ...r, sampleEvery: 0, pauseAt: step + 1 }, resume: { startStep: step } });
}

export function deleteRun(runId: string): void {
  set((s) => ({ runs: s.runs.filter((r) => r.runId !== runId) }));
  worker().send({ type: 'forgetRun', runId });
}
