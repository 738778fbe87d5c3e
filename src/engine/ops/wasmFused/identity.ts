/**
 * Identity on the wasm backend without a copy: the output shares the input's memory, counted by reference, as
 * TF.js's cpu and WebGL backends (and its own wasm Reshape) already do.
 *
 * Why: Identity is what the tape runs to keep a tensor for the backward pass (tfjs-core's Engine.clone, once per
 * saved tensor: ~110 a `baby` step). tfjs-backend-wasm 4.22's Identity copies the whole tensor, single-threaded,
 * ~4 ms a step of copying activations that nothing ever writes to again. Sharing is safe because no wasm kernel
 * writes into an input: every kernel, TF.js's and the engine's, writes only outputs it made (makeOutput), with one
 * exception that relies on the sharing: sampling's key/value buffers (./cachedAttention.ts), which the model's
 * decode alone makes, writes into and clones (each position's cache a new handle on the same buffers).
 * Switched off with the other wasm kernels (setWasmKernelsEnabled(false): TF.js's own copying Identity, to compare).
 *
 * Installed by each runtime once tfjs-backend-wasm is loaded (it replaces that package's Identity, which must be
 * registered first; the engine does not import backends): src/worker/backend.ts, cli/backend.ts.
 */
import * as tf from '../../tf';
import { drainWasmKernels, wasmKernelsEnabled, type WasmBackendLike } from '../wasmKernels';

/** The backend's reference count, as its Reshape uses it. */
interface RefCounted {
  incRef(dataId: object): void;
}

const SHARED = Symbol.for('small-gpt-playground.sharedIdentity');

/** Replace the wasm backend's Identity with the sharing one; a no-op where it is not registered or already replaced. */
export function registerSharedIdentity(): void {
  const stock = tf.getKernel(tf.Identity, 'wasm');
  if (!stock || (stock.kernelFunc as { [SHARED]?: true })[SHARED]) return; // not there, or already ours (a second copy of this module)
  const kernelFunc = Object.assign(
    (args: { inputs: { x?: tf.TensorInfo }; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.TensorInfo[] => {
      const x = args.inputs.x;
      if (!x || x.dtype === 'string' || !wasmKernelsEnabled()) {
        drainWasmKernels(args.backend as WasmBackendLike); // TF.js's Identity copies: after the kernels that write x
        return stock.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
      }
      (args.backend as RefCounted).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
    { [SHARED]: true as const },
  );
  tf.unregisterKernel(tf.Identity, 'wasm');
  tf.registerKernel({ ...stock, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}
