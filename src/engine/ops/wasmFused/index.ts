/**
 * Fused kernels for the wasm backend, registered under the names in src/engine/ops/fused.ts (the WebGPU
 * ones are in src/worker/webgpu/). Plain JavaScript over TF.js's wasm heap, so they also run on the
 * threaded build, whose heap is shared memory. Switched off with the other wasm kernels
 * (setWasmKernelsEnabled(false): the stock ops, to compare).
 */
import { registerLayerNorm } from './layerNorm';

export function registerWasmFused(): void {
  registerLayerNorm();
}
