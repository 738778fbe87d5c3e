/**
 * Fused WebGPU programs for the engine's hot small ops, registered as TF.js kernels of the 'webgpu'
 * backend under the names in src/engine/ops/fused.ts. The engine uses one only where the active backend
 * has it, so every other backend (and Node) keeps the stock ops.
 */
import { registerAdamW } from './adamw';
import { registerAttention } from './attention';
import { registerCrossEntropy } from './crossEntropy';
import { registerGelu } from './gelu';
import { registerHeads } from './heads';
import { registerLayerNorm } from './layerNorm';

registerAdamW();
registerLayerNorm();
registerAttention();
registerGelu();
registerCrossEntropy();
registerHeads();
