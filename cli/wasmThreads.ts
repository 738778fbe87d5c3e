/**
 * TF.js's threaded WebAssembly build in Node, which TF.js itself turns off there (its
 * WASM_HAS_MULTITHREAD_SUPPORT flag is false under Node, tfjs issue #3830) although the build runs: the
 * Emscripten output has a Node path that starts its threads as worker_threads. What TF.js's own start-up
 * does that Node cannot follow is hand the threads their scripts as Blob URLs; here they are files instead.
 *
 *   threadedWasmFactory(n)  a backend factory for TF.js's 'wasm' name: the threaded build with n threads for
 *                           XNNPACK, its heap a shared WebAssembly.Memory (so the engine's kernel threads can
 *                           work in it too)
 *   spawnNodeKernelThread   how the engine starts a kernel thread here (ops/kernelThreads.ts)
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { KernelThreadHandle } from '../src/engine/ops/kernelThreads';

const require = createRequire(import.meta.url);

/** Emscripten's module factory for the threaded SIMD build, with what TF.js's init passes it. */
type ThreadedFactory = (config: { locateFile(path: string): string; mainScriptUrlOrBlob: string }) => Promise<EmscriptenModule>;
interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...args: number[]) => number;
  tfjs?: Record<string, unknown>;
}

let scripts: { dir: string; worker: string; main: string } | undefined;

/** The scripts' folders: `sgp-wasm-<pid>-<random>` in the system's temporary folder, named by the process that wrote them. */
const SCRIPTS_PREFIX = 'sgp-wasm-';
const SCRIPTS_NAME = new RegExp(`^${SCRIPTS_PREFIX}(\\d+)-`);

/** Whether a process with this id is running (signal 0 checks without sending anything; EPERM: running, not ours). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the scripts' folders in `tmp` whose process is gone. A process killed by a signal (a test runner's
 * timeout, `kill`) never runs its 'exit' handler, so its folder stays; the next process that starts threads
 * removes it. Folders of the older naming (no process id) are left alone: their writer cannot be told apart; so is
 * a folder this process may not remove (another user's). Returns the names removed.
 */
export function sweepThreadScripts(
  tmp: string,
  alive: (pid: number) => boolean = pidAlive,
  remove: (path: string) => void = (path) => rmSync(path, { recursive: true, force: true }),
): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(tmp);
  } catch {
    return removed;
  }
  for (const name of names) {
    const pid = Number(SCRIPTS_NAME.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    try {
      remove(join(tmp, name));
      removed.push(name);
    } catch {
      // Another user's folder in a shared temporary folder (sticky /tmp: not ours to remove), or one going away
      // under us: left as it is; the threads start all the same.
    }
  }
  return removed;
}

/** The two scripts every thread loads, written once per process to a temporary folder (removed at exit). */
function threadScripts(factory: ThreadedFactory): { worker: string; main: string } {
  if (scripts) return scripts;
  sweepThreadScripts(os.tmpdir());
  const dir = mkdtempSync(join(os.tmpdir(), `${SCRIPTS_PREFIX}${process.pid}-`));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as { wasmWorkerContents: string };
  const worker = join(dir, 'worker.js');
  const main = join(dir, 'main.js');
  // As TF.js's init does for its Blob: the exported text holds "\n" escapes that must stay escapes in the file.
  writeFileSync(worker, wasmWorkerContents.replace(/\n/g, '\\n'));
  // Each thread evaluates the factory's text to define the module it then instantiates (TF.js's init, as a file).
  writeFileSync(main, `var WasmBackendModuleThreadedSimd = ${factory.toString()}`);
  scripts = { dir, worker, main };
  return scripts;
}

/** A factory for the 'wasm' backend: TF.js's threaded SIMD build with `threads` threads for its own (XNNPACK) kernels. */
export function threadedWasmFactory(threads: number): () => Promise<BackendWasm> {
  return async () => {
    const factory = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js') as ThreadedFactory;
    const wasmPath = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm');
    const { worker, main } = threadScripts(factory);
    // TF.js caps its thread pool at half the logical cores (it assumes two hyper-threads per core): one thread on
    // a 2-core machine whatever is asked. The build reads the count from os.cpus() as it starts; for that moment
    // the count it sees is doubled, so the cap is the cores themselves (the page does the same with
    // navigator.hardwareConcurrency, src/worker/backend.ts).
    const cpus = os.cpus;
    const doubled = () => [...cpus(), ...cpus()];
    os.cpus = doubled;
    try {
      const module = await factory({
        locateFile: (path) => (path.endsWith('.worker.js') ? worker : path.endsWith('.wasm') ? wasmPath : path),
        mainScriptUrlOrBlob: main,
      });
      // What TF.js's init adds to the module (tfjs-backend-wasm's backend_wasm.ts, init()).
      module.tfjs = {
        init: module.cwrap('init', null, []),
        initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
        getThreadsCount: module.cwrap('get_threads_count', 'number', []),
        registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
        disposeData: module.cwrap('dispose_data', null, ['number']),
        dispose: module.cwrap('dispose', null, []),
      };
      setThreadsCount(threads);
      return new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
    } finally {
      os.cpus = cpus;
    }
  };
}

/** A kernel thread as a worker_thread; unreferenced, so that it never keeps the process alive. */
export function spawnNodeKernelThread(source: string): KernelThreadHandle {
  const worker = new Worker(source, { eval: true });
  worker.unref();
  return {
    postMessage: (message) => worker.postMessage(message),
    terminate: () => void worker.terminate(),
  };
}
