/**
 * Test page for cross-backend equivalence: the engine's own Trainer, in the page, on a backend chosen
 * by the test. Same text, same seed, same batches (drawn by the engine's seeded JS generator), same
 * initial weights (drawn the same way): only the backend differs. Results stay in the page; the test
 * reads losses and per-parameter differences against the WebAssembly run.
 */
import * as tf from '../../../src/engine/tf';
import { chooseBackend } from '../../../src/worker/backend';
import { GpuErrorGuard } from '../../../src/worker/gpuGuard';
import { GPT } from '../../../src/engine/model/gpt';
import type { GPTConfig } from '../../../src/engine/model/config';
import { CharTokenizer } from '../../../src/engine/tokenizer/char';
import { splitIds } from '../../../src/engine/data/corpus';
import { corpusSource } from '../../../src/engine/data/sources';
import { Trainer } from '../../../src/engine/train/trainer';
import type { FreezePlan } from '../../../src/engine/train/freeze';
import { snapshotParams } from '../../../src/engine/io/checkpoint';
import { generateBatch } from '../../../src/engine/model/generateBatch';
import { bmmKernelActive } from '../../../src/engine/ops/bmm';
import type { BackendName } from '../../../src/worker/protocol';
import { FUSED, hasFused } from '../../../src/engine/ops/fused';
import { fusedAdamW, fusedCrossEntropy, fusedGelu, fusedHeads, fusedLayerNorm, fusedSoftmax, type FusedDiff } from './fused';

export type { FusedDiff } from './fused';

const TEXT = Array.from(
  { length: 200 },
  (_, i) => `Call me Ishmael. Some years ago, never mind how long precisely, I went to sea ${i % 7} times; the whale ${i % 3 ? 'spouted' : 'dived'}.\n`,
).join('');

export interface RunOptions {
  backend: BackendName;
  arch: Omit<GPTConfig, 'vocabSize'>;
  batchSize: number;
  steps: number;
  lr: number;
  freeze: FreezePlan;
  seed: number;
}

export interface RunReport {
  backend: string;
  losses: number[];
  gradNorms: number[];
  tensorsBefore: number;
  tensorsAfter: number;
  params: number;
  /** Whether the engine's own SIMD kernels (batched matmul, GELU, AdamW) ran: on wasm they should. */
  simdKernels: boolean;
  /** Threads that trained (WebAssembly). */
  threads?: number;
  /**
   * The initial model's next-token logits (lastLogits: the last block on the last position only), for two windows
   * of the whole context and two of 5 tokens, flattened: sampling past the context on this backend.
   */
  lastLogits: number[];
  error?: string;
}

export interface WeightDiff {
  name: string;
  maxAbs: number;
  /** Largest |w| of the reference (wasm) weight, for scale. */
  refMax: number;
  /** Largest |Δ| of the reference run's own change over training (how far the weights moved). */
  moved: number;
}

const results = new Map<string, Map<string, Float32Array>>();
const initial = new Map<string, Map<string, Float32Array>>();

async function run(o: RunOptions): Promise<RunReport> {
  const report = await chooseBackend(o.backend);
  if (report.name !== o.backend) throw new Error(`backend ${o.backend} did not start: ${report.reason}`);
  const guard = new GpuErrorGuard();
  const tok = CharTokenizer.fromText(TEXT);
  const { train } = splitIds(tok.encode(TEXT).ids);
  const tensorsBefore = tf.memory().numTensors;
  const model = GPT.create({ ...o.arch, vocabSize: tok.vocabSize }, o.seed);
  initial.set(o.backend, await snapshotParams(model));
  const ids = tok.encode(TEXT).ids;
  const lastLogits: number[] = [];
  for (const T of [o.arch.blockSize, 5]) {
    const windows = [0, 1].map((b) => Array.from(ids.slice(100 * b, 100 * b + T)));
    const logits = tf.tidy(() => model.lastLogits(tf.tensor2d(windows, [2, T], 'int32'))); // (2, V)
    lastLogits.push(...(await logits.data()));
    logits.dispose();
  }
  const trainer = new Trainer(model, { seed: o.seed, checkDevice: () => guard.check() });
  const losses: number[] = [];
  const gradNorms: number[] = [];
  let error: string | undefined;
  try {
    await trainer.run(
      {
        steps: o.steps,
        batchSize: o.batchSize,
        schedule: { kind: 'constant', lr: o.lr },
        train: corpusSource(train, o.arch.blockSize),
        freeze: o.freeze,
        logEvery: 1,
      },
      { onStep: (m) => (losses.push(m.loss), gradNorms.push(m.gradNorm)) },
    );
  } catch (e) {
    error = `${(e as Error).name}: ${(e as Error).message}`;
  }
  results.set(o.backend, await snapshotParams(model));
  const params = [...model.params.values()].reduce((a, p) => a + p.size, 0);
  trainer.dispose();
  model.dispose();
  // Everything the run made is owned by the model or the optimizer: nothing is left once both are gone.
  const tensorsAfter = tf.memory().numTensors;
  return {
    backend: tf.getBackend(),
    losses,
    gradNorms,
    tensorsBefore,
    tensorsAfter,
    params,
    simdKernels: bmmKernelActive(),
    threads: report.threads,
    lastLogits,
    error,
  };
}

/** Per-parameter max |Δ| between a backend's final weights and the reference's. */
function compare(backend: string, reference: string): WeightDiff[] {
  const a = results.get(backend)!;
  const b = results.get(reference)!;
  const b0 = initial.get(reference)!;
  return [...b].map(([name, ref]) => {
    const x = a.get(name)!;
    const start = b0.get(name)!;
    let maxAbs = 0;
    let refMax = 0;
    let moved = 0;
    for (let i = 0; i < ref.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(x[i] - ref[i]));
      refMax = Math.max(refMax, Math.abs(ref[i]));
      moved = Math.max(moved, Math.abs(ref[i] - start[i]));
    }
    return { name, maxAbs, refMax, moved };
  });
}

/** Initial weights must be identical on every backend (drawn in JS): max |Δ| over all parameters. */
function initialDiff(backend: string, reference: string): number {
  const a = initial.get(backend)!;
  let max = 0;
  for (const [name, ref] of initial.get(reference)!) {
    const x = a.get(name)!;
    for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(x[i] - ref[i]));
  }
  return max;
}

/**
 * A program that binds more storage buffers than the device allows (addN of 20 tensors), under the
 * guard: the guard must report it. Returns the error message, or null if nothing was reported.
 */
async function rejectedProgram(): Promise<string | null> {
  await chooseBackend('webgpu');
  const guard = new GpuErrorGuard();
  const xs = Array.from({ length: 20 }, (_, i) => tf.fill([4], i));
  const sum = tf.addN(xs);
  await sum.data();
  tf.dispose([...xs, sum]);
  try {
    await guard.check();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export interface BatchOptions {
  backend: BackendName;
  arch: Omit<GPTConfig, 'vocabSize'>;
  seed: number;
  /** Prompt lengths, in characters of the text (each prompt starts at a different place). */
  lengths: number[];
  maxNewTokens: number;
  rowsPerPass: number;
}

export interface BatchReport {
  backend: string;
  /** Each prompt's greedy reply (token ids). */
  replies: number[][];
  /** Forward passes, and the positions the first pass of each chunk of rows read. */
  passes: number;
  leads: number[];
  tensorsBefore: number;
  tensorsAfter: number;
  ms: number;
  error?: string;
}

/**
 * Batched sampling (the quiz's and the held-out replies' path) on a backend: greedy replies of a model drawn from a
 * seed, to prompts of the given lengths, counting the forward passes it takes.
 */
async function batchSample(o: BatchOptions): Promise<BatchReport> {
  const report = await chooseBackend(o.backend);
  if (report.name !== o.backend) throw new Error(`backend ${o.backend} did not start: ${report.reason}`);
  const guard = new GpuErrorGuard();
  const tok = CharTokenizer.fromText(TEXT);
  const ids = tok.encode(TEXT).ids;
  const tensorsBefore = tf.memory().numTensors;
  const model = GPT.create({ ...o.arch, vocabSize: tok.vocabSize }, o.seed);
  const leads: number[] = [];
  let passes = 0;
  const decode = model.decode.bind(model);
  model.decode = (idx, past) => {
    passes++;
    if (!past) leads.push(idx.shape[1]);
    return decode(idx, past);
  };
  const prompts = o.lengths.map((n, i) => Array.from(ids.slice(37 * i, 37 * i + n)));
  let replies: number[][] = [];
  let error: string | undefined;
  const t0 = performance.now();
  try {
    const results = await generateBatch(model, prompts, { maxNewTokens: o.maxNewTokens, temperature: 0, rowsPerPass: o.rowsPerPass });
    await guard.check();
    replies = results.map((r) => r.ids);
  } catch (e) {
    error = `${(e as Error).name}: ${(e as Error).message}`;
  }
  const ms = performance.now() - t0;
  model.dispose();
  return { backend: tf.getBackend(), replies, passes, leads, tensorsBefore, tensorsAfter: tf.memory().numTensors, ms, error };
}

/** Which fused programs the active backend has. */
function fusedAvailable(): Record<string, boolean> {
  return Object.fromEntries(Object.values(FUSED).map((k) => [k, hasFused(k)]));
}

async function fusedCheck(
  kind: 'layerNorm' | 'softmax' | 'gelu' | 'crossEntropy' | 'heads' | 'adamw',
): Promise<{ backend: string; available: Record<string, boolean>; diffs: FusedDiff[]; tensorsBefore: number; tensorsAfter: number }> {
  await chooseBackend('webgpu');
  const guard = new GpuErrorGuard();
  const tensorsBefore = tf.memory().numTensors;
  const diffs = await (kind === 'layerNorm'
    ? fusedLayerNorm()
    : kind === 'softmax'
      ? fusedSoftmax()
      : kind === 'gelu'
        ? fusedGelu()
        : kind === 'crossEntropy'
          ? fusedCrossEntropy()
          : kind === 'heads'
            ? fusedHeads()
            : fusedAdamW());
  await guard.check();
  return { backend: tf.getBackend(), available: fusedAvailable(), diffs, tensorsBefore, tensorsAfter: tf.memory().numTensors };
}

Object.assign(window, { equivalence: { run, compare, initialDiff, rejectedProgram, fusedCheck, batchSample } });
document.body.dataset.ready = 'true';
