/**
 * Memory refused before work, in the page: the engine's estimate (engine/model/memory.ts) against what the
 * current backend can hold, checked before a model is created and before a run starts — a run that does not
 * fit would otherwise sit at step 0 for minutes, grow the tab by gigabytes and die.
 */
import type { AppState } from '../store/store';
import type { GPTConfig } from '../engine/model/config';
import { bufferProblem, MEMORY_BUDGET, memoryError, memoryProblem } from '../engine/model/memory';
import { errorText, type Text } from '../i18n/i18n';
import type { BackendReport, Phase } from '../worker/protocol';

const LABELS = { wasm: 'WebAssembly', cpu: 'CPU', webgl: 'WebGL', webgpu: 'WebGPU' } as const;

/** The vocabulary the next model would have: BPE's chosen size, else the corpus's characters and two specials. */
export function nextVocab(st: AppState): number {
  const corpus = st.data.info;
  return st.tokenizer.kind === 'bpe' ? (st.tokenizer.vocabSize ?? corpus?.bpeDefaultVocab ?? 512) : (corpus?.distinct ?? 64) + 2;
}

/**
 * Why `config` cannot train at `batch` on the current backend (the setting to lower), or null when it fits:
 * all of the step's memory against what WebAssembly can address, and on a GPU the step's largest tensor
 * against the largest buffer the device allows (a GPU's total memory is not visible to a page).
 */
export function memoryRefusal(backend: Pick<BackendReport, 'name' | 'maxTensorBytes'> | undefined, config: GPTConfig, batch: number): Text | null {
  if (!backend) return null;
  const problem = memoryProblem(config, batch, MEMORY_BUDGET[backend.name]) ?? bufferProblem(config, batch, backend.maxTensorBytes);
  return problem ? errorText(memoryError(problem, LABELS[backend.name])) : null;
}

/** The same for a run of `phase` on the current model. */
export function runMemoryRefusal(st: AppState, phase: Phase): Text | null {
  const config = st.model.info?.config;
  if (!config) return null;
  return memoryRefusal(st.backend.report ?? undefined, config, phase === 'pretrain' ? st.pretrain.batchSize : st.finetune.batchSize);
}
