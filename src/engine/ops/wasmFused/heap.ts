/**
 * The wasm backend's fused kernels' JavaScript paths: their inputs and outputs as typed-array views of TF.js's
 * own wasm heap (no copies in or out).
 */
import * as tf from '../../tf';
import { drainWasmKernels, heapBuffer, heapOffset, type WasmBackendLike } from '../wasmKernels';

/**
 * Float32 views of `tensors` in the heap, each its own length. Make every output first: an allocation can
 * grow the heap, which detaches views taken before it.
 */
export function views(backend: WasmBackendLike, ...tensors: tf.TensorInfo[]): Float32Array[] {
  drainWasmKernels(backend); // the kernels queued before write what these read
  const buffer = heapBuffer(backend);
  return tensors.map((t) => new Float32Array(buffer, heapOffset(backend, t), tf.util.sizeFromShape(t.shape)));
}

/** Int32 view of an int32 tensor in the heap. */
export function intView(backend: WasmBackendLike, t: tf.TensorInfo): Int32Array {
  drainWasmKernels(backend);
  return new Int32Array(heapBuffer(backend), heapOffset(backend, t), tf.util.sizeFromShape(t.shape));
}
