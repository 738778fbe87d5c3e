/**
 * Σ x² over many tensors on the wasm backend, the fused program ops/sum.ts asks for (the gradient's global
 * norm², for clipping): one SIMD pass per tensor (kernels/adamw.wat's sumSquares) inside one kernel, where the
 * stock ops take a Square and a Sum per tensor and a tree of AddN — ~80 kernels a step at the baby size.
 * Inputs x0, x1, … are squared; `carry`, a running sum from the previous call, is added as it is.
 */
import * as tf from '../../tf';
import { FUSED } from '../fused';
import { adamwModule } from '../adamwStep';
import { heapBuffer, heapOffset, registerWasm, type WasmKernelArgs } from '../wasmKernels';
import { elementwise } from './elementwise';

function sumSquares({ inputs, backend }: WasmKernelArgs): tf.TensorInfo {
  if (!adamwModule.on(backend)) throw new Error('the SIMD sum of squares is not available on this backend');
  const out = backend.makeOutput([], 'float32'); // ()
  // 0 into the new output (no job can use memory just allocated, so no wait for the queue), then the carry added
  // by a queued job: views of the carry would first wait for the jobs that compute it.
  new Float32Array(heapBuffer(backend), heapOffset(backend, out), 1)[0] = 0;
  if (inputs.carry) elementwise(backend, 'add', heapOffset(backend, out), heapOffset(backend, inputs.carry), heapOffset(backend, out), 1);
  for (const [name, x] of Object.entries(inputs)) {
    if (name !== 'carry') adamwModule.run(backend, 'sumSquares', [[heapOffset(backend, x), tf.util.sizeFromShape(x.shape), heapOffset(backend, out)]]);
  }
  return out;
}

export function registerSumSquares(): void {
  registerWasm([[FUSED.sumSquares, sumSquares]]);
}
