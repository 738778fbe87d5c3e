/**
 * Fused kernels for the wasm backend, registered under the names in src/engine/ops/fused.ts (the WebGPU
 * ones are in src/worker/webgpu/): LayerNorm and the causal softmax as SIMD modules with a JavaScript path
 * for odd widths, the head copies and the sum of squares as SIMD modules, cross-entropy's passes as one (the log
 * per row in JavaScript), the embedding lookup in JavaScript; and sampling's attention over a key/value cache held
 * in buffers of the whole context (./cachedAttention.ts). They work in TF.js's wasm heap.
 * (The Identity that shares its input's memory, ./identity.ts, is installed by the runtimes.)
 * Switched off with the other wasm kernels (setWasmKernelsEnabled(false): the stock ops, to compare).
 * Registered on import, as the other wasm kernels are (the model's layers import this module).
 */
import { registerAttention } from './attention';
import { registerCachedAttention } from './cachedAttention';
import { registerCrossEntropy } from './crossEntropy';
import { registerEmbedding } from './embedding';
import './elementwise';
import { registerHeads } from './heads';
import { registerLayerNorm } from './layerNorm';
import { registerSumSquares } from './sumSquares';

registerLayerNorm();
registerAttention();
registerCachedAttention();
registerCrossEntropy();
registerHeads();
registerEmbedding();
registerSumSquares();
