/**
 * Fused kernels: one GPU program where the stock ops launch many.
 *
 * At the sizes a browser trains, a GPU step is bound by the number of programs it launches, not by
 * arithmetic (nanoGPT's "baby" launched ~1,200 per step on WebGPU with the stock ops). A runtime that
 * has fused programs registers them with TF.js under the names below (src/worker/webgpu/ for WebGPU);
 * the engine calls one by name only where the active backend has it, and otherwise runs the stock ops.
 * So the engine never imports a backend package (it also runs in Node, where none is loaded), and a
 * backend without the programs — or a test that switches them off — gets the reference implementation.
 */
import * as tf from '../tf';
import { wasmKernelsEnabled } from './wasmKernels';

export const FUSED = {
  /** AdamW's new parameter values. */
  adamwParam: 'SgpAdamWParam',
  /** AdamW's new moments, packed with partial sums of the update's squared norm (see adamw.ts). */
  adamwState: 'SgpAdamWState',
  /** Σ of the first STATE_HEAD elements of each input (the update-norm partials of packed states). */
  sumHeads: 'SgpSumHeads',
  /** Σ x² over every element of every input: the gradient's global norm² in a few launches. */
  sumSquares: 'SgpSumSquares',
  layerNorm: 'SgpLayerNorm',
  /** Per-row mean and 1/σ of a LayerNorm input, (N, 2). */
  layerNormStats: 'SgpLayerNormStats',
  layerNormGradX: 'SgpLayerNormGradX',
  /** Column sums for LayerNorm's weight (Σ dy·x̂) or bias (Σ dy) gradient. */
  layerNormGradParam: 'SgpLayerNormGradParam',
  /** softmax(scores + causal mask) over the last axis. */
  causalSoftmax: 'SgpCausalSoftmax',
  causalSoftmaxGrad: 'SgpCausalSoftmaxGrad',
  /** −log softmax(logits)[target] per row. */
  crossEntropy: 'SgpCrossEntropy',
  crossEntropyGrad: 'SgpCrossEntropyGrad',
  gelu: 'SgpGelu',
  geluGrad: 'SgpGeluGrad',
  /** (B, T, 3C) → q, k, v, each (B, nh, T, hs): attention's split + view + transpose as one copy. */
  splitHeads: 'SgpSplitHeads',
  /** Its inverse, the gradient: dq, dk, dv → (B, T, 3C). */
  mergeHeads: 'SgpMergeHeads',
} as const;

/**
 * Programs only the wasm backend registers so far (src/engine/ops/wasmFused/): WebGPU runs the stock ops there,
 * which are few launches already (a transpose, a gather).
 */
export const FUSED_WASM = {
  /** Attention's output (B, nh, T, hs) → (B, T, C), heads side by side. */
  headsToRows: 'SgpHeadsToRows',
  /** Its inverse, the gradient: (B, T, C) → (B, nh, T, hs). */
  rowsToHeads: 'SgpRowsToHeads',
  /** The GPT's input: wte[idx] + wpe[P..P+T), (B, T, C). */
  embedding: 'SgpEmbedding',
  /** Its gradient for wte, (V, C): rows of dx added by token. */
  embeddingGradTokens: 'SgpEmbeddingGradTokens',
  /** Its gradient for wpe, (positions, C): rows of dx added by position. */
  embeddingGradPositions: 'SgpEmbeddingGradPositions',
} as const;

/** Inputs one fused program binds at most (+1 output = 7 storage buffers, under WebGPU's minimum of 8). */
export const MAX_FUSED_INPUTS = 6;

/** Leading elements of a packed AdamW state that hold the update-norm partial sums. */
export const STATE_HEAD = 64;

let enabled = true;

/** Turn the fused programs off (tests compare them with the stock ops on the same backend). */
export function setFusedKernels(on: boolean): void {
  enabled = on;
}

/** Whether the active backend has the fused program `name` (and fused programs are on). */
export function hasFused(name: string): boolean {
  const backend = tf.getBackend();
  if (!enabled || (backend === 'wasm' && !wasmKernelsEnabled())) return false;
  return tf.getKernel(name, backend) !== undefined;
}

/**
 * Whether matMul's transpose flags are as fast as a plain product on the active backend, so a linear layer
 * should use them instead of explicit transposes (each one more launch, forward and backward). True on
 * WebGPU, whose matMul programs read either layout; wasm runs a transposed operand through a slow loop.
 */
export function nativeTransposes(): boolean {
  return enabled && tf.getBackend() === 'webgpu';
}

/** Run a fused program. Only after hasFused(name). */
export function runFused<T extends tf.Tensor>(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number | boolean | string> = {}): T {
  return tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs) as T;
}
