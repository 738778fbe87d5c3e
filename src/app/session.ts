/**
 * What survives a reload or a crash: the autosave (the worker's session file and the chart history, in
 * IndexedDB), restoring it, exporting and importing model files, and recovering from a dead worker.
 */
import { get, set, type AppState, type RunRecord } from '../store/store';
import { autosave, clearAutosave, loadAutosave, readAutosaveInfo, type SavedUploads } from '../store/persist';
import { pairsFingerprint, textFingerprint } from './dataPrint';
import { errorText, msg } from '../i18n/i18n';
import { archOf, presetOf } from '../engine/model/config';
import type { BackendName, Event } from '../worker/protocol';
import { resendData, selectCorpus, selectPairs, setPairList } from './data';
import { notify, notifyKey } from './notify';
import { joinSave, startWorker, worker } from './worker';

/** Points kept per run in an autosave: a long run's curve, thinned evenly (its last point always kept). */
export const SAVED_POINTS_PER_RUN = 2000;

/** A run's history thinned for the autosave: at most `max` points, evenly spaced, the last one kept. */
export function thinned(r: RunRecord, max = SAVED_POINTS_PER_RUN): RunRecord {
  if (r.points.length <= max && (r.diagnostics?.length ?? 0) <= max) return r;
  const thin = <T>(xs: T[]) => {
    const every = Math.ceil(xs.length / max);
    return xs.filter((_, i) => i % every === 0 || i === xs.length - 1);
  };
  return { ...r, points: thin(r.points), diagnostics: r.diagnostics && thin(r.diagnostics) };
}

/** Autosave now (between runs): the worker's whole session and the chart history, to IndexedDB. */
export function saveNow(): Promise<void> {
  if (!get().model.info || get().run.status === 'running') return Promise.resolve();
  return joinSave(async () => {
    try {
      const e = await worker().request('saveSession', {});
      await persistSession(new Uint8Array(e.bytes), get().run.step);
    } catch (err) {
      set((s) => ({ autosave: { ...s.autosave, error: errorText(err) } }));
    }
  });
}

/**
 * The user's own data in the state, to keep with the session: the corpus when it is an upload (or pasted),
 * the pairs when they are not a bundled set as shipped (uploaded, edited, typed in the editor).
 */
export function uploadsOf(st: AppState): SavedUploads | null {
  const key = st.data.source;
  const text = key !== null ? st.data.uploads[key] : undefined;
  const bundled = (id: string | null) => Boolean(st.manifest?.datasets.some((d) => d.id === id));
  const pairs = st.pairs.list.length && !bundled(st.pairs.source) ? { source: st.pairs.source, list: st.pairs.list } : undefined;
  if (text === undefined && !pairs) return null;
  const print = `${text === undefined ? '' : textFingerprint(text)}/${pairs ? pairsFingerprint(pairs.list) : ''}`;
  return { print, corpus: key !== null && text !== undefined ? { key, text } : undefined, pairs };
}

/** Store a session file from the worker with the page's part of the session (charts, settings, uploads). */
export async function persistSession(bytes: Uint8Array, step: number): Promise<void> {
  const s2 = get();
  // Another tab owns the autosave: writing here would replace its session with this one.
  if (s2.autosave.otherTab) return;
  try {
    await autosave(
      bytes,
      {
        runs: s2.runs.map((r) => thinned(r)),
        run: { ...s2.run, step, queue: [] },
        request: null,
        settings: {
          model: s2.model.arch,
          preset: s2.model.preset,
          seed: s2.model.seed,
          pretrain: s2.pretrain,
          finetune: s2.finetune,
          data: s2.data.source,
          pairs: s2.pairs.source,
          tokenizer: { kind: s2.tokenizer.kind, vocabSize: s2.tokenizer.vocabSize },
        },
      },
      uploadsOf(s2),
    );
    set((s) => ({ autosave: { ...s.autosave, lastSavedStep: step, error: null } }));
  } catch (err) {
    set((s) => ({ autosave: { ...s.autosave, error: errorText(err) } }));
  }
}

/** Restore the last autosave: weights, optimizer, charts; a paused run can then resume. */
export async function resumeAutosave(): Promise<void> {
  try {
    const saved = await loadAutosave();
    if (!saved) return;
    const { bytes, ui, uploads } = saved;
    const sets = ui.settings;
    set((s) => ({
      // The preset is named by the numbers (presetOf), as everywhere: a saved name is not trusted over them.
      model: { ...s.model, arch: sets.model, preset: presetOf(sets.model), seed: sets.seed },
      // Over the defaults: a setting added since the autosave was written (the fine-tune's start, say) takes its default.
      pretrain: { ...s.pretrain, ...sets.pretrain },
      finetune: { ...s.finetune, ...sets.finetune },
      tokenizer: sets.tokenizer ? { ...s.tokenizer, kind: sets.tokenizer.kind, vocabSize: sets.tokenizer.vocabSize } : s.tokenizer,
    }));
    // The user's uploads come back with the session; without them (an autosave from before they were kept)
    // the selection stays as it is, and Resume says which file to upload again (runs.ts pausedRequest).
    if (uploads?.corpus) set((s) => ({ data: { ...s.data, uploads: { ...s.data.uploads, [uploads.corpus!.key]: uploads.corpus!.text } } }));
    if (sets.data && (uploads?.corpus?.key === sets.data || !sets.data.startsWith('upload:'))) await selectCorpus(sets.data);
    if (uploads?.pairs) setPairList(uploads.pairs.list, uploads.pairs.source);
    else if (sets.pairs && get().manifest?.datasets.some((d) => d.id === sets.pairs)) await selectPairs(sets.pairs);
    await worker().request('loadSession', { bytes: bytes.buffer as ArrayBuffer }, { transfer: [bytes.buffer as ArrayBuffer] });
    // Autosaves from before requests were kept in the run records carry the current run's request apart.
    const runs = ui.runs.map((r) => ({
      ...r,
      request: r.request ?? (ui.request?.runId === r.runId ? ui.request : undefined),
      status: r.status === 'running' ? ('paused' as const) : r.status,
    }));
    const current = runs.find((r) => r.runId === ui.run.runId);
    const wasRunning = ui.run.status === 'running' || ui.run.status === 'paused';
    set((s) => ({
      runs,
      run: { ...s.run, ...ui.run, status: wasRunning && current?.request ? 'paused' : 'idle', error: null, queue: [] },
      autosave: { ...s.autosave, resumable: null, lastSavedStep: ui.run.step },
    }));
    notifyKey('info', 'autosave.restored', { step: ui.run.step });
  } catch (err) {
    notifyKey('error', 'autosave.restoreFailed', { message: errorText(err) });
  }
}

export async function discardAutosave(): Promise<void> {
  await clearAutosave();
  set((s) => ({ autosave: { ...s.autosave, resumable: null } }));
}

/** Restart the worker on another backend and bring back the last autosave (after a crash or device loss). */
export async function recover(onEvent: (e: Event) => void, backend: BackendName | null): Promise<void> {
  // A healthy worker (a backend switch, not a crash) saves the current model first, so it is what comes back.
  if (get().backend.status === 'ready' && get().model.info && get().run.status !== 'running') await saveNow();
  // A tokenizer being trained went with the old worker: its progress bar too.
  set((s) => ({
    run: { ...s.run, status: 'idle', runId: null, error: null },
    model: { ...s.model, info: null },
    tokenizer: { ...s.tokenizer, progress: null },
  }));
  startWorker(onEvent, backend);
  await resendData();
  if (await readAutosaveInfo()) await resumeAutosave();
}

/** The model's file (with LoRA adapters folded in), or with `adapter` only the LoRA adapters (a small file). */
export async function exportModel(
  from: 'model' | 'snapshot' | 'run' = 'model',
  run?: { runId: string; name: string },
  adapter = false,
): Promise<Uint8Array | null> {
  try {
    const e = await worker().request('export', { from, runId: run?.runId, adapter, meta: run ? { run: run.name } : {} });
    return new Uint8Array(e.bytes);
  } catch (err) {
    notify('error', errorText(err));
    return null;
  }
}

/**
 * The model (adapters merged) as a .zip of the Hugging Face folder that ONNX Runtime and transformers.js load;
 * a model the format cannot hold is refused with the engine's reason, in the page's language.
 */
export async function exportWebModel(): Promise<Uint8Array | null> {
  try {
    const e = await worker().request('export', { from: 'model', format: 'web', meta: {} });
    return new Uint8Array(e.bytes);
  } catch (err) {
    notify('error', errorText(err));
    return null;
  }
}

export async function importModel(name: string, bytes: ArrayBuffer): Promise<boolean> {
  try {
    const e = await worker().request('import', { bytes }, { transfer: [bytes] });
    if (e.adapters) {
      // LoRA adapters on the same model: its runs and chart stay.
      notifyKey('info', 'save.importedAdapters', { name });
      return true;
    }
    // The model form shows the loaded model's architecture, not the one it showed before.
    set((s) => {
      const arch = s.model.info ? archOf(s.model.info.config) : s.model.arch;
      return { runs: [], run: { ...s.run, runId: null, status: 'idle', error: null, step: 0 }, model: { ...s.model, arch, preset: presetOf(arch) } };
    });
    notifyKey('info', 'save.imported', { name });
    return true;
  } catch (err) {
    set({ notice: { kind: 'error', text: msg('save.importFailed', { name, message: errorText(err) }) } });
    return false;
  }
}
