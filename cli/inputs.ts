/**
 * CLI inputs: a path to a file, or the id of a bundled dataset (public/datasets, built by
 * `npm run datasets`).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATASET_DIR, MANIFEST_FILE, type DatasetEntry, type DatasetManifest, type DatasetKind } from '../src/datasets/manifest';
import { MAX_UPLOAD_BYTES } from '../src/engine/data/limits';

export class InputError extends Error {
  override name = 'InputError';
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const datasetsDir = join(root, 'public', DATASET_DIR);

export function loadManifest(): DatasetManifest | null {
  const p = join(datasetsDir, MANIFEST_FILE);
  if (!existsSync(p)) return null;
  return JSON.parse(readFileSync(p, 'utf8')) as DatasetManifest;
}

function decodeUtf8(bytes: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InputError(`${what} is not UTF-8 text (binary file?)`);
  }
}

const MiB = 1024 * 1024;

/**
 * Refuses a text or pairs file that is not a regular file or is over MAX_UPLOAD_BYTES (the page's limit),
 * from its size on disk: nothing is read.
 */
export function checkInputFile(path: string): void {
  const s = statSync(path);
  if (s.isDirectory()) throw new InputError(`${path} is a directory, not a text file`);
  if (s.isFile() && s.size > MAX_UPLOAD_BYTES) {
    throw new InputError(`${path} is ${(s.size / MiB).toFixed(1)} MiB: text and pairs files are limited to ${MAX_UPLOAD_BYTES / MiB} MiB`);
  }
}

/** Text of a file path or bundled dataset id, with the entry when it is a bundled dataset. */
export function readInput(arg: string, kind: DatasetKind): { text: string; name: string; entry?: DatasetEntry } {
  if (existsSync(arg)) {
    checkInputFile(arg);
    const bytes = readFileSync(arg);
    // A pipe or device has no size to check beforehand: checked once read.
    if (bytes.length > MAX_UPLOAD_BYTES) throw new InputError(`${arg} is over ${MAX_UPLOAD_BYTES / MiB} MiB: text and pairs files are limited to ${MAX_UPLOAD_BYTES / MiB} MiB`);
    return { text: decodeUtf8(bytes, arg), name: arg };
  }
  const manifest = loadManifest();
  const entry = manifest?.datasets.find((d) => d.id === arg);
  if (entry) {
    if (entry.kind !== kind) throw new InputError(`${arg} is a bundled ${entry.kind} dataset, but a ${kind} is needed here`);
    return { text: readFileSync(join(datasetsDir, entry.file), 'utf8'), name: entry.file, entry };
  }
  const ids = manifest?.datasets.filter((d) => d.kind === kind).map((d) => d.id) ?? [];
  throw new InputError(
    `no such file or bundled dataset: ${arg}` + (ids.length ? ` (bundled ${kind} datasets: ${ids.join(', ')})` : ' (bundled datasets are not built: run npm run datasets)'),
  );
}

export function readBytes(path: string): Uint8Array {
  if (!existsSync(path)) throw new InputError(`no such file: ${path}`);
  return new Uint8Array(readFileSync(path));
}
