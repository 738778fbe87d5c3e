/**
 * The engine's own WebAssembly SIMD kernels (kernels/*.wat, assembled into kernels/*.wasm.ts by
 * `npm run build:kernels`), instantiated on TF.js's wasm backend so that they work in its heap: tensors
 * are read and written where TF.js keeps them, with no copies in or out.
 *
 * Synchronous: each module is ~1 KB, well under any engine's limit on synchronous compilation.
 */
import * as tf from '../tf';

/** The parts of tfjs-backend-wasm's BackendWasm the kernels use (not in its public typings). */
export interface WasmBackendLike {
  wasm: {
    asm?: { memory?: WebAssembly.Memory };
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

/** Register kernels for the wasm backend, once per module instance (a second copy, e.g. after a hot reload, finds them). */
export function registerWasm(kernels: [string, (args: WasmKernelArgs) => tf.TensorInfo | tf.TensorInfo[]][]): void {
  for (const [kernelName, fn] of kernels) {
    if (tf.getKernel(kernelName, 'wasm')) continue;
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: fn as unknown as tf.KernelFunc });
  }
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

let enabled = true;

/** Turn the SIMD kernels off (stock TF.js ops everywhere) or back on: for benchmarks and tests that compare. */
export function setWasmKernelsEnabled(on: boolean): void {
  enabled = on;
}

/** Whether the engine's own wasm kernels are on (the SIMD modules and the fused JavaScript kernels). */
export function wasmKernelsEnabled(): boolean {
  return enabled;
}

/**
 * A kernel module, compiled once, instantiated once per wasm backend instance against that backend's
 * memory. `get()` gives its exports on the active backend, or null where it cannot run: another backend,
 * switched off, no WebAssembly SIMD, or the backend's memory not reachable or shared (the threaded build).
 */
export class WasmKernelModule<E> {
  private compiled: WebAssembly.Module | null | undefined;
  private readonly instances = new WeakMap<object, E | null>();

  constructor(private readonly base64: string) {}

  get(): E | null {
    if (!enabled || tf.getBackend() !== 'wasm') return null;
    return this.on(tf.backend() as unknown as WasmBackendLike);
  }

  /** Exports bound to this backend's heap, or null. */
  on(backend: WasmBackendLike): E | null {
    let exports = this.instances.get(backend);
    if (exports !== undefined) return exports;
    exports = null;
    try {
      if (this.compiled === undefined) this.compiled = new WebAssembly.Module(decode(this.base64) as BufferSource);
      const memory = backend.wasm.asm?.memory;
      if (this.compiled && memory instanceof WebAssembly.Memory && memory.buffer === backend.wasm.HEAPU8.buffer) {
        exports = new WebAssembly.Instance(this.compiled, { env: { memory } }).exports as E;
      }
    } catch {
      this.compiled ??= null; // no SIMD in this engine: stay on the stock ops
      exports = null;
    }
    this.instances.set(backend, exports);
    return exports;
  }
}
