/**
 * Nothing lost across a reload: the autosave keeps the user's uploads (written again only when they change),
 * and a paused run resumes only on the data it trained on — never silently on whatever is selected now.
 */
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { autosave, clearAutosave, loadAutosave, type SavedUi } from '../../src/store/persist';
import { get, initialState, set, type RunRecord } from '../../src/store/store';
import { resumeRun, startRun } from '../../src/app/runs';
import { resumeAutosave, uploadsOf } from '../../src/app/session';
import { currentData, fingerprint } from '../../src/app/dataPrint';
import type { DatasetManifest } from '../../src/datasets/manifest';

const manifest = {
  datasets: [
    { id: 'moby-dick', kind: 'corpus', title: { en: 'Moby-Dick', zh: '白鲸' } },
    { id: 'sailor', kind: 'pairs', title: { en: 'Ask a sailor', zh: '问水手' } },
  ],
} as unknown as DatasetManifest;
const mine = 'my own notes about the sea. '.repeat(60);

function ui(): SavedUi {
  const s = initialState('en');
  return {
    runs: [],
    run: s.run,
    request: null,
    settings: { model: s.model.arch, preset: s.model.preset, seed: 1, pretrain: s.pretrain, finetune: s.finetune, data: null, pairs: null },
  };
}

beforeEach(() => set(initialState('en')));
afterEach(() => clearAutosave());

describe('uploads in the autosave', () => {
  it('keeps an uploaded corpus and uploaded pairs, not the bundled ones', () => {
    set((s) => ({
      manifest,
      data: { ...s.data, source: 'upload:notes.txt', uploads: { 'upload:notes.txt': mine } },
      pairs: { ...s.pairs, source: 'upload:qa.csv', list: [{ prompt: 'Hi', response: 'Ahoy.' }] },
    }));
    const u = uploadsOf(get())!;
    expect(u.corpus).toEqual({ key: 'upload:notes.txt', text: mine });
    expect(u.pairs).toEqual({ source: 'upload:qa.csv', list: [{ prompt: 'Hi', response: 'Ahoy.' }] });
    set((s) => ({ data: { ...s.data, source: 'moby-dick' }, pairs: { ...s.pairs, source: 'sailor' } }));
    expect(uploadsOf(get())).toBeNull();
  });

  it('round-trips them, and writes them again only when they changed', async () => {
    const first = { print: 'a', corpus: { key: 'upload:notes.txt', text: mine } };
    await autosave(new Uint8Array([1]), ui(), first);
    expect((await loadAutosave())!.uploads).toEqual(first);
    // Same print: the stored copy is not rewritten (a changed body under the same print stays unwritten).
    await autosave(new Uint8Array([2]), ui(), { ...first, corpus: { key: 'upload:notes.txt', text: 'not written' } });
    expect((await loadAutosave())!.uploads!.corpus!.text).toBe(mine);
    // A new print is written, and none (bundled data only) clears it.
    await autosave(new Uint8Array([3]), ui(), { print: 'b', corpus: { key: 'upload:x', text: 'x'.repeat(10) } });
    expect((await loadAutosave())!.uploads!.print).toBe('b');
    await autosave(new Uint8Array([4]), ui(), null);
    expect((await loadAutosave())!.uploads).toBeNull();
  });

  it('settings saved before a setting existed take its default (the fine-tune starting from the snapshot: off)', async () => {
    const saved = ui();
    const { fromSnapshot: _, ...older } = saved.settings.finetune;
    await autosave(new Uint8Array([1]), { ...saved, settings: { ...saved.settings, finetune: { ...older, steps: 77 } as never } }, null);
    await resumeAutosave(); // no worker here: the weights do not load (a notice says so), the settings are back before
    expect(get().finetune.steps).toBe(77);
    expect(get().finetune.fromSnapshot).toBe(false);
  });

  it('the fingerprint tells texts apart', () => {
    expect(fingerprint(mine)).toBe(fingerprint(`${mine}`));
    expect(fingerprint(mine)).not.toBe(fingerprint(mine.replace('sea', 'see')));
    expect(fingerprint('ab')).not.toBe(fingerprint('ba'));
  });
});

describe('a paused run resumes only on its own data', () => {
  function paused(phase: 'pretrain' | 'finetune', trainedOn: RunRecord['trainedOn']) {
    const record = { runId: 'r1', phase, request: { runId: 'r1' }, trainedOn, status: 'paused' } as unknown as RunRecord;
    set((s) => ({ manifest, runs: [record], run: { ...s.run, runId: 'r1', status: 'paused', step: 100 } }));
  }

  it('refuses when the upload it trained on is missing (an old autosave) and names the file; nothing is sent', () => {
    paused('pretrain', { source: 'upload:notes.txt', print: fingerprint(mine) });
    set((s) => ({ data: { ...s.data, source: 'moby-dick' } }));
    resumeRun(); // no worker exists here: a request would throw
    expect(get().run.status).toBe('paused');
    expect(get().notice).toEqual({ kind: 'error', text: { key: 'run.otherCorpus', params: { name: 'notes.txt' } } });
  });

  it('refuses fine-tuning on other pairs, naming the bundled set by its title', () => {
    paused('finetune', { source: 'sailor', print: 'something else' });
    set((s) => ({ pairs: { ...s.pairs, source: 'upload:qa.csv', list: [{ prompt: 'a', response: 'b' }] } }));
    resumeRun();
    expect(get().notice).toEqual({ kind: 'error', text: { key: 'run.otherPairs', params: { name: 'Ask a sailor' } } });
  });

  it('the same data again (re-uploaded) is what the run recorded', () => {
    set((s) => ({ data: { ...s.data, source: 'upload:notes.txt', uploads: { 'upload:notes.txt': mine } } }));
    const recorded = currentData(get(), 'pretrain');
    set((s) => ({ data: { ...s.data, source: 'upload:again.txt', uploads: { 'upload:again.txt': `${mine}` } } }));
    expect(currentData(get(), 'pretrain')!.print).toBe(recorded!.print);
  });

  it('a run refused for memory never starts', () => {
    set((s) => ({
      backend: { ...s.backend, report: { name: 'wasm', forced: false, reason: '', probes: {} as never } },
      model: { ...s.model, info: { config: { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, dropout: 0, bias: false, vocabSize: 70 } } as never },
      pretrain: { ...s.pretrain, batchSize: 100_000 },
    }));
    startRun('pretrain');
    expect(get().runs).toEqual([]);
    expect((get().notice?.text as { key: string }).key).toBe('error.memoryBatch');
  });
});
