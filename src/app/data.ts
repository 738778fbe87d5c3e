/**
 * The data a session trains on: bundled datasets (from the build's manifest), uploaded or pasted corpora,
 * dialogue pairs. Each choice is checked here, kept in the store and sent to the worker.
 */
import { get, set } from '../store/store';
import { DATASET_DIR, MANIFEST_FILE, type DatasetManifest } from '../datasets/manifest';
import { STARTERS_DIR, STARTERS_FILE, type StarterEntry } from '../datasets/starters';
import type { Pair } from '../engine/data/pairs';
import { parsePairs, problemsMessage } from '../documents/pairsFile';
import { checkDocumentText, checkTextSize, decodeUtf8 } from '../documents/text';
import { normalizeText } from '../engine/data/corpus';
import { errorText, msg, MessageError, type Text } from '../i18n/i18n';
import { writeUrl } from '../store/url';
import { finetuneRecipe } from '../engine/train/lesson';
import { notifyKey } from './notify';
import { planName } from './planName';
import { worker } from './worker';

const base = import.meta.env.BASE_URL;

export async function loadManifest(): Promise<void> {
  try {
    const res = await fetch(`${base}${DATASET_DIR}/${MANIFEST_FILE}`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    set({ manifest: (await res.json()) as DatasetManifest });
  } catch (e) {
    notifyKey('error', 'data.manifestError', { message: errorText(e) });
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

export async function fetchDataset(id: string): Promise<string> {
  const entry = get().manifest?.datasets.find((d) => d.id === id);
  if (!entry) throw new MessageError(msg('data.unknownDataset', { id }));
  const res = await fetch(`${base}${DATASET_DIR}/${entry.file}`);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.text();
}

/** Use a bundled corpus (by id) or an uploaded/pasted text (by its `upload:` key). */
export async function selectCorpus(source: string): Promise<void> {
  try {
    const text = get().data.uploads[source] ?? (await fetchDataset(source));
    // info is the worker's answer for this text: cleared until it comes, so a failure never shows stale counts.
    set((s) => ({ data: { ...s.data, source, preview: text.slice(0, 600), error: null, info: null } }));
    worker().send({ type: 'setCorpus', name: source, text });
    writeUrl();
  } catch (e) {
    set((s) => ({ data: { ...s.data, error: errorText(e) } }));
  }
}

/**
 * Check an uploaded file or pasted text; on success it becomes the corpus. The checks (and their coded
 * errors) are the documents' (src/documents/text.ts): the size limit, strict UTF-8, checkText.
 */
export async function loadUploadedText(name: string, bytes: ArrayBuffer | string): Promise<void> {
  try {
    checkTextSize(name, typeof bytes === 'string' ? bytes.length : bytes.byteLength);
    const text = normalizeText(typeof bytes === 'string' ? bytes : decodeUtf8(name, new Uint8Array(bytes)));
    checkDocumentText(name, text);
    if ([...text].length < 1000) throw new MessageError(msg('data.tooShort', { name }));
    const key = `upload:${name}`;
    set((s) => ({ data: { ...s.data, uploads: { ...s.data.uploads, [key]: text } } }));
    await selectCorpus(key);
  } catch (e) {
    set((s) => ({ data: { ...s.data, error: errorText(e) } }));
  }
}

const isPlainText = (f: File) => /\.txt$/i.test(f.name) || (f.type === 'text/plain' && !/\.(md|markdown|html?|pdf|docx)$/i.test(f.name));

/**
 * Uploaded files as the corpus: one plain text file as before; documents (PDF, Word, Markdown, HTML) and
 * several files are read to text (src/documents, loaded on demand) and joined, each file's character count
 * (or why it gave none) shown beside the corpus.
 */
export async function loadUploadedFiles(files: File[]): Promise<void> {
  if (files.length === 1 && isPlainText(files[0])) {
    set((s) => ({ data: { ...s.data, files: [] } }));
    return loadUploadedText(files[0].name, await files[0].arrayBuffer());
  }
  try {
    const { extractDocuments } = await import('../documents/extract');
    const res = await extractDocuments(files);
    // A DocumentError carries its code and values (the file's name among them): errorText translates it.
    set((s) => ({ data: { ...s.data, files: res.files.map((f) => ({ name: f.name, chars: f.chars, error: f.error ? errorText(f.error) : undefined })) } }));
    if (!res.text) throw res.errors[0] ?? new MessageError(msg('data.tooShort', { name: files[0].name }));
    const name = files.length === 1 ? files[0].name : `${files[0].name} +${files.length - 1}`;
    if (res.chars < 1000) throw new MessageError(msg('data.tooShort', { name }));
    const key = `upload:${name}`;
    set((s) => ({ data: { ...s.data, uploads: { ...s.data.uploads, [key]: normalizeText(res.text) } } }));
    await selectCorpus(key);
  } catch (e) {
    set((s) => ({ data: { ...s.data, error: errorText(e) } }));
  }
}

export async function selectPairs(source: string, text?: string, fileName?: string): Promise<void> {
  try {
    const body = text ?? (await fetchDataset(source));
    const parsed = parsePairs(body, fileName ?? source);
    const problems = parsed.problems.length ? [problemsMessage(parsed.problems)] : [];
    // An upload none of whose lines reads: which file, why, and that the pairs in use stay (nothing is lost).
    if (!parsed.pairs.length)
      throw new MessageError(fileName && problems[0] ? msg('pairs.fileUnusable', { name: fileName, reason: problems[0] }) : (problems[0] ?? msg('pairs.none')));
    setPairList(parsed.pairs, source, problems);
  } catch (e) {
    set((s) => ({ pairs: { ...s.pairs, error: errorText(e) } }));
  }
}

/**
 * A bundled lesson's pairs chosen by the user (or its starter loaded): the fine-tune measured for that lesson
 * becomes the settings (lesson.ts FINETUNE_RECIPES), as the CLI uses it for the same pairs.
 */
export function applyLessonFinetune(pairsId: string): void {
  const { run, freeze } = finetuneRecipe(pairsId);
  const preset = freeze.kind === 'progressive' ? ('progressive' as const) : ('none' as const);
  const f = get().finetune;
  if (f.steps === run.steps && f.lr === run.lr && f.batchSize === run.batchSize && f.preset === preset) return;
  set((s) => ({
    finetune: {
      ...s.finetune,
      steps: run.steps,
      lr: run.lr,
      batchSize: run.batchSize,
      schedule: run.schedule,
      warmupSteps: run.warmupSteps,
      evalEvery: run.evalEvery,
      evalIters: run.evalIters,
      preset,
      every: freeze.kind === 'progressive' ? freeze.every : s.finetune.every,
      useDiscriminative: false,
    },
  }));
  // The plan by its name in the page's language ("full fine-tune"), not the setting's value ("none").
  notifyKey('info', 'ft.recipe', { steps: run.steps, lr: run.lr, plan: planName(freeze) });
  writeUrl();
}

export function setPairList(list: Pair[], source: string | null, problems: Text[] = []): void {
  set((s) => ({ pairs: { ...s.pairs, source, list, error: null, problems, info: null } }));
  if (list.length) sendPairs();
  writeUrl();
}

/** Send the pairs and how to use them (held-out share, loss mask) to the worker. */
export function sendPairs(): void {
  const { pairs, finetune, manifest } = get();
  // A bundled set brings its held-out prompts; for others the worker uses the validation pairs' prompts.
  // The small world's pairs bring their quiz (questions about people no pair mentions).
  const entry = manifest?.datasets.find((d) => d.id === pairs.source);
  worker().send({
    type: 'setPairs',
    name: pairs.source ?? 'pairs',
    pairs: pairs.list,
    valFraction: finetune.valFraction,
    responseOnly: finetune.responseOnly,
    heldout: entry?.heldout ?? [],
    quiz: entry?.quiz ?? null,
  });
}

/** Drop the pairs longer than the context (they would lose their end marker, so the model could not learn to stop). */
export function dropLongPairs(): void {
  const { pairs } = get();
  const long = new Set(pairs.info?.longPairs ?? []);
  if (!long.size) return;
  setPairList(
    pairs.list.filter((_, i) => !long.has(i)),
    pairs.source,
    pairs.problems,
  );
  notifyKey('info', 'pairs.dropped', { n: long.size });
}

/** Send the chosen corpus and pairs again (to a restarted worker). */
export async function resendData(): Promise<void> {
  const { data, pairs } = get();
  if (data.source) await selectCorpus(data.source).catch(() => undefined);
  if (pairs.list.length) sendPairs();
}
