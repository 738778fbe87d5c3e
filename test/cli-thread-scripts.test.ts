/**
 * The threaded WebAssembly build's scripts in Node (cli/wasmThreads.ts) go to a folder in the system's temporary
 * folder, removed when the process exits. A process killed by a signal never gets there: the next one that starts
 * threads removes the folders of processes that are gone, and only those.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pidAlive, sweepThreadScripts } from '../cli/wasmThreads';
import { tempDir } from './tempDir';

const root = resolve(__dirname, '..');

describe("the threaded build's script folders", () => {
  it('removes the folders of processes that are gone, and keeps live ones, its own and foreign names', () => {
    const tmp = tempDir('sgp-sweep-');
    const names = ['sgp-wasm-101-aaaaaa', 'sgp-wasm-202-bbbbbb', `sgp-wasm-${process.pid}-cccccc`, 'sgp-wasm-Xy12ab', 'other-303-dddddd'];
    for (const n of names) {
      mkdirSync(join(tmp, n));
      writeFileSync(join(tmp, n, 'worker.js'), '//');
    }
    const removed = sweepThreadScripts(tmp, (pid) => pid === 202);
    expect(removed).toEqual(['sgp-wasm-101-aaaaaa']);
    expect(readdirSync(tmp).sort()).toEqual(names.filter((n) => n !== 'sgp-wasm-101-aaaaaa').sort());
  });

  it("leaves a folder it may not remove (another user's in a shared /tmp) and goes on with the rest", () => {
    const tmp = tempDir('sgp-sweep-');
    for (const n of ['sgp-wasm-101-aaaaaa', 'sgp-wasm-102-bbbbbb']) mkdirSync(join(tmp, n));
    const denied = (path: string) => {
      if (path.endsWith('sgp-wasm-101-aaaaaa')) throw Object.assign(new Error(`EPERM: operation not permitted, rmdir '${path}'`), { code: 'EPERM' });
      rmSync(path, { recursive: true });
    };
    expect(sweepThreadScripts(tmp, () => false, denied)).toEqual(['sgp-wasm-102-bbbbbb']);
    expect(readdirSync(tmp)).toEqual(['sgp-wasm-101-aaaaaa']);
  });

  it('tells a running process from one that is gone', async () => {
    expect(pidAlive(process.pid)).toBe(true);
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((r) => child.once('exit', r));
    expect(pidAlive(pid)).toBe(false);
  });

  it('a process killed mid-run leaves its folder, and the next start of the threads removes it', async () => {
    const tmp = tempDir('sgp-killed-');
    // A CLI-like process that starts the threaded backend, says so, then waits to be killed.
    // (A file, not -e: the build's own threads start with the parent's flags.)
    const script = join(tempDir('sgp-child-'), 'child.mts');
    writeFileSync(
      script,
      `import { useNodeBackend } from ${JSON.stringify(join(root, 'cli/backend.ts'))};
      await useNodeBackend('wasm', { threads: 2 });
      console.log('ready');
      setInterval(() => {}, 1000);`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: root,
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    await new Promise<void>((ok, fail) => {
      child.stdout.on('data', (d) => String(d).includes('ready') && ok());
      child.once('exit', (code) => fail(new Error(`the child exited (${code}) before it was ready: ${err}`)));
    });
    const folder = `sgp-wasm-${child.pid}-`;
    expect(readdirSync(tmp).filter((n) => n.startsWith(folder))).toHaveLength(1);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const left = readdirSync(tmp).filter((n) => n.startsWith(folder));
    expect(left).toHaveLength(1); // no exit handler ran
    expect(sweepThreadScripts(tmp)).toEqual(left);
    expect(existsSync(join(tmp, left[0]))).toBe(false);
  }, 60_000);
});
