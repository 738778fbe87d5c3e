/**
 * What the wasm backend's fused kernels share: their inputs and outputs as Float32Array views of TF.js's
 * own wasm heap (no copies in or out), and the registration under the names of src/engine/ops/fused.ts.
 */
import * as tf from '../../tf';
import { heapOffset, type WasmBackendLike } from '../wasmKernels';

export interface WasmKernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: WasmBackendLike;
  attrs?: Record<string, unknown>;
}

/**
 * Float32 views of `tensors` in the heap, each its own length. Make every output first: an allocation can
 * grow the heap, which detaches views taken before it.
 */
export function views(backend: WasmBackendLike, ...tensors: tf.TensorInfo[]): Float32Array[] {
  const buffer = backend.wasm.HEAPU8.buffer;
  return tensors.map((t) => new Float32Array(buffer, heapOffset(backend, t), tf.util.sizeFromShape(t.shape)));
}

/** Int32 view of an int32 tensor in the heap. */
export function intView(backend: WasmBackendLike, t: tf.TensorInfo): Int32Array {
  return new Int32Array(backend.wasm.HEAPU8.buffer, heapOffset(backend, t), tf.util.sizeFromShape(t.shape));
}

/** Register fused kernels for the wasm backend (once per module instance, as bmm.ts does). */
export function registerWasm(kernels: [string, (args: WasmKernelArgs) => tf.TensorInfo][]): void {
  for (const [kernelName, fn] of kernels) {
    if (tf.getKernel(kernelName, 'wasm')) continue;
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: fn as unknown as tf.KernelFunc });
  }
}
