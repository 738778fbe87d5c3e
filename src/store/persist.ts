/**
 * Autosave to IndexedDB (idb-keyval): the worker's session file (model, optimizer, snapshot) and the
 * UI's chart history and settings. Errors, quota errors included, are thrown to the caller to report.
 *
 * Nothing lost: the three records of a save are written in ONE IndexedDB transaction, which commits whole
 * or not at all — a crash, a reload or a full quota in the middle of a save leaves the previous save
 * complete and loadable. Before writing, the free space is checked against the session's size, so a save
 * that cannot fit is refused with the numbers instead of failing half-way.
 */
import { createStore as createIdbStore, delMany, get as idbGet, getMany, promisifyRequest } from 'idb-keyval';
import type { AppState, RunRecord } from './store';
import { MessageError, msg } from '../i18n/i18n';
import type { RunRequest } from '../worker/protocol';
import type { Pair } from '../engine/data/pairs';

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
    /** The next model's tokenizer setting (optional: sessions saved before BPE lack it; the model file has its own). */
    tokenizer?: { kind: AppState['tokenizer']['kind']; vocabSize: number | null };
  };
}

/**
 * The user's own data, saved with the session so that a restored run trains on what it trained on: the
 * uploaded or pasted corpus and the uploaded or edited pairs (bundled sets are known by their id). Each is at
 * most the upload limit (20 MiB, limits.ts), so they are kept whole: no "re-upload" is needed after a reload.
 * Written in the same transaction as the session, but only when they changed since the last save (a 20 MB
 * text is not copied again every hundred steps).
 */
export interface SavedUploads {
  /** Identifies the content, to skip rewriting it unchanged. */
  print: string;
  corpus?: { key: string; text: string };
  pairs?: { source: string | null; list: Pair[] };
}

interface SavedInfo {
  step: number;
  savedAt: number;
}

const db = () => createIdbStore('small-gpt-playground', 'autosave');

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

/** Thrown when the browser's storage cannot hold the autosave; the previous one is still there. */
export class StorageFullError extends MessageError {
  override name = 'StorageFullError';
}

/** Why a save failed, in words the page translates (a full storage with the numbers, or the browser's own words). */
function describeStorageError(e: unknown, needed: number, free: number | null): Error {
  const err = e as DOMException;
  if (err?.name === 'QuotaExceededError' || e instanceof StorageFullError) {
    return new StorageFullError(
      free === null ? msg('autosave.full', { needed: mb(needed) }) : msg('autosave.fullFree', { needed: mb(needed), free: mb(Math.max(0, free)) }),
    );
  }
  return new MessageError(msg('autosave.failed', { message: err?.message ?? String(e) }));
}

/**
 * Put every entry in one readwrite transaction; any failure (a value that cannot be stored, a full quota)
 * aborts it, so none of the entries is written.
 */
function writeAll(entries: [string, unknown][]): Promise<void> {
  return db()('readwrite', (store) => {
    try {
      for (const [key, value] of entries) store.put(value, key);
    } catch (e) {
      store.transaction.abort();
      throw e;
    }
    return promisifyRequest(store.transaction);
  });
}

/** Free bytes the browser says this origin may still use, or null when it does not say. */
async function freeBytes(): Promise<number | null> {
  const storage = (globalThis as { navigator?: { storage?: { estimate?(): Promise<{ usage?: number; quota?: number }> } } }).navigator?.storage;
  if (!storage?.estimate) return null;
  try {
    const { usage, quota } = await storage.estimate();
    return usage !== undefined && quota !== undefined ? quota - usage : null;
  } catch {
    return null;
  }
}

// The uploads' print last written by this page (null: not known to be stored, write them).
let uploadsWritten: string | null = null;

const uploadsSize = (u: SavedUploads) => (u.corpus?.text.length ?? 0) * 2 + (u.pairs ? JSON.stringify(u.pairs.list).length * 2 : 0);

export async function autosave(session: Uint8Array, ui: SavedUi, uploads: SavedUploads | null = null): Promise<void> {
  const writeUploads = uploadsWritten === null || (uploads?.print ?? '') !== uploadsWritten;
  // Room for the new save while the old one still exists (it is replaced only when the write commits).
  const needed = session.byteLength + JSON.stringify(ui).length * 2 + (writeUploads && uploads ? uploadsSize(uploads) : 0);
  const free = await freeBytes();
  try {
    if (free !== null && free < needed) throw new StorageFullError(msg('autosave.fullFree', { needed: mb(needed), free: mb(Math.max(0, free)) }));
    const entries: [string, unknown][] = [
      ['session', session],
      ['ui', ui],
      ['info', { step: ui.run.step, savedAt: Date.now() } satisfies SavedInfo],
    ];
    if (writeUploads) entries.push(['uploads', uploads]);
    await writeAll(entries);
    if (writeUploads) uploadsWritten = uploads?.print ?? '';
  } catch (e) {
    throw describeStorageError(e, needed, free);
  }
}

export async function readAutosaveInfo(): Promise<SavedInfo | null> {
  try {
    return ((await idbGet('info', db())) as SavedInfo | undefined) ?? null;
  } catch {
    return null;
  }
}

export async function loadAutosave(): Promise<{ bytes: Uint8Array; ui: SavedUi; uploads: SavedUploads | null } | null> {
  // One transaction: the session and the page's part of the same save.
  const [bytes, ui, uploads] = (await getMany(['session', 'ui', 'uploads'], db())) as [
    Uint8Array | undefined,
    SavedUi | undefined,
    SavedUploads | null | undefined,
  ];
  if (!bytes || !ui) return null;
  return { bytes, ui, uploads: uploads ?? null };
}

export async function clearAutosave(): Promise<void> {
  await delMany(['session', 'ui', 'info', 'uploads'], db());
  uploadsWritten = null;
}
