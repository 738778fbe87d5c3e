/**
 * CLI output files: checked before any work, then written atomically (a temporary file beside the target,
 * renamed into place), so a failed write (disk full, a file-size limit) never leaves a truncated file or
 * clobbers the previous one, which may be the run's own --init.
 */
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

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
    throw new OutputError(`cannot write ${path}: cannot create a file in ${dir}: ${reason(e)}`);
  }
  unlinkSync(tmp);
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
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
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
    throw new OutputError(`could not write ${path}: ${reason(e)}; nothing was overwritten`);
  }
}
