/**
 * The engine's own WebAssembly SIMD kernels (kernels/*.wat, assembled into kernels/*.wasm.ts by
 * `npm run build:kernels`), instantiated on TF.js's wasm backend so that they work in its heap: tensors
 * are read and written where TF.js keeps them, with no copies in or out.
 *
 * Each kernel comes in variants (scripts/kernels.ts): for the single-threaded build's memory or the threaded
 * build's shared one, and, for the matrix product, with fused multiply-add (relaxed SIMD) where the engine has
 * it. On the threaded build a kernel can split its work over kernel threads (ops/kernelThreads.ts) that run
 * the same modules on the same memory.
 *
 * Synchronous: each module is ~1 KB, well under any engine's limit on synchronous compilation.
 */
import * as tf from '../tf';
import { EXPORTS_PER_MODULE, KernelThreads, functionExports, type SpawnKernelThread } from './kernelThreads';

/** The parts of tfjs-backend-wasm's BackendWasm the kernels use (not in its public typings). */
export interface WasmBackendLike {
  wasm: {
    /** The single-threaded build's memory (it exports it). */
    asm?: { memory?: WebAssembly.Memory };
    /** The threaded build's (it creates it shared and imports it). */
    wasmMemory?: WebAssembly.Memory;
    HEAPU8: Uint8Array;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

/** Kernel function arguments as TF.js passes them to a wasm kernel. */
export interface WasmKernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: WasmBackendLike;
  attrs?: Record<string, unknown>;
}

/** The engine's own wasm kernels by name: their heap access goes through the kernel queue or drains it. */
const ENGINE_KERNELS = new Set<string>();

/** Register kernels for the wasm backend, once per module instance (a second copy, e.g. after a hot reload, finds them). */
export function registerWasm(kernels: [string, (args: WasmKernelArgs) => tf.TensorInfo | tf.TensorInfo[]][]): void {
  for (const [kernelName, fn] of kernels) {
    ENGINE_KERNELS.add(kernelName);
    if (tf.getKernel(kernelName, 'wasm')) continue;
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: fn as unknown as tf.KernelFunc });
  }
}

/** The backend's WebAssembly memory, if reachable. */
export function memoryOf(backend: WasmBackendLike): WebAssembly.Memory | undefined {
  const m = backend.wasm.asm?.memory ?? backend.wasm.wasmMemory;
  return m instanceof WebAssembly.Memory ? m : undefined;
}

/**
 * The heap's current buffer. Not HEAPU8.buffer: the threaded build refreshes its views lazily, so after the
 * heap grows they can still show the old, shorter buffer.
 */
export function heapBuffer(backend: WasmBackendLike): ArrayBufferLike {
  return memoryOf(backend)?.buffer ?? backend.wasm.HEAPU8.buffer;
}

/** Whether a buffer is shared (SharedArrayBuffer exists only where the page is cross-origin isolated, and in Node). */
export function isShared(buffer: ArrayBufferLike | undefined): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer;
}

/** Where a tensor's data starts in the wasm heap (bytes). */
export function heapOffset(backend: WasmBackendLike, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

function decode(b64: string): Uint8Array {
  const s = atob(b64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

/** A kernel's binaries as `npm run build:kernels` writes them (base64), one per variant. */
export interface KernelBinaries {
  /** For the single-threaded build's memory. */
  plain: string;
  /** For the threaded build's shared memory. */
  shared: string;
  /** With fused multiply-add (relaxed SIMD), where the kernel has such a variant. */
  fma?: string;
  fmaShared?: string;
}

type Variant = keyof KernelBinaries;

let enabled = true;

/** Turn the SIMD kernels off (stock TF.js ops everywhere) or back on: for benchmarks and tests that compare. */
export function setWasmKernelsEnabled(on: boolean): void {
  enabled = on;
}

/** Whether the engine's own wasm kernels are on (the SIMD modules and the fused JavaScript kernels). */
export function wasmKernelsEnabled(): boolean {
  return enabled;
}

/** f32x4.relaxed_madd in a function body: the smallest module that needs relaxed SIMD. */
const RELAXED_PROBE = new Uint8Array([
  0,
  97,
  115,
  109,
  1,
  0,
  0,
  0,
  1,
  4,
  1,
  96,
  0,
  0,
  3,
  2,
  1,
  0,
  10,
  62,
  1,
  60,
  0,
  253,
  12,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0, // v128.const 0
  253,
  12,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0, // v128.const 0
  253,
  12,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0, // v128.const 0
  253,
  133,
  2, // f32x4.relaxed_madd
  26,
  11, // drop, end
]);
let relaxed: boolean | undefined;

/**
 * Whether this engine has relaxed SIMD (fused multiply-add): Chromium does; Node 20 with
 * --experimental-wasm-relaxed-simd. Probed once; `recheck` after turning the flag on.
 */
export function relaxedSimdSupported(recheck = false): boolean {
  if (relaxed === undefined || recheck) {
    try {
      relaxed = WebAssembly.validate(RELAXED_PROBE as BufferSource);
    } catch {
      relaxed = false;
    }
  }
  return relaxed;
}

let fmaWanted = true;

/** Use the fused multiply-add variants where the engine has them (the default), or the plain SIMD ones: for tests and benchmarks that compare. */
export function setWasmFma(on: boolean): void {
  fmaWanted = on;
}

/** Whether kernels that have a fused multiply-add variant run it. */
export function wasmFmaActive(): boolean {
  return fmaWanted && relaxedSimdSupported();
}

/** Every kernel module, in the order kernel threads instantiate them (each adds itself as it is made). */
const MODULES: WasmKernelModule<unknown>[] = [];

/**
 * A kernel module, compiled once per variant, instantiated once per wasm backend instance against that
 * backend's memory. `get()` gives its exports on the active backend, or null where it cannot run: another
 * backend, switched off, no WebAssembly SIMD, or the backend's memory not reachable.
 */
export class WasmKernelModule<E> {
  private readonly compiled = new Map<Variant, WebAssembly.Module | null>();
  private readonly instances = new WeakMap<object, Map<Variant, E | null>>();
  private readonly threadIds = new WeakMap<object, Map<string, number>>();

  constructor(private readonly binaries: KernelBinaries) {
    MODULES.push(this as WasmKernelModule<unknown>);
  }

  get(): E | null {
    if (!enabled || tf.getBackend() !== 'wasm') return null;
    return this.on(tf.backend() as unknown as WasmBackendLike);
  }

  /** The variant that fits this backend's memory (and the FMA setting). */
  private variantFor(backend: WasmBackendLike): Variant {
    const shared = isShared(memoryOf(backend)?.buffer);
    const fma = this.binaries.fma !== undefined && wasmFmaActive();
    return fma ? (shared ? 'fmaShared' : 'fma') : shared ? 'shared' : 'plain';
  }

  private module(variant: Variant): WebAssembly.Module | null {
    let m = this.compiled.get(variant);
    if (m === undefined) {
      try {
        m = new WebAssembly.Module(decode(this.binaries[variant]!) as BufferSource);
      } catch {
        m = null; // no SIMD (or relaxed SIMD) in this engine: stay on the stock ops
      }
      this.compiled.set(variant, m);
    }
    return m;
  }

  /** Exports bound to this backend's heap, or null. */
  on(backend: WasmBackendLike): E | null {
    const variant = this.variantFor(backend);
    let perBackend = this.instances.get(backend);
    if (!perBackend) this.instances.set(backend, (perBackend = new Map()));
    let exports = perBackend.get(variant);
    if (exports !== undefined) return exports;
    exports = null;
    const memory = memoryOf(backend);
    const compiled = this.module(variant);
    if (compiled && memory) {
      try {
        exports = new WebAssembly.Instance(compiled, { env: { memory } }).exports as E;
      } catch {
        exports = null;
      }
    }
    perBackend.set(variant, exports);
    return exports;
  }

  /** Kernel threads this backend can split this module's calls over (1: none). */
  threads(backend: WasmBackendLike): number {
    return pools.get(backend)?.threads ?? 1;
  }

  /**
   * How many parts to split a call into where its parts cost nothing extra: two per thread, so that a thread
   * slow to wake leaves less for the others to wait on (1 without threads).
   */
  parts(backend: WasmBackendLike): number {
    const t = this.threads(backend);
    return t > 1 ? 2 * t : 1;
  }

  /**
   * Call the export `fn` once per argument list in `parts`: at once on the kernel threads where the backend
   * has them (at most PARTS_PER_THREAD per thread, each run by whichever thread claims it), else one after another.
   */
  run(backend: WasmBackendLike, fn: keyof E & string, parts: number[][]): void {
    const exports = this.on(backend);
    if (!exports) throw new Error(`the SIMD kernel ${fn} is not available on this backend`);
    const f = exports[fn] as unknown as (...args: number[]) => void;
    const pool = pools.get(backend);
    const id = pool && (parts.length > 1 || overlap) ? this.threadId(backend, fn) : -1;
    if (id < 0) {
      pool?.drain();
      for (const args of parts) f(...args);
      return;
    }
    if (overlap) pool!.enqueue(id, parts, (args) => f(...args));
    else pool!.run(id, parts, (args) => f(...args));
  }

  /** The id kernel threads know this module's export `fn` by, in the variant this backend runs; −1 if they lack it. */
  private threadId(backend: WasmBackendLike, fn: string): number {
    const variant = this.variantFor(backend);
    let ids = this.threadIds.get(backend);
    if (!ids) this.threadIds.set(backend, (ids = new Map()));
    const key = `${variant}:${fn}`;
    let id = ids.get(key);
    if (id === undefined) {
      const index = threadModules.get(backend)?.indexOf(`${MODULES.indexOf(this as WasmKernelModule<unknown>)}:${variant}`) ?? -1;
      const exportIndex = functionExports(this.module(variant)!).indexOf(fn);
      id = index < 0 || exportIndex < 0 ? -1 : index * EXPORTS_PER_MODULE + exportIndex;
      ids.set(key, id);
    }
    return id;
  }

  /** The shared-memory variants this module has that compile here, for kernel threads. */
  sharedVariants(): Array<{ variant: Variant; bytes: Uint8Array }> {
    const variants: Variant[] = ['shared', ...(this.binaries.fmaShared !== undefined ? (['fmaShared'] as const) : [])];
    return variants.filter((v) => this.module(v) !== null).map((variant) => ({ variant, bytes: decode(this.binaries[variant]!) }));
  }
}

/**
 * [0, n) split into at most `threads` contiguous ranges [start, end) (a count of parts, whatever it is called): boundaries at multiples of `align`, each
 * range at least `min` long (so a small call stays whole: waking a thread costs microseconds).
 */
export function splitRange(n: number, threads: number, min: number, align = 1): Array<[number, number]> {
  const units = Math.ceil(n / align);
  const parts = Math.max(1, Math.min(threads, units, Math.floor(n / Math.max(1, min))));
  const out: Array<[number, number]> = [];
  for (let p = 0; p < parts; p++) {
    out.push([align * Math.floor((units * p) / parts), Math.min(n, align * Math.floor((units * (p + 1)) / parts))]);
  }
  return out;
}

let overlap = true;

/**
 * Whether kernels on kernel threads return as soon as their parts are queued (the default), so that this
 * thread's JavaScript — TF.js's bookkeeping, the next kernel's set-up — runs while the helpers compute; or wait
 * for their parts as they did before (to compare).
 */
export function setKernelOverlap(on: boolean): void {
  for (const pool of pools.values()) pool.drain();
  overlap = on;
}

/**
 * Wait for the kernels queued on a backend's threads: before anything reads the heap outside the queue, or
 * writes memory that was not just allocated (TF.js's own kernels, read-backs, the fused kernels' JavaScript paths).
 */
export function drainWasmKernels(backend: WasmBackendLike): void {
  pools.get(backend)?.drain();
}

/** Engine versions of TF.js kernels that go through the queue where they can (null: TF.js's kernel, after a drain). */
const QUEUED_STOCK = new Map<string, (args: WasmKernelArgs) => tf.TensorInfo | null>();

/**
 * Where kernel threads run, let `kernel` take TF.js's kernel `name` through the queue when it can (it returns
 * null where it cannot: TF.js's own kernel then runs, after the queue drains).
 */
export function queueStockKernel(name: string, kernel: (args: WasmKernelArgs) => tf.TensorInfo | null): void {
  QUEUED_STOCK.set(name, kernel);
}

/** TF.js's wasm kernels that touch no memory (they share the input's), so need not wait for the queue. */
const NO_MEMORY = new Set<string>([tf.Reshape, tf.Identity]);
const DRAINS = Symbol.for('small-gpt-playground.drainsKernelQueue');

/**
 * Make every wasm kernel that is not the engine's wait for the queue before it runs (once; kernels registered
 * later, the engine's, are not wrapped: theirs go through the queue or drain in heap views).
 */
function drainBeforeStockKernels(): void {
  for (const config of tf.getKernelsForBackend('wasm')) {
    const fn = config.kernelFunc as tf.KernelFunc & { [DRAINS]?: true };
    if (fn[DRAINS] || NO_MEMORY.has(config.kernelName) || ENGINE_KERNELS.has(config.kernelName)) continue;
    const kernelFunc = Object.assign(
      (args: Parameters<tf.KernelFunc>[0]) => {
        const pool = pools.get(args.backend as object);
        const queued = pool && overlap ? QUEUED_STOCK.get(config.kernelName)?.(args as unknown as WasmKernelArgs) : null;
        if (queued) return queued;
        pool?.drain();
        return fn(args);
      },
      { [DRAINS]: true as const },
    );
    tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel({ ...config, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}

/**
 * The backend's methods that read its heap outside any kernel (read calls readSync). Not write and move: they
 * copy into memory just allocated, which no queued job can touch (frees wait for the queue, KernelThreads.free).
 */
const HEAP_METHODS = ['readSync', 'typedArrayFromHeap'] as const;

/**
 * Install, once per backend, what keeps its heap right while jobs wait: allocation and free through the queue's
 * rules (KernelThreads.free), and a drain before the methods that read the heap.
 */
function guardHeap(backend: object): void {
  const wasm = (backend as WasmBackendLike).wasm as WasmBackendLike['wasm'] & { [DRAINS]?: true };
  if (!wasm[DRAINS]) {
    wasm[DRAINS] = true;
    // The allocator's own exports: Emscripten's _malloc and _free are stubs that replace themselves with them on
    // their first call (which would drop the wrappers below).
    const asm = wasm.asm as { malloc?: (bytes: number) => number; free?: (address: number) => void } | undefined;
    const malloc = asm?.malloc ?? wasm._malloc.bind(wasm);
    const release = asm?.free ?? wasm._free.bind(wasm);
    // Every free (TF.js's disposeData, the kernels' scratch) waits for the jobs that may still use the memory;
    // each allocation first releases the frees whose jobs are done, so that memory is reused rather than the heap
    // grown.
    wasm._malloc = (bytes: number) => {
      pools.get(backend)?.releaseDone();
      return malloc(bytes);
    };
    wasm._free = (address: number) => {
      const pool = pools.get(backend);
      if (pool) pool.free(address, release);
      else release(address);
    };
  }
  const b = backend as Record<string, unknown>;
  for (const name of HEAP_METHODS) {
    const own = b[name];
    if (typeof own !== 'function' || (own as { [DRAINS]?: true })[DRAINS]) continue;
    b[name] = Object.assign(
      (...a: unknown[]) => {
        pools.get(backend)?.drain();
        return (own as (...a: unknown[]) => unknown).apply(backend, a);
      },
      { [DRAINS]: true as const },
    );
  }
}

/** Kernel threads per backend instance, and the modules they hold ("module index:variant", in their order). */
const pools = new Map<object, KernelThreads>(); // until stopWasmKernelThreads
const threadModules = new WeakMap<object, string[]>();

/**
 * Start kernel threads on a wasm backend whose memory is shared (TF.js's threaded build): `count` threads in
 * all, this one included. Returns the number running: 1 where the memory is not shared, count is 1, or the
 * helpers fail to start (the kernels then run on this thread alone; the error is thrown only if `strict`).
 */
export async function startWasmKernelThreads(backend: WasmBackendLike, count: number, spawn: SpawnKernelThread, strict = false): Promise<number> {
  stopWasmKernelThreads(backend);
  const memory = memoryOf(backend);
  if (count <= 1 || !memory || !isShared(memory.buffer)) return 1;
  const names: string[] = [];
  const binaries: Uint8Array[] = [];
  MODULES.forEach((m, i) => {
    for (const { variant, bytes } of m.sharedVariants()) {
      names.push(`${i}:${variant}`);
      binaries.push(bytes);
    }
  });
  try {
    const pool = await KernelThreads.start(memory, binaries, count, spawn);
    drainBeforeStockKernels();
    guardHeap(backend);
    pools.set(backend, pool);
    threadModules.set(backend, names);
    return pool.threads;
  } catch (e) {
    if (strict) throw e;
    return 1;
  }
}

/** Stop a backend's kernel threads (before the backend is removed). */
export function stopWasmKernelThreads(backend: WasmBackendLike): void {
  pools.get(backend)?.stop();
  pools.delete(backend);
  threadModules.delete(backend);
}

/** Kernel threads on the active backend (1 where there are none). */
export function wasmKernelThreads(): number {
  if (tf.getBackend() !== 'wasm') return 1;
  return pools.get(tf.backend())?.threads ?? 1;
}
