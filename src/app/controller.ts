/**
 * The glue between the store and the training worker: actions the UI calls, and the handler that turns
 * worker events into store updates. Holds the one WorkerClient (a class instance, so not in the store).
 */
import { get, set, updateRun, freezePlanOf, type FinetuneSettings, type RunRecord, type Marker } from '../store/store';
import { describePlan } from '../engine/train/freeze';
import { uniqueName, type Strategy } from './compare';
import { STARTERS_DIR, STARTERS_FILE, type StarterEntry } from '../datasets/starters';
import { WorkerClient } from '../worker/client';
import type { BackendName, Event, Phase, RunRequest } from '../worker/protocol';
import { describeProblems, parsePairs, type Pair } from '../engine/data/pairs';
import { checkText } from '../engine/data/corpus';
import { MAX_UPLOAD_BYTES } from '../engine/data/limits';
import { validateConfig } from '../engine/model/config';
import { DATASET_DIR, MANIFEST_FILE, type DatasetManifest } from '../datasets/manifest';
import { autosave, clearAutosave, loadAutosave, readAutosaveInfo } from '../store/persist';
import { writeUrl } from '../store/url';
import { translate } from '../ui/i18n';


let client: WorkerClient | null = null;
const base = import.meta.env.BASE_URL;

function tr(key: Parameters<typeof translate>[1], params?: Record<string, string | number>): string {
  return translate(get().lang, key, params);
}

function notify(kind: 'info' | 'error', text: string): void {
  set({ notice: { kind, text } });
}

function c(): WorkerClient {
  if (!client) throw new Error('the training worker is not running');
  return client;
}

export function startWorker(backend?: BackendName | null): void {
  client ??= new WorkerClient(onEvent, (message) => {
    set((s) => ({ backend: { ...s.backend, status: 'crashed', crash: message }, run: { ...s.run, status: s.run.runId ? 'error' : s.run.status, error: message } }));
  });
  set((s) => ({ backend: { ...s.backend, forced: backend ?? null, status: 'starting', crash: null, report: null } }));
  client.start(backend ?? undefined);
}

/** Restart the worker on another backend and bring back the last autosave (after a crash or device loss). */
export async function recover(backend: BackendName | null): Promise<void> {
  // A healthy worker (a backend switch, not a crash) saves the current model first, so it is what comes back.
  if (get().backend.status === 'ready' && get().model.info && get().run.status !== 'running') await saveNow();
  set((s) => ({ run: { ...s.run, status: 'idle', runId: null, error: null }, model: { ...s.model, info: null } }));
  startWorker(backend);
  await resendData();
  if (await readAutosaveInfo()) await resumeAutosave();
}

async function resendData(): Promise<void> {
  const { data, pairs } = get();
  if (data.source) await selectCorpus(data.source).catch(() => undefined);
  if (pairs.list.length) sendPairs();
}

export async function loadManifest(): Promise<void> {
  try {
    const res = await fetch(`${base}${DATASET_DIR}/${MANIFEST_FILE}`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    set({ manifest: (await res.json()) as DatasetManifest });
  } catch (e) {
    notify('error', tr('data.manifestError', { message: (e as Error).message }));
  }
}

/** The starter models' manifest; an app built without starters simply offers none. */
export async function loadStarters(): Promise<void> {
  try {
    const res = await fetch(`${base}${STARTERS_DIR}/${STARTERS_FILE}`);
    if (res.ok) set({ starters: (await res.json()) as StarterEntry[] });
  } catch {
    set({ starters: [] });
  }
}

/**
 * "Here is one I trained earlier": load a starter model with its corpus and its lesson's pairs, and draw
 * its own training curve for comparison. It becomes the pretrained snapshot when fine-tuning starts.
 */
export async function startFromStarter(id: string): Promise<void> {
  const entry = get().starters.find((x) => x.id === id);
  try {
    if (!entry) throw new Error(id);
    if (get().run.status === 'running') throw new Error(tr('run.busy'));
    const res = await fetch(`${base}${STARTERS_DIR}/${entry.file}`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const bytes = await res.arrayBuffer();
    await selectCorpus(entry.corpus);
    if (get().pairs.source !== entry.pairs) await selectPairs(entry.pairs);
    if (!(await importModel(entry.file, bytes))) return;
    const last = entry.curve[entry.curve.length - 1]?.step ?? 0;
    const reference: RunRecord = {
      runId: `starter-${entry.id}`, name: tr('chart.starterCurve'), phase: 'pretrain', steps: last, reference: true,
      points: entry.curve.filter((p) => p.loss !== undefined).map((p) => ({ globalStep: p.step, step: p.step, loss: p.loss!, lr: 0, tokensPerSec: 0 })),
      evals: entry.curve.filter((p) => p.val !== undefined).map((p) => ({ globalStep: p.step, step: p.step, losses: { train: p.train!, val: p.val! } })),
      markers: [], samples: [], updateNorms: {}, trainable: {}, trainableParams: 0, status: 'done', stepsDone: last, msPerStep: 0, wallMs: 0, hidden: false, compare: false, startedAt: Date.now(),
    };
    set((s) => ({ runs: [reference], model: { ...s.model, preset: 'custom' } }));
    notify('info', tr('model.starterLoaded'));
  } catch (e) {
    notify('error', tr('model.starterFailed', { message: (e as Error).message }));
  }
}

async function fetchDataset(id: string): Promise<string> {
  const entry = get().manifest?.datasets.find((d) => d.id === id);
  if (!entry) throw new Error(tr('data.unknownDataset', { id }));
  const res = await fetch(`${base}${DATASET_DIR}/${entry.file}`);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.text();
}

const uploads = new Map<string, string>();

/** Use a bundled corpus (by id) or an uploaded/pasted text (by name, after setUploadedText). */
export async function selectCorpus(source: string): Promise<void> {
  try {
    const text = uploads.get(source) ?? (await fetchDataset(source));
    // info is the worker's answer for this text: cleared until it comes, so a failure never shows stale counts.
    set((s) => ({ data: { ...s.data, source, preview: text.slice(0, 600), error: null, info: null } }));
    c().send({ type: 'setCorpus', name: source, text });
    writeUrl();
  } catch (e) {
    set((s) => ({ data: { ...s.data, error: (e as Error).message } }));
  }
}

/** Check an uploaded file or pasted text; on success it becomes the corpus. */
export async function loadUploadedText(name: string, bytes: ArrayBuffer | string): Promise<void> {
  try {
    const size = typeof bytes === 'string' ? bytes.length : bytes.byteLength;
    if (size > MAX_UPLOAD_BYTES) throw new Error(tr('data.tooLarge', { name, mb: (size / 1048576).toFixed(1), max: MAX_UPLOAD_BYTES / 1048576 }));
    const text = typeof bytes === 'string' ? bytes : decodeText(name, bytes);
    checkText(text, name);
    if ([...text].length < 1000) throw new Error(tr('data.tooShort', { name }));
    const key = `upload:${name}`;
    uploads.set(key, text);
    await selectCorpus(key);
  } catch (e) {
    set((s) => ({ data: { ...s.data, error: (e as Error).message } }));
  }
}

function decodeText(name: string, bytes: ArrayBuffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(tr('data.notText', { name }));
  }
}

export async function selectPairs(source: string, text?: string, fileName?: string): Promise<void> {
  try {
    const body = text ?? (await fetchDataset(source));
    const parsed = parsePairs(body, fileName ?? source);
    const problems = parsed.problems.length ? [describeProblems(parsed.problems)] : [];
    if (!parsed.pairs.length) throw new Error(problems[0] ?? tr('pairs.none'));
    setPairList(parsed.pairs, source, problems);
  } catch (e) {
    set((s) => ({ pairs: { ...s.pairs, error: (e as Error).message } }));
  }
}

export function setPairList(list: Pair[], source: string | null, problems: string[] = []): void {
  set((s) => ({ pairs: { ...s.pairs, source, list, error: null, problems, info: null } }));
  if (list.length) sendPairs();
  writeUrl();
}

/** Send the pairs and how to use them (held-out share, loss mask) to the worker. */
export function sendPairs(): void {
  const { pairs, finetune, manifest } = get();
  // A bundled set brings its held-out prompts; for others the worker uses the validation pairs' prompts.
  const heldout = manifest?.datasets.find((d) => d.id === pairs.source)?.heldout ?? [];
  c().send({ type: 'setPairs', name: pairs.source ?? 'pairs', pairs: pairs.list, valFraction: finetune.valFraction, responseOnly: finetune.responseOnly, heldout });
}

/** Drop the pairs longer than the context (they would lose their end marker, so the model could not learn to stop). */
export function dropLongPairs(): void {
  const { pairs } = get();
  const long = new Set(pairs.info?.longPairs ?? []);
  if (!long.size) return;
  setPairList(pairs.list.filter((_, i) => !long.has(i)), pairs.source, pairs.problems);
  notify('info', tr('pairs.dropped', { n: long.size }));
}

export function createModel(): void {
  const { model, data } = get();
  try {
    validateConfig({ ...model.arch, vocabSize: 2 });
    if (!data.source) throw new Error(tr('model.needCorpus'));
    // A starter's reference curve stays, to compare the student's own pretraining with it.
    set((s) => ({ runs: s.runs.filter((r) => r.reference), run: { ...s.run, runId: null, status: 'idle', error: null, step: 0, steps: 0 } }));
    c().send({ type: 'createModel', config: model.arch, seed: model.seed });
    writeUrl();
  } catch (e) {
    notify('error', (e as Error).message);
  }
}

let runCounter = 0;

function runRequest(phase: Phase, fromSnapshot: boolean, patch: Partial<FinetuneSettings> = {}): RunRequest {
  const st = get();
  const ft = { ...st.finetune, ...patch };
  const t = phase === 'pretrain' ? st.pretrain : ft;
  const nLayer = st.model.info?.config.nLayer ?? st.model.arch.nLayer;
  return {
    runId: `${phase}-${Date.now().toString(36)}-${runCounter++}`,
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
    discriminative: phase === 'finetune' && ft.useDiscriminative ? ft.discriminative : undefined,
    forgetting: phase === 'finetune' && ft.forgetting,
    sampleEvery: t.sampleEvery,
    samplePrompt: t.samplePrompt,
    fromSnapshot,
    promptNoise: phase === 'finetune' ? ft.promptNoise : 0,
    autosaveEvery: st.autosave.every,
    dialogueEval: phase === 'finetune' ? { ...st.sampling } : undefined,
  };
}

const requests = new Map<string, RunRequest>();

/** The run's name in the table and chart: the user's, else the plan's; never one already shown. */
function strategyName(r: RunRequest, given?: string): string {
  const f = get().finetune;
  const base =
    r.phase === 'pretrain' ? tr('run.pretrainName') : given ?? (f.strategyName.trim() || `${describePlan(r.freeze)}${r.discriminative ? ` ×1/${r.discriminative}` : ''}`);
  return uniqueName(base, get().runs.map((x) => x.name));
}

/** Start a run (pretraining or one fine-tuning strategy; a compared strategy's settings come as a patch). */
export function startRun(phase: Phase, opts: { fromSnapshot?: boolean; compare?: boolean; strategy?: Strategy } = {}): void {
  const st = get();
  if (!st.model.info) return notify('error', tr('model.none'));
  if (st.run.status === 'running') return notify('error', tr('run.busy'));
  const fromSnapshot = opts.fromSnapshot ?? (phase === 'finetune' && st.model.info.hasSnapshot && Boolean(opts.compare));
  const r = runRequest(phase, fromSnapshot, opts.strategy?.patch);
  requests.set(r.runId, r);
  const record: RunRecord = {
    runId: r.runId, name: strategyName(r, opts.strategy?.name), phase, steps: r.steps, freeze: r.freeze, discriminative: r.discriminative,
    points: [], evals: [], markers: [], samples: [], updateNorms: {}, trainable: {}, trainableParams: 0,
    status: 'running', stepsDone: 0, msPerStep: 0, wallMs: 0, hidden: false, compare: Boolean(opts.compare) || fromSnapshot, startedAt: Date.now(),
  };
  // pending: null — a Pause pressed before a crash (no runEnded came) must not disable the next run's Pause.
  set((s) => ({ runs: [...s.runs, record], run: { ...s.run, runId: r.runId, phase, status: 'running', error: null, step: 0, steps: r.steps, startStep: 0, pending: null } }));
  try {
    c().send({ type: 'train', run: r });
  } catch (e) {
    // The worker is gone: the run never started; say so rather than showing it as running.
    updateRun(r.runId, () => ({ status: 'error' }));
    set((s) => ({ run: { ...s.run, status: 'error', error: (e as Error).message } }));
    notify('error', (e as Error).message);
  }
}

/** Queue several fine-tuning strategies, each from the pretrained snapshot with the same seed. */
export function queueComparison(strategies: Strategy[]): void {
  set((s) => ({ run: { ...s.run, queue: strategies.map((x) => x.name) } }));
  pendingStrategies = strategies;
  startNextQueued();
}

let pendingStrategies: Strategy[] = [];

function startNextQueued(): void {
  const next = pendingStrategies.shift();
  set((s) => ({ run: { ...s.run, queue: pendingStrategies.map((x) => x.name) } }));
  if (!next) return;
  startRun('finetune', { fromSnapshot: get().model.info?.hasSnapshot ?? false, compare: true, strategy: next });
}

export function pauseRun(): void {
  set((s) => ({ run: { ...s.run, pending: 'pause' } }));
  c().send({ type: 'pause' });
}

export function stopRun(): void {
  pendingStrategies = [];
  set((s) => ({ run: { ...s.run, queue: [], pending: 'stop' } }));
  c().send({ type: 'stop' });
}

export function resumeRun(): void {
  const st = get();
  const r = st.run.runId ? requests.get(st.run.runId) : undefined;
  if (!r || st.run.status !== 'paused') return;
  updateRun(r.runId, () => ({ status: 'running' }));
  set((s) => ({ run: { ...s.run, status: 'running' } }));
  c().send({ type: 'train', run: r, resume: { startStep: st.run.step } });
}

/** One optimizer step of the paused run. */
export function stepOnce(): void {
  const st = get();
  const r = st.run.runId ? requests.get(st.run.runId) : undefined;
  if (!r || st.run.status !== 'paused') return;
  set((s) => ({ run: { ...s.run, status: 'running' } }));
  updateRun(r.runId, () => ({ status: 'running' }));
  c().send({ type: 'train', run: { ...r, sampleEvery: 0, pauseAt: st.run.step + 1 }, resume: { startStep: st.run.step } });
}

function onEvent(e: Event): void {
  switch (e.type) {
    case 'ready':
      set((s) => ({ backend: { ...s.backend, report: e.backend, status: 'ready', crash: null } }));
      return;
    case 'modelInfo':
      set((s) => ({ model: { ...s.model, info: e.info } }));
      return;
    case 'corpusInfo':
      set((s) => ({ data: { ...s.data, info: e.info, error: null } }));
      return;
    case 'pairsInfo':
      set((s) => ({ pairs: { ...s.pairs, info: e.info, error: null } }));
      return;
    case 'runStarted': {
      const r = get().runs.find((x) => x.runId === e.runId);
      const prior = get().runs.filter((x) => x.runId !== e.runId && !x.compare);
      const marker: Marker[] = e.startStep === 0 && e.phase === 'finetune' && prior.some((x) => x.phase === 'pretrain') && !r?.compare ? [{ globalStep: -1, step: 0, label: tr('chart.finetuneStarts'), kind: 'phase' }] : [];
      updateRun(e.runId, (x) => ({ status: 'running', trainableParams: e.trainableParams, markers: [...x.markers, ...marker] }));
      set((s) => ({ run: { ...s.run, runId: e.runId, phase: e.phase, status: 'running', steps: e.steps, startStep: e.startStep, step: e.startStep } }));
      return;
    }
    case 'metrics': {
      const last = e.points[e.points.length - 1];
      updateRun(e.runId, (r) => ({
        points: [...r.points, ...e.points.map((p) => ({ globalStep: p.globalStep, step: p.step, loss: p.loss, lr: p.lr, tokensPerSec: p.tokensPerSec }))],
        updateNorms: last.updateNorms,
        stepsDone: last.step + 1,
        markers: r.markers.map((m) => (m.globalStep === -1 ? { ...m, globalStep: e.points[0].globalStep } : m)),
      }));
      set((s) => ({ run: { ...s.run, step: last.step + 1, tokensPerSec: last.tokensPerSec, msPerStep: last.msPerStep } }));
      return;
    }
    case 'eval':
      updateRun(e.runId, (r) => ({ evals: [...r.evals, { globalStep: e.globalStep, step: e.step, losses: e.losses }] }));
      return;
    case 'freeze': {
      const groups = Object.keys(e.trainable);
      updateRun(e.runId, (r) => ({
        trainable: e.trainable,
        trainableParams: e.trainableParams,
        markers: r.phase === 'finetune' && e.step > 0 ? [...r.markers, { globalStep: e.globalStep, step: e.step, label: tr('chart.unfreeze', { groups: groups.length }), kind: 'unfreeze' }] : r.markers,
      }));
      return;
    }
    case 'sampleStrip':
      updateRun(e.runId, (r) => ({ samples: [...r.samples, { step: e.step, text: e.text }] }));
      return;
    case 'scoring':
      updateRun(e.runId, () => ({ scoring: e.prompts }));
      return;
    case 'dialogueScore':
      updateRun(e.runId, () => ({ scoring: 0, score: { model: e.model, snapshot: e.snapshot } }));
      return;
    case 'runEnded': {
      // scoring: 0 — a run that failed while its answers were scored must not show "scoring…" for ever.
      updateRun(e.runId, (r) => ({ status: e.status, stepsDone: e.stepsDone, wallMs: r.wallMs + e.wallMs, msPerStep: e.msPerStep || r.msPerStep, scoring: 0 }));
      const status = e.status === 'paused' ? 'paused' : e.status === 'error' ? 'error' : 'idle';
      set((s) => ({ run: { ...s.run, status, pending: null, step: e.stepsDone, error: e.error ? `${e.error.name}: ${e.error.message}` : null } }));
      if (e.status === 'error') {
        pendingStrategies = [];
        notify('error', tr('run.failed', { message: e.error?.message ?? '' }));
      }
      if (e.status !== 'error') void saveNow();
      if (e.status === 'done') startNextQueued();
      return;
    }
    case 'error':
      if (e.error.name === 'DeviceLost') {
        set((s) => ({ backend: { ...s.backend, status: 'crashed', crash: e.error.message } }));
        return;
      }
      notify('error', `${e.error.name}: ${e.error.message}`);
      return;
    case 'autosave':
      void persistSession(new Uint8Array(e.bytes), e.step);
      return;
    case 'token':
    case 'sampleDone':
    case 'file':
    case 'done':
      return;
    default: {
      const never: never = e;
      void never;
    }
  }
}

/** Stream a reply into the chat. */
export async function chat(prompt: string): Promise<void> {
  const st = get();
  if (!st.model.info || st.chat.busy) return;
  const chatMode = st.model.info.phase === 'finetune' || st.chat.compare;
  const targets: ('model' | 'snapshot')[] = st.chat.compare && st.model.info.hasSnapshot ? ['snapshot', 'model'] : ['model'];
  set((s) => ({ chat: { ...s.chat, busy: true, messages: [...s.chat.messages, { role: 'user', text: prompt }] } }));
  try {
    for (const from of targets) {
      const role = from === 'snapshot' ? 'snapshot' : 'model';
      set((s) => ({ chat: { ...s.chat, messages: [...s.chat.messages, { role, text: '' }] } }));
      const append = (t: string) =>
        set((s) => {
          const msgs = [...s.chat.messages];
          msgs[msgs.length - 1] = { ...msgs[msgs.length - 1], text: msgs[msgs.length - 1].text + t };
          return { chat: { ...s.chat, messages: msgs } };
        });
      await c().request((requestId) => ({ type: 'sample', requestId, prompt, chat: chatMode, settings: get().sampling, from }), { onToken: append });
    }
  } catch (e) {
    notify('error', (e as Error).message);
  } finally {
    set((s) => ({ chat: { ...s.chat, busy: false } }));
  }
}

export async function exportModel(from: 'model' | 'snapshot' | 'run' = 'model', run?: { runId: string; name: string }): Promise<Uint8Array | null> {
  try {
    const e = await c().request((requestId) => ({ type: 'export', requestId, from, runId: run?.runId, meta: run ? { run: run.name } : {} }));
    if (e.type !== 'file') return null;
    return new Uint8Array(e.bytes);
  } catch (err) {
    notify('error', (err as Error).message);
    return null;
  }
}

export async function importModel(name: string, bytes: ArrayBuffer): Promise<boolean> {
  try {
    await c().request((requestId) => ({ type: 'import', requestId, bytes }), { transfer: [bytes] });
    set((s) => ({ runs: [], run: { ...s.run, runId: null, status: 'idle', error: null, step: 0 } }));
    notify('info', tr('save.imported', { name }));
    return true;
  } catch (err) {
    notify('error', tr('save.importFailed', { name, message: (err as Error).message }));
    return false;
  }
}

let saving: Promise<void> | null = null;

/**
 * Autosave now (between runs): the worker's whole session and the chart history, to IndexedDB. A save
 * already under way is joined, not skipped, so a caller that restarts the worker can wait for it.
 */
export function saveNow(): Promise<void> {
  if (saving) return saving;
  if (!get().model.info || get().run.status === 'running') return Promise.resolve();
  saving = (async () => {
    try {
      const e = await c().request((requestId) => ({ type: 'saveSession', requestId }));
      if (e.type === 'file') await persistSession(new Uint8Array(e.bytes), get().run.step);
    } catch (err) {
      set((s) => ({ autosave: { ...s.autosave, error: (err as Error).message } }));
    } finally {
      saving = null;
    }
  })();
  return saving;
}

async function persistSession(bytes: Uint8Array, step: number): Promise<void> {
  const s2 = get();
  const runId = s2.run.runId;
  try {
    await autosave(bytes, {
      runs: s2.runs,
      run: { ...s2.run, step },
      request: runId ? requests.get(runId) ?? null : null,
      settings: { model: s2.model.arch, preset: s2.model.preset, seed: s2.model.seed, pretrain: s2.pretrain, finetune: s2.finetune, data: s2.data.source, pairs: s2.pairs.source },
    });
    set((s) => ({ autosave: { ...s.autosave, lastSavedStep: step, error: null } }));
  } catch (err) {
    set((s) => ({ autosave: { ...s.autosave, error: (err as Error).message } }));
  }
}

/** Restore the last autosave: weights, optimizer, charts; a paused run can then resume. */
export async function resumeAutosave(): Promise<void> {
  try {
    const saved = await loadAutosave();
    if (!saved) return;
    const { bytes, ui } = saved;
    const sets = ui.settings;
    set((s) => ({
      model: { ...s.model, arch: sets.model, preset: sets.preset ?? s.model.preset, seed: sets.seed },
      pretrain: sets.pretrain,
      finetune: sets.finetune,
    }));
    if (sets.data) await selectCorpus(sets.data);
    if (sets.pairs && !sets.pairs.startsWith('upload:') && sets.pairs !== 'editor') await selectPairs(sets.pairs);
    await c().request((requestId) => ({ type: 'loadSession', requestId, bytes: bytes.buffer as ArrayBuffer }), { transfer: [bytes.buffer as ArrayBuffer] });
    if (ui.request) requests.set(ui.request.runId, ui.request);
    const wasRunning = ui.run.status === 'running' || ui.run.status === 'paused';
    set((s) => ({
      runs: ui.runs.map((r) => (r.status === 'running' ? { ...r, status: 'paused' as const } : r)),
      run: { ...s.run, ...ui.run, status: wasRunning && ui.request ? 'paused' : 'idle', error: null, queue: [] },
      autosave: { ...s.autosave, resumable: null, lastSavedStep: ui.run.step },
    }));
    notify('info', tr('autosave.restored', { step: ui.run.step }));
  } catch (err) {
    notify('error', tr('autosave.restoreFailed', { message: (err as Error).message }));
  }
}

export async function discardAutosave(): Promise<void> {
  await clearAutosave();
  set((s) => ({ autosave: { ...s.autosave, resumable: null } }));
}

export function deleteRun(runId: string): void {
  set((s) => ({ runs: s.runs.filter((r) => r.runId !== runId) }));
  c().send({ type: 'forgetRun', runId });
}
