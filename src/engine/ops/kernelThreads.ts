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
 * done. It writes the parts (function and arguments) into a small shared block and wakes the helpers; then every
 * thread, the caller included, claims parts one at a time until none is left, and the caller waits for those
 * still running. Claiming rather than assigning: where a helper is slow to wake (the machine busy with other
 * work, a laptop's other tabs), the caller simply runs its parts too, instead of waiting for it. Helpers spin
 * briefly before they sleep, because the next kernel usually follows within microseconds. The caller blocks
 * (Atomics.wait) where that is allowed — a worker, where the app trains, and Node — and only spins on a page's
 * main thread.
 */

/** A started helper, as the runtime's worker type offers it. */
export interface KernelThreadHandle {
  postMessage(message: unknown): void;
  terminate(): void;
}

/** Starts a helper from JavaScript source text (a Blob URL worker in a browser, `eval: true` in Node). */
export type SpawnKernelThread = (source: string) => KernelThreadHandle;

// Control block (Int32): parts done, helpers ready, a failure flag, the claim word, the number of parts.
const DONE = 0;
const READY = 1;
const FAILED = 2;
/** The job's sequence number (high 16 bits) and the next unclaimed part (low 16): a claim is one compare-exchange. */
const NEXT = 3;
const TOTAL = 4;
/** The claim word's part index while a job is being written: past any count, so a claim finds nothing. */
const CLOSED = 0xffff;
const CONTROL_INTS = 5;
/** Per part in the argument block (Float64): function id, argument count, then the arguments. */
const ARGS_STRIDE = 24;
const MAX_ARGS = ARGS_STRIDE - 2;
/** Parts a call may have, per thread. */
export const PARTS_PER_THREAD = 4;
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
 * claim(): the next part of the current job, or −1 once none is left.
 */
const HELPER_SOURCE = `'use strict';
const node = typeof self === 'undefined';
const port = node ? require('worker_threads').parentPort : self;
const once = (f) => (node ? port.once('message', f) : (self.onmessage = (e) => { self.onmessage = null; f(e.data); }));
once((init) => {
  const { memory, binaries, control, args: argBuffer } = init;
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
  ${claimSource()}
  for (;;) {
    for (let i; (i = claim()) >= 0; ) {
      const total = Atomics.load(ctrl, ${TOTAL});
      try {
        const base = i * ${ARGS_STRIDE};
        const id = args[base];
        const fn = fns[Math.floor(id / ${EXPORTS_PER_MODULE})][id % ${EXPORTS_PER_MODULE}];
        const list = [];
        for (let a = 0; a < args[base + 1]; a++) list.push(args[base + 2 + a]);
        fn(...list);
      } catch (e) {
        Atomics.store(ctrl, ${FAILED}, 1);
      }
      if (Atomics.add(ctrl, ${DONE}, 1) + 1 === total) Atomics.notify(ctrl, ${DONE});
    }
    // Nothing left to claim: wait for the next job (the claim word changes).
    const v = Atomics.load(ctrl, ${NEXT});
    for (let spins = 0; Atomics.load(ctrl, ${NEXT}) === v; spins++) {
      if (spins > ${SPIN}) { Atomics.wait(ctrl, ${NEXT}, v); spins = 0; }
    }
  }
});
`;

/**
 * The helpers' claim (KernelThreads.claim is the caller's, the same steps): the claim word holds the job's
 * sequence number and the next part; a part is taken by advancing it with a compare-exchange, which fails if
 * the job changed in between (so a late helper never takes a part of a job by a count from the one before).
 */
function claimSource(): string {
  return `const claim = () => {
    for (;;) {
      const v = Atomics.load(ctrl, ${NEXT});
      const i = v & 0xffff;
      if (i >= Atomics.load(ctrl, ${TOTAL})) return -1;
      if (Atomics.compareExchange(ctrl, ${NEXT}, v, v + 1) === v) return i;
    }
  };`;
}

/** Sorted function export names of a module: the order export ids count in, on both sides. */
export function functionExports(module: WebAssembly.Module): string[] {
  return WebAssembly.Module.exports(module)
    .filter((e) => e.kind === 'function')
    .map((e) => e.name)
    .sort();
}

export class KernelThreads {
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private seq = 0;
  /** Whether this thread may block in Atomics.wait (not a page's main thread: there the caller only spins). */
  private canBlock = true;

  private constructor(
    private readonly helpers: KernelThreadHandle[],
    control: SharedArrayBuffer,
    args: SharedArrayBuffer,
  ) {
    this.ctrl = new Int32Array(control);
    this.args = new Float64Array(args);
  }

  /** The next part of the current job, or −1 once none is left (as the helpers' claim, claimSource). */
  private claim(): number {
    const { ctrl } = this;
    for (;;) {
      const v = Atomics.load(ctrl, NEXT);
      const i = v & 0xffff;
      if (i >= Atomics.load(ctrl, TOTAL)) return -1;
      if (Atomics.compareExchange(ctrl, NEXT, v, v + 1) === v) return i;
    }
  }

  /**
   * Start `count − 1` helpers (the caller is the first thread) on `memory`, each instantiating `binaries` (shared-memory
   * modules) in this order. Resolves once all are ready; rejects if any fails to start, after stopping the others.
   */
  static async start(memory: WebAssembly.Memory, binaries: Uint8Array[], count: number, spawn: SpawnKernelThread): Promise<KernelThreads> {
    if (typeof SharedArrayBuffer === 'undefined' || !(memory.buffer instanceof SharedArrayBuffer))
      throw new Error('kernel threads need shared memory (the threaded WebAssembly build)');
    const n = count - 1;
    const control = new SharedArrayBuffer(4 * CONTROL_INTS);
    const args = new SharedArrayBuffer(8 * ARGS_STRIDE * PARTS_PER_THREAD * count);
    const helpers: KernelThreadHandle[] = [];
    const pool = new KernelThreads(helpers, control, args);
    try {
      for (let index = 0; index < n; index++) {
        const h = spawn(HELPER_SOURCE);
        helpers.push(h);
        h.postMessage({ memory, binaries, control, args });
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
   * Run `parts` (argument lists of the export `id`) at once, on whichever threads claim them (this one's
   * through `here`), and return when all are done. At most PARTS_PER_THREAD · threads parts.
   */
  run(id: number, parts: number[][], here: (args: number[]) => void): void {
    const { ctrl, args } = this;
    const n = parts.length;
    if (n > PARTS_PER_THREAD * this.threads) throw new Error(`kernel threads: ${n} parts, at most ${PARTS_PER_THREAD * this.threads}`);
    // A new job: first close the claim word (this job's sequence number, nothing to claim). A helper still inside
    // its last claim of the previous job read the claim word before this and may read the new count after it: its
    // compare-exchange now fails, instead of taking a part of this job (which would then run twice, and count
    // one part too many: the caller would wait for a count it never sees).
    this.seq = (this.seq + 1) & 0x7fff;
    Atomics.store(ctrl, NEXT, (this.seq << 16) | CLOSED);
    parts.forEach((list, i) => {
      if (list.length > MAX_ARGS) throw new Error(`kernel threads: ${list.length} arguments, at most ${MAX_ARGS}`);
      const base = i * ARGS_STRIDE;
      args[base] = id;
      args[base + 1] = list.length;
      args.set(list, base + 2);
    });
    Atomics.store(ctrl, FAILED, 0);
    Atomics.store(ctrl, DONE, 0);
    Atomics.store(ctrl, TOTAL, n);
    // Open it, nothing claimed (written last: a claim then sees this job's parts and count).
    Atomics.store(ctrl, NEXT, this.seq << 16);
    Atomics.notify(ctrl, NEXT);
    try {
      for (let i; (i = this.claim()) >= 0;) {
        try {
          here(parts[i]);
        } finally {
          Atomics.add(ctrl, DONE, 1);
        }
      }
    } finally {
      this.join(n);
    }
    if (Atomics.load(ctrl, FAILED)) throw new Error('a kernel thread failed (its part trapped)');
  }

  /** Wait until all n parts are done. */
  private join(n: number): void {
    const { ctrl } = this;
    let v: number;
    let t0 = 0;
    for (let spins = 0; (v = Atomics.load(ctrl, DONE)) !== n; spins++) {
      if (spins < SPIN) continue;
      t0 ||= Date.now();
      if (Date.now() - t0 > STALL_MS) throw new Error(`kernel threads: ${n - v} part(s) still running after ${STALL_MS / 1000} s`);
      if (!this.canBlock) continue;
      try {
        Atomics.wait(ctrl, DONE, v, 100);
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
