/**
 * Autosave to IndexedDB (idb-keyval): the worker's session file (model, optimizer, snapshot) and the
 * UI's chart history and settings. Errors, quota errors included, are thrown to the caller to report.
 */
import { createStore as createIdbStore, del, get as idbGet, set as idbSet } from 'idb-keyval';
import type { AppState, RunRecord } from './store';
import type { RunRequest } from '../worker/protocol';

export interface SavedUi {
  runs: RunRecord[];
  run: AppState['run'];
  request: RunRequest | null;
  settings: {
    model: AppState['model']['arch'];
    /** Optional: sessions saved before it was kept lack it. */
    preset?: AppState['model']['preset'];
    seed: number;
    pretrain: AppState['pretrain'];
    finetune: AppState['finetune'];
    data: string | null;
    pairs: string | null;
  };
}

interface SavedInfo {
  step: number;
  savedAt: number;
}

const db = () => createIdbStore('small-gpt-playground', 'autosave');

function describeStorageError(e: unknown): Error {
  const err = e as DOMException;
  if (err?.name === 'QuotaExceededError') return new Error('the browser refused to store the autosave: storage quota exceeded (free some space or use a smaller model)');
  return new Error(`autosave failed: ${err?.message ?? String(e)}`);
}

export async function autosave(session: Uint8Array, ui: SavedUi): Promise<void> {
  try {
    const store = db();
    await idbSet('session', session, store);
    await idbSet('ui', ui, store);
    await idbSet('info', { step: ui.run.step, savedAt: Date.now() } satisfies SavedInfo, store);
  } catch (e) {
    throw describeStorageError(e);
  }
}

export async function readAutosaveInfo(): Promise<SavedInfo | null> {
  try {
    return ((await idbGet('info', db())) as SavedInfo | undefined) ?? null;
  } catch {
    return null;
  }
}

export async function loadAutosave(): Promise<{ bytes: Uint8Array; ui: SavedUi } | null> {
  const store = db();
  const bytes = (await idbGet('session', store)) as Uint8Array | undefined;
  const ui = (await idbGet('ui', store)) as SavedUi | undefined;
  if (!bytes || !ui) return null;
  return { bytes, ui };
}

export async function clearAutosave(): Promise<void> {
  const store = db();
  await Promise.all([del('session', store), del('ui', store), del('info', store)]);
}
