/**
 * CLI output files: checked before any work, then written atomically (a temporary file beside the target,
 * renamed into place), so a failed write (disk full, a file-size limit) never leaves a truncated file or
 * clobbers the previous one, which may be the run's own --init.
 */
import { closeSync, fsyncSync, lstatSync, openSync, readlinkSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Sink } from './sink';

export class OutputError extends Error {
  override name = 'OutputError';
}

/** The temporary file a write to `path` goes through: hidden, in the same directory (same file system). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
}

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EFBIG: 'the file is larger than this process may write (file-size limit)',
  EDQUOT: 'the disk quota is exceeded',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ENOENT: 'the directory does not exist',
};

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code && REASONS[code] ? `${REASONS[code]} (${code})` : (e as Error).message;
}

function kind(path: string): 'file' | 'dir' | 'other' | 'none' {
  try {
    const s = statSync(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw new OutputError(`cannot write ${path}: ${reason(e)}`);
  }
}

/**
 * Why a file in `dir` could not be written: as reason(), except that ENOENT with `dir` there does not mean
 * the directory is missing but that it takes no new files (/proc, /sys).
 */
function reasonIn(e: unknown, dir: string): string {
  return (e as NodeJS.ErrnoException).code === 'ENOENT' && kind(dir) === 'dir' ? takesNoFiles(dir) : reason(e);
}

const takesNoFiles = (dir: string) => `the directory ${dir} is not writable: it takes no new files (ENOENT)`;

/**
 * Throws an OutputError (one line) unless `path` can be written: its directory exists and is a directory,
 * the path itself is not a directory, and a file can be created beside it. Nothing is left behind.
 */
export function checkWritable(path: string): void {
  const dir = dirname(path);
  const d = kind(dir);
  if (d === 'none') throw new OutputError(`cannot write ${path}: the directory ${dir} does not exist`);
  if (d !== 'dir') throw new OutputError(`cannot write ${path}: ${dir} is not a directory`);
  if (kind(path) === 'dir') throw new OutputError(`cannot write ${path}: it is a directory`);
  const tmp = tempPathFor(path);
  try {
    closeSync(openSync(tmp, 'w'));
  } catch (e) {
    // The directory is there (checked above): ENOENT means it takes no new files.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new OutputError(`cannot write ${path}: ${takesNoFiles(dir)}`);
    throw new OutputError(`cannot write ${path}: cannot create a file in ${dir}: ${reason(e)}`);
  }
  unlinkSync(tmp);
}

/** Symbolic links followed before a dangling chain is taken for a loop (Linux's own limit). */
const MAX_LINKS = 40;

/**
 * The file a write to `path` lands in: `path` itself, or, when it is a symbolic link, the file it points to.
 * The atomic write renames a new file into place, which would replace a link by a plain file and leave its
 * target stale; writing beside the target instead keeps the link (a `latest.safetensors` pointing at a run's
 * file, a model kept on another disk). A dangling link's target is created, as a shell's `>` would.
 */
export function linkTarget(path: string, depth = 0): string {
  let isLink;
  try {
    isLink = lstatSync(path).isSymbolicLink();
  } catch {
    return path; // nothing there (or no way there): checkWritable says which
  }
  if (!isLink) return path;
  try {
    return realpathSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' || depth >= MAX_LINKS)
      throw new OutputError(`cannot write ${path}: it is a symbolic link that cannot be followed (${code ?? (e as Error).message})`);
    // Dangling: follow it one link at a time to the name that does not exist yet.
    return linkTarget(resolve(dirname(path), readlinkSync(path)), depth + 1);
  }
}

/**
 * The --out path checked (checkWritable) and resolved through a symbolic link (linkTarget), saying so in one
 * line: the file every later message names and the write goes to.
 */
export function writableOutput(path: string, o: Sink): string {
  const target = linkTarget(path);
  if (target !== path) o.out(`--out ${path} is a symbolic link: writing to its target ${target}`);
  checkWritable(target);
  return target;
}

/**
 * Write `bytes` to `path` all or nothing: to the temporary file (flushed to disk), then renamed over `path`.
 * On any failure the temporary file is removed, `path` is as it was, and an OutputError says so.
 */
export function writeAtomic(path: string, bytes: Uint8Array): void {
  const tmp = tempPathFor(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing: the write's error is the one to report
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already gone
    }
    throw new OutputError(`could not write ${path}: ${reasonIn(e, dirname(path))}; nothing was overwritten`);
  }
}
