/**
 * CLI inputs: a path to a file, or the id of a bundled dataset (public/datasets, built by
 * `npm run datasets`).
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync, readSync, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATASET_DIR, MANIFEST_FILE, type DatasetEntry, type DatasetManifest, type DatasetKind } from '../src/datasets/manifest';
import { MAX_UPLOAD_BYTES } from '../src/engine/data/limits';
import { STARTERS_DIR } from '../src/datasets/starters';
import { normalizeText } from '../src/engine/data/corpus';

export class InputError extends Error {
  override name = 'InputError';
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const datasetsDir = join(root, 'public', DATASET_DIR);
/** The bundled starter models (public/starters: starters.json and their .safetensors). */
export const startersDir = join(root, 'public', STARTERS_DIR);

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
 * The largest model file read (--ckpt, --init, --adapter): what Node reads into one buffer. The largest
 * model the engine builds is well under it; past it, the file is not one of ours.
 */
export const MAX_MODEL_BYTES = 2 ** 31 - 1;

/**
 * What a path that is not a regular file is, in words; null for a regular file. A FIFO would block the
 * read until something wrote to it (and Ctrl-C with it), /dev/zero or /dev/urandom would never end, a
 * socket cannot be read as a file at all: each is refused by name rather than read.
 */
function notRegular(s: Stats): string | null {
  if (s.isFile()) return null;
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'a special file';
}

function refuseSize(path: string, size: number, max: number, what: string): void {
  if (size > max) throw new InputError(`${path} is ${(size / MiB).toFixed(1)} MiB: ${what} are limited to ${Math.round(max / MiB)} MiB`);
}

/**
 * Refuses a text or pairs file that is not a regular file (a directory, a FIFO, a device, a socket) or is
 * over MAX_UPLOAD_BYTES (the page's limit), from its stat: nothing is opened.
 */
export function checkInputFile(path: string, max = MAX_UPLOAD_BYTES, what = 'text and pairs files'): void {
  const s = statSync(path);
  const kind = notRegular(s);
  if (kind) throw new InputError(`${path} is ${kind}, not a regular file`);
  refuseSize(path, s.size, max, what);
}

/**
 * A file's bytes, read so that nothing can hang or run away: checked (checkInputFile) before it is opened;
 * opened without blocking (were it swapped for a FIFO since, the open returns at once) and checked again
 * through the open descriptor; then read up to `max` + 1 bytes, so a file that grows meanwhile is refused
 * at the cap, not read to the end.
 */
export function readCapped(path: string, max: number, what: string): Buffer {
  checkInputFile(path, max, what);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const s = fstatSync(fd);
    const kind = notRegular(s);
    if (kind) throw new InputError(`${path} is ${kind}, not a regular file`);
    refuseSize(path, s.size, max, what);
    const buf = Buffer.allocUnsafe(Math.min(s.size, max) + 1);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > max) throw new InputError(`${path} grew past ${Math.round(max / MiB)} MiB while it was read: ${what} are limited to ${Math.round(max / MiB)} MiB`);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Text of a file path or bundled dataset id, with the entry when it is a bundled dataset. */
export function readInput(arg: string, kind: DatasetKind): { text: string; name: string; entry?: DatasetEntry } {
  if (existsSync(arg)) return { text: normalizeText(decodeUtf8(readCapped(arg, MAX_UPLOAD_BYTES, 'text and pairs files'), arg)), name: arg };
  const manifest = loadManifest();
  const entry = manifest?.datasets.find((d) => d.id === arg);
  if (entry) {
    if (entry.kind !== kind) throw new InputError(`${arg} is a bundled ${entry.kind} dataset, but a ${kind} is needed here`);
    return { text: readFileSync(join(datasetsDir, entry.file), 'utf8'), name: entry.file, entry };
  }
  const ids = manifest?.datasets.filter((d) => d.kind === kind).map((d) => d.id) ?? [];
  throw new InputError(
    `no such file or bundled dataset: ${arg}` +
      (ids.length ? ` (bundled ${kind} datasets: ${ids.join(', ')})` : ' (bundled datasets are not built: run npm run datasets)'),
  );
}

/** A model or adapter file's bytes (--ckpt, --init, --adapter), read as input files are. */
export function readBytes(path: string): Uint8Array {
  if (!existsSync(path)) throw new InputError(`no such file: ${path}`);
  return new Uint8Array(readCapped(path, MAX_MODEL_BYTES, 'model files'));
}
