/**
 * Σ x² over many tensors on the wasm backend, the fused program ops/sum.ts asks for (the gradient's global
 * norm², for clipping): one SIMD pass per tensor (kernels/adamw.wat's sumSquares) inside one kernel, where the
 * stock ops take a Square and a Sum per tensor and a tree of AddN — ~80 kernels a step at the baby size.
 * Inputs x0, x1, … are squared; `carry`, a running sum from the previous call, is added as it is.
 */
import * as tf from '../../tf';
import { FUSED } from '../fused';
import { adamwModule } from '../adamwStep';
import { heapOffset, registerWasm, type WasmKernelArgs } from '../wasmKernels';
import { views } from './heap';

function sumSquares({ inputs, backend }: WasmKernelArgs): tf.TensorInfo {
  const k = adamwModule.on(backend);
  if (!k) throw new Error('the SIMD sum of squares is not available on this backend');
  const out = backend.makeOutput([], 'float32'); // ()
  const [total] = views(backend, out);
  total[0] = inputs.carry ? views(backend, inputs.carry)[0][0] : 0;
  for (const [name, x] of Object.entries(inputs)) {
    if (name !== 'carry') k.sumSquares(heapOffset(backend, x), tf.util.sizeFromShape(x.shape), heapOffset(backend, out));
  }
  return out;
}

export function registerSumSquares(): void {
  registerWasm([[FUSED.sumSquares, sumSquares]]);
}
