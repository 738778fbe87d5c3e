/**
 * The autosave keeps the last good save through a failed one: a write that fails half-way (a value the
 * browser cannot store, standing in for a crash or a full disk mid-transaction) or a save too big for the
 * free space leaves the previous save complete and loadable. IndexedDB here is fake-indexeddb's.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { autosave, clearAutosave, loadAutosave, readAutosaveInfo, StorageFullError, type SavedUi } from '../../src/store/persist';
import { initialState } from '../../src/store/store';

function ui(step: number, extra: Record<string, unknown> = {}): SavedUi {
  const s = initialState('en');
  return {
    runs: [],
    run: { ...s.run, step },
    request: null,
    settings: { model: s.model.arch, preset: s.model.preset, seed: 1, pretrain: s.pretrain, finetune: s.finetune, data: null, pairs: null },
    ...extra,
  };
}

afterEach(async () => {
  vi.unstubAllGlobals();
  await clearAutosave();
});

describe('autosave', () => {
  it('round-trips a session and the page state', async () => {
    await autosave(new Uint8Array([1, 2, 3]), ui(10));
    const saved = await loadAutosave();
    expect([...saved!.bytes]).toEqual([1, 2, 3]);
    expect(saved!.ui.run.step).toBe(10);
    expect((await readAutosaveInfo())!.step).toBe(10);
  });

  it('a save that fails half-way leaves the previous save whole', async () => {
    await autosave(new Uint8Array([1, 2, 3]), ui(10));
    // The session record is written first; the page state then cannot be stored (a function is not
    // cloneable), so the transaction fails after its first write.
    const broken = ui(20, { oops: () => 1 });
    await expect(autosave(new Uint8Array([9, 9, 9, 9]), broken)).rejects.toThrow(/previous autosave is kept/);
    const saved = await loadAutosave();
    expect([...saved!.bytes]).toEqual([1, 2, 3]);
    expect(saved!.ui.run.step).toBe(10);
    expect((await readAutosaveInfo())!.step).toBe(10);
  });

  it('a save larger than the free space is refused with the numbers, and the previous save stays', async () => {
    await autosave(new Uint8Array([1, 2, 3]), ui(10));
    vi.stubGlobal('navigator', { storage: { estimate: async () => ({ usage: 900_000, quota: 1_000_000 }) } });
    const big = new Uint8Array(3 * 1048576);
    const err = await autosave(big, ui(30)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageFullError);
    expect((err as Error).message).toMatch(/needs about 3\.\d MB; about 0\.1 MB is free/);
    expect((err as Error).message).toMatch(/previous autosave is kept/);
    expect((await loadAutosave())!.ui.run.step).toBe(10);
  });
});
