/**
 * Training memory, estimated before any tensor exists, and refused when the backend cannot hold it: a run
 * that does not fit otherwise grows for minutes and dies with "memory access out of bounds" (WebAssembly's
 * 4 GB address space) or a lost device. One estimate for the page and the CLI.
 */
import { countParams, type GPTConfig } from './config';
import { EngineError } from '../errors';

export interface MemoryEstimate {
  /** fp32 weights. */
  weights: number;
  /** Gradients and AdamW's two moments: three more copies of the weights. */
  optimizer: number;
  /** What the forward pass keeps for backward at this batch, logits included. */
  activations: number;
  total: number;
}

const ACTIVATION_OVERHEAD = 3;

/** Bytes a training step needs: weights, gradients and optimizer moments, and the activations kept for backward. */
export function memoryEstimate(c: GPTConfig, batch: number): MemoryEstimate {
  const params = countParams(c);
  const B = batch;
  const T = c.blockSize;
  const C = c.nEmbd;
  // Per block ~16 (B, T, C) tensors (two LayerNorms, q/k/v, the projection, the 4C MLP twice…) and ~5
  // (B, nh, T, T) attention maps (scores, mask, softmax, their gradients); the logits (B, T, V) three times
  // (logits, softmax, gradient) — with a large vocabulary they dominate.
  const perBlock = B * T * C * 16 + B * c.nHead * T * T * 5;
  // Measured on WebAssembly (peak resident memory less Node's own, one step): the step takes about 3× what
  // these tensors hold — the backward pass's temporaries, the heap growing in steps. Baby at batch 16, 64 and
  // 256: 0.12, 0.55 and 2.3 GB (estimated 0.09, 0.35, 2.6); small at batch 12: 3.1 GB (estimated 3.2).
  const activations = (c.nLayer * perBlock + B * T * c.vocabSize * 3) * 4 * ACTIVATION_OVERHEAD;
  const weights = params * 4;
  const optimizer = params * 4 * 3;
  return { weights, optimizer, activations, total: weights + optimizer + activations };
}

/**
 * What a backend can hold for training, in bytes, or null where nothing says (a GPU's memory is not visible
 * to a page). WebAssembly (and the CPU backend in a tab) addresses at most 4 GiB; the module's code and
 * stack and fragmentation take some of it, so runs are allowed up to 3.5 GiB of estimate.
 */
export const MEMORY_BUDGET = { wasm: 3.5 * 1024 ** 3, cpu: 3.5 * 1024 ** 3, webgl: null, webgpu: null } as const satisfies Record<string, number | null>;

/** The setting to lower, with the largest value that fits (the others unchanged), for the message. */
export type MemoryAdvice =
  { setting: 'batch'; fits: number } | { setting: 'blockSize'; fits: number } | { setting: 'vocab'; fits: number } | { setting: 'width' };

export interface MemoryProblem {
  needed: number;
  budget: number;
  advice: MemoryAdvice;
  /** Set when the limit is on one tensor (a GPU's largest buffer), not on the whole step: which tensor. */
  tensor?: TensorName;
}

/** Bytes a run of `c` at `batch` needs of a limit: all of the step's memory, or its largest tensor. */
type Measure = (c: GPTConfig, batch: number) => number;

const totalBytes: Measure = (c, batch) => memoryEstimate(c, batch).total;

export type TensorName = 'logits' | 'attention' | 'mlp' | 'embedding';

/**
 * The largest single tensor of a training step (fp32), which must fit in one GPU buffer: the logits (B, T, V)
 * (and their softmax and gradient, the same size), the attention maps (B, nh, T, T), the MLP's hidden
 * activations (B, T, 4C), or the token embedding (V, C) and its gradient.
 */
export function largestTensor(c: GPTConfig, batch: number): { name: TensorName; bytes: number } {
  const B = batch;
  const T = c.blockSize;
  const sizes: [TensorName, number][] = [
    ['logits', B * T * c.vocabSize],
    ['attention', B * c.nHead * T * T],
    ['mlp', B * T * 4 * c.nEmbd],
    ['embedding', c.vocabSize * c.nEmbd],
  ];
  const [name, n] = sizes.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { name, bytes: n * 4 };
}

const largestBytes: Measure = (c, batch) => largestTensor(c, batch).bytes;

/** The largest integer in [1, hi] for which `ok` holds (ok is monotone: true up to some point), or 0. */
function largest(hi: number, ok: (n: number) => boolean): number {
  if (!ok(1)) return 0;
  let lo = 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Null when a run of `c` at `batch` fits in `budget` bytes; else what it needs and which setting to lower:
 * the batch when a smaller one fits; else the vocabulary when it is what makes it large (a character
 * vocabulary of thousands: use BPE); else the context; else the width and layers.
 */
export function memoryProblem(c: GPTConfig, batch: number, budget: number | null): MemoryProblem | null {
  if (budget === null) return null;
  // The vocabulary's share: the logits kept for backward and the token embedding with its optimizer state.
  const vocabShare = (needed: number) => batch * c.blockSize * c.vocabSize * 3 * 4 * ACTIVATION_OVERHEAD + c.vocabSize * c.nEmbd * 16 > needed / 2;
  return solve(c, batch, budget, totalBytes, vocabShare);
}

/**
 * The same for a limit on one tensor (a GPU's largest buffer: WebGPU's maxStorageBufferBindingSize, WebGL's
 * largest texture): null when the step's largest tensor fits, else which setting to lower.
 */
export function bufferProblem(c: GPTConfig, batch: number, limit: number | null | undefined): MemoryProblem | null {
  if (limit === null || limit === undefined) return null;
  const { name } = largestTensor(c, batch);
  const p = solve(c, batch, limit, largestBytes, () => name === 'logits' || name === 'embedding');
  return p && { ...p, tensor: name };
}

function solve(c: GPTConfig, batch: number, budget: number, measure: Measure, vocabIsTheCause: (needed: number) => boolean): MemoryProblem | null {
  const needed = measure(c, batch);
  if (needed <= budget) return null;
  const fits = (cc: GPTConfig, b: number) => measure(cc, b) <= budget;
  const b = largest(batch, (n) => fits(c, n));
  if (b >= 1 && b >= Math.min(batch, 4)) return { needed, budget, advice: { setting: 'batch', fits: b } };
  if (vocabIsTheCause(needed)) {
    const v = largest(c.vocabSize, (n) => fits({ ...c, vocabSize: n }, batch));
    if (v >= 256) return { needed, budget, advice: { setting: 'vocab', fits: v } };
  }
  const t = largest(c.blockSize, (n) => fits({ ...c, blockSize: n }, batch));
  if (t >= 8) return { needed, budget, advice: { setting: 'blockSize', fits: t } };
  return { needed, budget, advice: { setting: 'width' } };
}

/** A character vocabulary this large makes the embedding and the logits dominate: BPE is the better choice. */
export const LARGE_CHAR_VOCAB = 3000;

const gb = (bytes: number) => (bytes / 1e9).toFixed(1);
const mb = (bytes: number) => (bytes / 1e6).toFixed(0);

/** The problem as an error with its code (`error.memory<Setting>`, or `error.buffer<Setting>` for one tensor), naming the setting to lower. */
export function memoryError(p: MemoryProblem, backend: string): EngineError {
  if (p.tensor) return bufferError(p, p.tensor, backend);
  const head = `training needs about ${gb(p.needed)} GB, more than ${backend} can hold (${gb(p.budget)} GB)`;
  const params = { needed: gb(p.needed), budget: gb(p.budget), backend };
  switch (p.advice.setting) {
    case 'batch':
      return new EngineError(`${head}: lower the batch size to ${p.advice.fits} or less`, 'memoryBatch', { ...params, fits: p.advice.fits });
    case 'vocab':
      return new EngineError(`${head}: the vocabulary is what makes it large — use the BPE tokenizer with ${p.advice.fits} tokens or fewer`, 'memoryVocab', {
        ...params,
        fits: p.advice.fits,
      });
    case 'blockSize':
      return new EngineError(`${head}: lower the context to ${p.advice.fits} or less (or the batch size)`, 'memoryContext', { ...params, fits: p.advice.fits });
    case 'width':
      return new EngineError(`${head}: choose a smaller model (fewer layers or a smaller width)`, 'memoryWidth', params);
  }
}

/** The tensors in words (the page says them in its language from the code's `tensor` parameter). */
const TENSOR_WORDS: Record<TensorName, string> = {
  logits: 'the logits',
  attention: 'the attention maps',
  mlp: 'the MLP’s activations',
  embedding: 'the token embedding',
};

function bufferError(p: MemoryProblem, tensor: TensorName, backend: string): EngineError {
  const head = `the step’s largest tensor (${TENSOR_WORDS[tensor]}, ${mb(p.needed)} MB) is more than ${backend} allows in one buffer on this GPU (${mb(p.budget)} MB)`;
  const params = { tensor, needed: mb(p.needed), budget: mb(p.budget), backend };
  switch (p.advice.setting) {
    case 'batch':
      return new EngineError(`${head}: lower the batch size to ${p.advice.fits} or less`, 'bufferBatch', { ...params, fits: p.advice.fits });
    case 'vocab':
      return new EngineError(`${head}: use the BPE tokenizer with ${p.advice.fits} tokens or fewer`, 'bufferVocab', { ...params, fits: p.advice.fits });
    case 'blockSize':
      return new EngineError(`${head}: lower the context to ${p.advice.fits} or less (or the batch size)`, 'bufferContext', { ...params, fits: p.advice.fits });
    case 'width':
      return new EngineError(`${head}: choose a smaller model, or train on WebAssembly`, 'bufferWidth', params);
  }
}
