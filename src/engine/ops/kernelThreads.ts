/**
 * Threads for the engine's WebAssembly kernels: helper workers that run the same kernel modules on the same
 * memory (TF.js's threaded build keeps its heap in a shared WebAssembly.Memory), so one kernel call can be
 * split into parts — rows of a matrix product, say — that run at once on several cores.
 *
 * Why not TF.js's own threads: they are Emscripten pthreads running TF.js's C++, with no way in for other
 * code. So the engine starts its own: the runtime hands it a way to start a worker (a browser Worker, a Node
 * worker_thread); the engine knows nothing of either.
 *
 * A queue, not a call and wait: a kernel writes its parts (function and arguments) into the next slot of a ring of
 * jobs in shared memory and returns at once (enqueue), so the thread that runs TF.js goes on with its bookkeeping —
 * the tape, the next kernel's set-up, ~30 µs a kernel — while the helpers compute. That bookkeeping is what
 * stayed on one core when each kernel waited for its parts: about a sixth of a lesson's fine-tuning step, which
 * capped two threads near 1.5× one. The helpers run the jobs in the order queued, one at a time (a job may read
 * what the one before wrote); every thread claims parts one at a time until none is left. Claiming rather than
 * assigning: where a helper is slow to wake (the machine busy with other work, a laptop's other tabs), the
 * caller runs the parts itself when it drains the queue.
 *
 * What keeps the memory right while jobs wait (ops/wasmKernels.ts installs it): anything that reads the heap
 * outside the queue — TF.js's own kernels, a read-back, a JavaScript path of a fused kernel — first drains it
 * (drain: this thread runs parts too until every job is done). Frees wait for the jobs queued before them
 * (free): the allocator keeps its lists in free memory, so a late write into a freed tensor would corrupt them,
 * and a new allocation therefore never holds memory a waiting job uses — which is why writing a new tensor's
 * values needs no drain. `run` is enqueue and drain: a call that waits, as every kernel did before.
 *
 * Helpers spin briefly before they sleep, because the next job usually follows within microseconds. The
 * caller blocks (Atomics.wait) where that is allowed — a worker, where the app trains, and Node — and only spins
 * on a page's main thread.
 */

/** A started helper, as the runtime's worker type offers it. */
export interface KernelThreadHandle {
  postMessage(message: unknown): void;
  terminate(): void;
}

/** Starts a helper from JavaScript source text (a Blob URL worker in a browser, `eval: true` in Node). */
export type SpawnKernelThread = (source: string) => KernelThreadHandle;

// Control block (Int32): the queue's head (the first job not yet done) and tail (jobs written), a failure flag,
// helpers ready; then per slot of the job ring its claim word, parts done and number of parts.
const HEAD = 0;
const TAIL = 1;
const FAILED = 2;
const READY = 3;
const SLOTS_AT = 4;
const SLOT_INTS = 3;
/** In a slot: the job's sequence number (high 16 bits) and its next unclaimed part (low 16): a claim is one compare-exchange. */
const CLAIM = 0;
const DONE = 1;
const TOTAL = 2;
/**
 * Jobs the ring holds (a power of two): the calls a thread may queue ahead of the helpers. Four keep them busy
 * (a job computes for 0.1–2 ms, queuing the next takes ~30 µs) and hold the heap where it was without a queue:
 * memory freed while jobs wait is reused only after them, and 8, 16 or 64 slots grew the lesson's heap from 69
 * to 83–100 MiB in fine-tuning and from 172 to 207–298 MiB in its quiz, for no speed measured.
 */
const QUEUE_SLOTS = 4;
/** The claim word's part index while a slot is being written: past any count, so a claim finds nothing. */
const CLOSED = 0xffff;
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
 * Jobs run in the order they were queued, one at a time: a part of the next job only once every part of the one
 * before is done (a job reads what the jobs before it wrote).
 */
const HELPER_SOURCE = `'use strict';
const node = typeof self === 'undefined';
const port = node ? require('worker_threads').parentPort : self;
const once = (f) => (node ? port.once('message', f) : (self.onmessage = (e) => { self.onmessage = null; f(e.data); }));
once((init) => {
  const { memory, binaries, control, args: argBuffer, parts: maxParts } = init;
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
  const run = (slot, i) => {
    try {
      const base = (slot * maxParts + i) * ${ARGS_STRIDE};
      const id = args[base];
      const fn = fns[Math.floor(id / ${EXPORTS_PER_MODULE})][id % ${EXPORTS_PER_MODULE}];
      const list = [];
      for (let a = 0; a < args[base + 1]; a++) list.push(args[base + 2 + a]);
      fn(...list);
    } catch (e) {
      Atomics.store(ctrl, ${FAILED}, 1);
    }
  };
  ${stepSource()}
  for (;;) {
    const r = step(run);
    if (r === 0) continue;
    // Nothing to claim: wait for the head to move (r = 1: the head job's last parts run elsewhere) or for a job (r = 2).
    // seen: the head step read (with the queue empty, also the tail).
    const at = r === 1 ? ${HEAD} : ${TAIL};
    const v = seen;
    for (let spins = 0; Atomics.load(ctrl, at) === v; spins++) {
      if (spins > ${SPIN}) { Atomics.wait(ctrl, at, v); spins = 0; }
    }
  }
});
`;

/**
 * One step of a thread's work on the queue (KernelThreads.step is the caller's, the same steps): claim a part of
 * the head job and run it; the thread that finishes a job's last part moves the head on. Returns 0 after running
 * a part (or when the queue changed under it), 1 when the head job's parts are all taken (still running
 * elsewhere), 2 when the queue is empty. The claim word holds the job's sequence number, so a thread that read
 * the head before the slot was reused fails its compare-exchange instead of taking a part of another job.
 */
function stepSource(): string {
  return `let seen = 0;
  const step = (run) => {
    const h = (seen = Atomics.load(ctrl, ${HEAD}));
    if (h === Atomics.load(ctrl, ${TAIL})) return 2;
    const slot = h & ${QUEUE_SLOTS - 1};
    const c = ${SLOTS_AT} + slot * ${SLOT_INTS};
    const v = Atomics.load(ctrl, c + ${CLAIM});
    if (v >>> 16 !== (h & 0x7fff)) return 0;
    const total = Atomics.load(ctrl, c + ${TOTAL});
    const i = v & 0xffff;
    if (i >= total) return 1;
    if (Atomics.compareExchange(ctrl, c + ${CLAIM}, v, v + 1) !== v) return 0;
    run(slot, i);
    if (Atomics.add(ctrl, c + ${DONE}, 1) + 1 === total) {
      Atomics.store(ctrl, ${HEAD}, (h + 1) | 0);
      Atomics.notify(ctrl, ${HEAD});
    }
    return 0;
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
  /** Jobs queued (the tail this thread writes). */
  private tail = 0;
  /** Per slot, the queued call's parts and how this thread runs one. */
  private readonly local: Array<{ parts: number[][]; here: (args: number[]) => void } | null> = new Array(QUEUE_SLOTS).fill(null);
  private readonly runHere = (slot: number, i: number) => {
    const job = this.local[slot]!;
    try {
      job.here(job.parts[i]);
    } catch (e) {
      this.trapped ??= e;
      Atomics.store(this.ctrl, FAILED, 1);
    }
  };
  private trapped: unknown = null;
  /** Frees put off until the jobs queued before them are done: (address, the tail when freed) pairs, in order. */
  private deferred: number[] = [];
  private release: ((address: number) => void) | null = null;
  /** Whether this thread may block in Atomics.wait (not a page's main thread: there the caller only spins). */
  private canBlock = true;

  private constructor(
    private readonly helpers: KernelThreadHandle[],
    control: SharedArrayBuffer,
    args: SharedArrayBuffer,
    private readonly maxParts: number,
  ) {
    this.ctrl = new Int32Array(control);
    this.args = new Float64Array(args);
  }

  /**
   * Start `count − 1` helpers (the caller is the first thread) on `memory`, each instantiating `binaries` (shared-memory
   * modules) in this order. Resolves once all are ready; rejects if any fails to start, after stopping the others.
   */
  static async start(memory: WebAssembly.Memory, binaries: Uint8Array[], count: number, spawn: SpawnKernelThread): Promise<KernelThreads> {
    if (typeof SharedArrayBuffer === 'undefined' || !(memory.buffer instanceof SharedArrayBuffer))
      throw new Error('kernel threads need shared memory (the threaded WebAssembly build)');
    const n = count - 1;
    const maxParts = PARTS_PER_THREAD * count;
    const control = new SharedArrayBuffer(4 * (SLOTS_AT + SLOT_INTS * QUEUE_SLOTS));
    const args = new SharedArrayBuffer(8 * ARGS_STRIDE * maxParts * QUEUE_SLOTS);
    const helpers: KernelThreadHandle[] = [];
    const pool = new KernelThreads(helpers, control, args, maxParts);
    try {
      for (let index = 0; index < n; index++) {
        const h = spawn(HELPER_SOURCE);
        helpers.push(h);
        h.postMessage({ memory, binaries, control, args, parts: maxParts });
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

  /** Whether jobs are queued that have not finished. */
  get busy(): boolean {
    return Atomics.load(this.ctrl, HEAD) !== this.tail;
  }

  /**
   * Run `parts` (argument lists of the export `id`) at once, on whichever threads claim them (this one's
   * through `here`), and return when all are done (and every job queued before them). At most
   * PARTS_PER_THREAD · threads parts.
   */
  run(id: number, parts: number[][], here: (args: number[]) => void): void {
    this.enqueue(id, parts, here);
    this.drain();
  }

  /**
   * Queue `parts` (as run) and return at once: the helpers run them after every job queued before, while this
   * thread goes on. Whatever reads or writes memory outside the queue must drain() first.
   */
  enqueue(id: number, parts: number[][], here: (args: number[]) => void): void {
    const { ctrl, args, maxParts } = this;
    const n = parts.length;
    this.releaseDone();
    if (n > maxParts) throw new Error(`kernel threads: ${n} parts, at most ${maxParts}`);
    // The ring is full: help until a slot frees.
    while (((this.tail - Atomics.load(ctrl, HEAD)) | 0) >= QUEUE_SLOTS) this.work();
    const j = this.tail;
    const slot = j & (QUEUE_SLOTS - 1);
    const c = SLOTS_AT + slot * SLOT_INTS;
    // First close the slot's claim word (this job's sequence number, nothing to claim): a thread that read the
    // previous job's claim word in this slot now fails its compare-exchange instead of taking a part of this one.
    Atomics.store(ctrl, c + CLAIM, ((j & 0x7fff) << 16) | CLOSED);
    parts.forEach((list, i) => {
      if (list.length > MAX_ARGS) throw new Error(`kernel threads: ${list.length} arguments, at most ${MAX_ARGS}`);
      const base = (slot * maxParts + i) * ARGS_STRIDE;
      args[base] = id;
      args[base + 1] = list.length;
      args.set(list, base + 2);
    });
    this.local[slot] = { parts, here };
    Atomics.store(ctrl, c + DONE, 0);
    Atomics.store(ctrl, c + TOTAL, n);
    // Open it, nothing claimed, then publish it (written last: a claim then sees this job's parts and count).
    Atomics.store(ctrl, c + CLAIM, (j & 0x7fff) << 16);
    this.tail = (j + 1) | 0;
    Atomics.store(ctrl, TAIL, this.tail);
    Atomics.notify(ctrl, TAIL);
  }

  /**
   * Free heap memory through `release` once no queued job can still use it. A job queued before the free may
   * read or write that memory, and the allocator keeps its lists in free memory: freeing at once would let a
   * late write corrupt them. So a free waits until the jobs queued before it are done.
   */
  free(address: number, release: (address: number) => void): void {
    this.release = release;
    if (Atomics.load(this.ctrl, HEAD) === this.tail && !this.deferred.length) release(address);
    else this.deferred.push(address, this.tail);
  }

  /** Release the deferred frees whose jobs are done (also before each allocation, so freed memory is reused). */
  releaseDone(): void {
    const { deferred } = this;
    if (!deferred.length) return;
    const head = Atomics.load(this.ctrl, HEAD);
    let k = 0;
    while (k < deferred.length && ((head - deferred[k + 1]) | 0) >= 0) {
      this.release!(deferred[k]);
      k += 2;
    }
    if (k) deferred.splice(0, k);
  }

  /** Wait until every queued job is done, running parts here meanwhile; throws if a part trapped. */
  drain(): void {
    if (Atomics.load(this.ctrl, HEAD) !== this.tail) {
      let t0 = 0;
      while (Atomics.load(this.ctrl, HEAD) !== this.tail) {
        if (this.work() === 0) {
          t0 = 0;
          continue;
        }
        t0 ||= Date.now();
        if (Date.now() - t0 > STALL_MS) throw new Error(`kernel threads: a part still running after ${STALL_MS / 1000} s`);
      }
    }
    this.releaseDone();
    if (Atomics.load(this.ctrl, FAILED)) {
      const e = this.trapped;
      this.trapped = null;
      Atomics.store(this.ctrl, FAILED, 0);
      throw e ?? new Error('a kernel thread failed (its part trapped)');
    }
  }

  /** One step of the queue's work (the helpers' step, stepSource: the same steps), run here. */
  private step(): number {
    const { ctrl } = this;
    const h = Atomics.load(ctrl, HEAD);
    if (h === Atomics.load(ctrl, TAIL)) return 2;
    const slot = h & (QUEUE_SLOTS - 1);
    const c = SLOTS_AT + slot * SLOT_INTS;
    const v = Atomics.load(ctrl, c + CLAIM);
    if (v >>> 16 !== (h & 0x7fff)) return 0;
    const total = Atomics.load(ctrl, c + TOTAL);
    const i = v & 0xffff;
    if (i >= total) return 1;
    if (Atomics.compareExchange(ctrl, c + CLAIM, v, v + 1) !== v) return 0;
    this.runHere(slot, i);
    if (Atomics.add(ctrl, c + DONE, 1) + 1 === total) {
      Atomics.store(ctrl, HEAD, (h + 1) | 0);
      Atomics.notify(ctrl, HEAD);
    }
    return 0;
  }

  /** One step of this thread's share, then a short wait if there was nothing to claim. */
  private work(): number {
    const r = this.step();
    if (r === 1) {
      // The head job's last parts run elsewhere: spin a while, then block briefly where that is allowed.
      const h = Atomics.load(this.ctrl, HEAD);
      for (let spins = 0; spins < SPIN && Atomics.load(this.ctrl, HEAD) === h; spins++);
      if (this.canBlock && Atomics.load(this.ctrl, HEAD) === h) {
        try {
          Atomics.wait(this.ctrl, HEAD, h, 100);
        } catch {
          this.canBlock = false; // "Atomics.wait cannot be called in this context"
        }
      }
    }
    return r;
  }

  stop(): void {
    try {
      this.drain();
    } catch {
      // stopping anyway
    }
    for (const h of this.helpers) h.terminate();
    this.helpers.length = 0;
  }
}
