/**
 * Threads for the engine's WebAssembly kernels: helper workers that run the same kernel modules on the same
 * memory (TF.js's threaded build keeps its heap in a shared WebAssembly.Memory), so one kernel call can be
 * split into parts — rows of a matrix product, say — that run at once on several cores.
 *
 * Why not TF.js's own threads: they are Emscripten pthreads running TF.js's C++, with no way in for other
 * code. So the engine starts its own: the runtime hands it a way to start a worker (a browser Worker, a Node
 * worker_thread); the engine knows nothing of either.
 *
 * A kernel call is synchronous (TF.js calls kernels synchronously), so the caller blocks until every part is
 * done: it writes each helper its part (function and arguments) into a small shared control block, wakes it,
 * runs the first part itself and waits on a counter of parts still running. Helpers spin briefly before they
 * sleep, because the next kernel usually follows within microseconds. The caller blocks (Atomics.wait) where
 * that is allowed — a worker, where the app trains, and Node — and only spins on a page's main thread.
 */

/** A started helper, as the runtime's worker type offers it. */
export interface KernelThreadHandle {
  postMessage(message: unknown): void;
  terminate(): void;
}

/** Starts a helper from JavaScript source text (a Blob URL worker in a browser, `eval: true` in Node). */
export type SpawnKernelThread = (source: string) => KernelThreadHandle;

// Control block (Int32): parts still running, helpers ready, a failure flag, then one sequence number per helper.
const PENDING = 0;
const READY = 1;
const FAILED = 2;
const SEQ = 4;
/** Per helper in the argument block (Float64): function id, argument count, then the arguments. */
const ARGS_STRIDE = 24;
const MAX_ARGS = ARGS_STRIDE - 2;
/** Export ids: module index · EXPORTS_PER_MODULE + the export's index among its module's sorted function names. */
export const EXPORTS_PER_MODULE = 64;
/** Spins (Atomics.load) before a blocking wait: tens of microseconds, the gap between two kernels of a step. */
const SPIN = 20_000;
/** A part that takes longer than this means a helper died. */
const STALL_MS = 60_000;
const START_MS = 20_000;

/**
 * The helper's source: plain JavaScript (not a function's toString, which bundlers and loaders may rewrite
 * with references to their own helpers), the same in a browser worker and in a Node worker_thread.
 */
const HELPER_SOURCE = `'use strict';
const node = typeof self === 'undefined';
const port = node ? require('worker_threads').parentPort : self;
const once = (f) => (node ? port.once('message', f) : (self.onmessage = (e) => { self.onmessage = null; f(e.data); }));
once((init) => {
  const { memory, binaries, control, args: argBuffer, index } = init;
  const ctrl = new Int32Array(control);
  const args = new Float64Array(argBuffer);
  let fns;
  try {
    fns = binaries.map((bytes) => {
      const module = new WebAssembly.Module(bytes);
      const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
      const names = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name).sort();
      return names.map((n) => exports[n]);
    });
  } catch (e) {
    Atomics.store(ctrl, ${FAILED}, 1);
    Atomics.add(ctrl, ${READY}, 1);
    Atomics.notify(ctrl, ${READY});
    return;
  }
  Atomics.add(ctrl, ${READY}, 1);
  Atomics.notify(ctrl, ${READY});
  const seqAt = ${SEQ} + index;
  const base = index * ${ARGS_STRIDE};
  let seen = 0;
  for (;;) {
    let s;
    for (let spins = 0; (s = Atomics.load(ctrl, seqAt)) === seen; spins++) {
      if (spins > ${SPIN}) { Atomics.wait(ctrl, seqAt, seen); spins = 0; }
    }
    seen = s;
    try {
      const id = args[base];
      const fn = fns[Math.floor(id / ${EXPORTS_PER_MODULE})][id % ${EXPORTS_PER_MODULE}];
      const list = [];
      for (let i = 0; i < args[base + 1]; i++) list.push(args[base + 2 + i]);
      fn(...list);
    } catch (e) {
      Atomics.store(ctrl, ${FAILED}, 1);
    }
    if (Atomics.sub(ctrl, ${PENDING}, 1) === 1) Atomics.notify(ctrl, ${PENDING});
  }
});
`;

/** Sorted function export names of a module: the order export ids count in, on both sides. */
export function functionExports(module: WebAssembly.Module): string[] {
  return WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name).sort();
}

export class KernelThreads {
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  /** Whether this thread may block in Atomics.wait (not a page's main thread: there the caller only spins). */
  private canBlock = true;

  private constructor(private readonly helpers: KernelThreadHandle[], control: SharedArrayBuffer, args: SharedArrayBuffer) {
    this.ctrl = new Int32Array(control);
    this.args = new Float64Array(args);
  }

  /**
   * Start `count − 1` helpers (the caller is the first thread) on `memory`, each instantiating `binaries` (shared-memory
   * modules) in this order. Resolves once all are ready; rejects if any fails to start, after stopping the others.
   */
  static async start(memory: WebAssembly.Memory, binaries: Uint8Array[], count: number, spawn: SpawnKernelThread): Promise<KernelThreads> {
    if (typeof SharedArrayBuffer === 'undefined' || !(memory.buffer instanceof SharedArrayBuffer)) throw new Error('kernel threads need shared memory (the threaded WebAssembly build)');
    const n = count - 1;
    const control = new SharedArrayBuffer(4 * (SEQ + n));
    const args = new SharedArrayBuffer(8 * ARGS_STRIDE * n);
    const helpers: KernelThreadHandle[] = [];
    const pool = new KernelThreads(helpers, control, args);
    try {
      for (let index = 0; index < n; index++) {
        const h = spawn(HELPER_SOURCE);
        helpers.push(h);
        h.postMessage({ memory, binaries, control, args, index });
      }
      // Started asynchronously by the runtime: poll rather than block, so start-up never freezes the thread.
      const t0 = Date.now();
      while (Atomics.load(pool.ctrl, READY) < n) {
        if (Date.now() - t0 > START_MS) throw new Error(`kernel threads: ${Atomics.load(pool.ctrl, READY)} of ${n} started in ${START_MS / 1000} s`);
        await new Promise((r) => setTimeout(r, 5));
      }
      if (Atomics.load(pool.ctrl, FAILED)) throw new Error('kernel threads: a helper could not instantiate the kernels');
      return pool;
    } catch (e) {
      pool.stop();
      throw e;
    }
  }

  /** Threads a kernel can split over: the helpers and the caller. */
  get threads(): number {
    return this.helpers.length + 1;
  }

  /**
   * Run `parts` (argument lists of the export `id`) at once: part 0 through `here` on this thread, the others on
   * helpers, and return when all are done. At most `threads` parts.
   */
  run(id: number, parts: number[][], here: (args: number[]) => void): void {
    const helpers = parts.length - 1;
    if (helpers > this.helpers.length) throw new Error(`kernel threads: ${parts.length} parts for ${this.threads} threads`);
    const { ctrl, args } = this;
    Atomics.store(ctrl, FAILED, 0);
    Atomics.store(ctrl, PENDING, helpers);
    for (let h = 0; h < helpers; h++) {
      const list = parts[h + 1];
      if (list.length > MAX_ARGS) throw new Error(`kernel threads: ${list.length} arguments, at most ${MAX_ARGS}`);
      const base = h * ARGS_STRIDE;
      args[base] = id;
      args[base + 1] = list.length;
      args.set(list, base + 2);
      Atomics.add(ctrl, SEQ + h, 1);
      Atomics.notify(ctrl, SEQ + h);
    }
    try {
      here(parts[0]);
    } finally {
      this.join();
    }
    if (Atomics.load(ctrl, FAILED)) throw new Error('a kernel thread failed (its part trapped)');
  }

  private join(): void {
    const { ctrl } = this;
    let v: number;
    let t0 = 0;
    for (let spins = 0; (v = Atomics.load(ctrl, PENDING)) !== 0; spins++) {
      if (spins < SPIN) continue;
      t0 ||= Date.now();
      if (Date.now() - t0 > STALL_MS) throw new Error(`kernel threads: ${v} part(s) still running after ${STALL_MS / 1000} s`);
      if (!this.canBlock) continue;
      try {
        Atomics.wait(ctrl, PENDING, v, 100);
      } catch {
        this.canBlock = false; // "Atomics.wait cannot be called in this context"
      }
    }
  }

  stop(): void {
    for (const h of this.helpers) h.terminate();
    this.helpers.length = 0;
  }
}
