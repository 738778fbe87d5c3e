/**
 * CLI inputs: a path to a file, or the id of a bundled dataset (public/datasets, built by
 * `npm run datasets`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATASET_DIR, MANIFEST_FILE, type DatasetEntry, type DatasetManifest, type DatasetKind } from '../src/datasets/manifest';

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

/** Text of a file path or bundled dataset id, with the entry when it is a bundled dataset. */
export function readInput(arg: string, kind: DatasetKind): { text: string; name: string; entry?: DatasetEntry } {
  if (existsSync(arg)) return { text: decodeUtf8(readFileSync(arg), arg), name: arg };
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
