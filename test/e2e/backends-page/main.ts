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
import type { BackendName } from '../../../src/worker/protocol';
import { FUSED, hasFused, setFusedKernels } from '../../../src/engine/ops/fused';
import { sumOfSquares } from '../../../src/engine/ops/sum';
import { crossEntropyRows, gelu, layerNorm } from '../../../src/engine/model/layers';
import { maskedSoftmax } from '../../../src/engine/model/attention';
import { AdamW, StepGuard } from '../../../src/engine/train/adamw';
import { createRng } from '../../../src/engine/random';

const TEXT = Array.from({ length: 200 }, (_, i) => `Call me Ishmael. Some years ago, never mind how long precisely, I went to sea ${i % 7} times; the whale ${i % 3 ? 'spouted' : 'dived'}.\n`).join('');

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
  const trainer = new Trainer(model, { seed: o.seed, checkDevice: () => guard.check() });
  const losses: number[] = [];
  const gradNorms: number[] = [];
  let error: string | undefined;
  try {
    await trainer.run(
      { steps: o.steps, batchSize: o.batchSize, schedule: { kind: 'constant', lr: o.lr }, train: corpusSource(train, o.arch.blockSize), freeze: o.freeze, logEvery: 1 },
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
  return { backend: tf.getBackend(), losses, gradNorms, tensorsBefore, tensorsAfter, params, error };
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

/** One compared quantity: the fused programs' result against the stock ops' on the same backend. */
export interface FusedDiff {
  name: string;
  /** max |fused − stock| */
  maxAbs: number;
  /** max |stock|, for scale */
  refMax: number;
  /** Elements compared (a guard against comparing empty arrays). */
  size: number;
  /** Whether the two are bit-identical (for the NaN guard: nothing may change). */
  identical: boolean;
}

function diff(name: string, fused: ArrayLike<number>, stock: ArrayLike<number>): FusedDiff {
  if (fused.length !== stock.length) throw new Error(`${name}: ${fused.length} vs ${stock.length} elements`);
  let maxAbs = 0;
  let refMax = 0;
  let identical = true;
  for (let i = 0; i < stock.length; i++) {
    const d = Math.abs(fused[i] - stock[i]);
    maxAbs = Number.isNaN(d) ? Infinity : Math.max(maxAbs, d);
    refMax = Math.max(refMax, Math.abs(stock[i]));
    if (!Object.is(fused[i], stock[i])) identical = false;
  }
  return { name, maxAbs, refMax, size: stock.length, identical };
}

/** Run `f` with the fused programs on, then off (the stock ops), on the active backend; values read back. */
async function both<T>(f: () => Promise<T>): Promise<{ fused: T; stock: T }> {
  try {
    setFusedKernels(true);
    const fused = await f();
    setFusedKernels(false);
    const stock = await f();
    return { fused, stock };
  } finally {
    setFusedKernels(true);
  }
}

const randn = (rng: ReturnType<typeof createRng>, shape: number[], scale = 1) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale), shape);

/** LayerNorm forward and its gradients (x, weight, bias), random inputs, odd widths. */
async function fusedLayerNorm(): Promise<FusedDiff[]> {
  const out: FusedDiff[] = [];
  for (const [shape, withBias] of [[[3, 5, 37], true], [[2, 7, 130], false], [[1, 1, 1], true], [[4, 200], true]] as [number[], boolean][]) {
    const rng = createRng(shape.reduce((a, b) => a * 31 + b, 7));
    const C = shape[shape.length - 1];
    const x = randn(rng, shape, 2).add(0.5);
    const w = randn(rng, [C]).add(1);
    const b = randn(rng, [C], 0.3);
    const dy = randn(rng, shape);
    const { fused, stock } = await both(async () => {
      const ys = tf.tidy(() => {
        const f = (xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) => layerNorm(xs, ws, withBias ? bs : undefined);
        const y = f(x, w, b);
        const grads = tf.grads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) => f(xs, ws, bs).mul(dy).sum())([x, w, b]);
        return [y, ...grads.slice(0, withBias ? 3 : 2)];
      });
      const values = await Promise.all(ys.map((t) => t.data()));
      tf.dispose(ys);
      return values;
    });
    const names = ['y', 'dx', 'dweight', 'dbias'];
    fused.forEach((v, i) => out.push(diff(`layerNorm [${shape}]${withBias ? ' bias' : ''} ${names[i]}`, v, stock[i])));
    tf.dispose([x, w, b, dy]);
  }
  return out;
}

/** Causal softmax forward and gradient: training (T = S) and sampling with a cache (S = P + T). */
async function fusedSoftmax(): Promise<FusedDiff[]> {
  const out: FusedDiff[] = [];
  for (const shape of [[2, 3, 7, 7], [1, 2, 5, 9], [3, 1, 1, 1], [1, 1, 65, 65]]) {
    const rng = createRng(shape.reduce((a, b) => a * 17 + b, 3));
    const [T, S] = shape.slice(-2);
    const maskValues = new Float32Array(T * S);
    for (let i = 0; i < T; i++) for (let j = 0; j < S; j++) maskValues[i * S + j] = j <= i + S - T ? 0 : -1e9;
    const mask = tf.tensor2d(maskValues, [T, S]);
    const s = randn(rng, shape, 3);
    const dy = randn(rng, shape);
    const { fused, stock } = await both(async () => {
      const ys = tf.tidy(() => {
        const y = maskedSoftmax(s, mask);
        const [ds] = tf.grads((xs: tf.Tensor) => maskedSoftmax(xs, mask).mul(dy).sum())([s]);
        return [y, ds];
      });
      const values = await Promise.all(ys.map((t) => t.data()));
      tf.dispose(ys);
      return values;
    });
    out.push(diff(`softmax [${shape}] y`, fused[0], stock[0]), diff(`softmax [${shape}] dscores`, fused[1], stock[1]));
    tf.dispose([mask, s, dy]);
  }
  return out;
}

/** GELU forward and gradient, wide range of inputs (erf's tails), odd sizes. */
async function fusedGelu(): Promise<FusedDiff[]> {
  const out: FusedDiff[] = [];
  for (const shape of [[3, 5, 37], [1], [2, 257]]) {
    const rng = createRng(shape.length * 101 + shape[0]);
    const x = randn(rng, shape, 3);
    const dy = randn(rng, shape);
    const { fused, stock } = await both(async () => {
      const ys = tf.tidy(() => [gelu(x), ...tf.grads((xs: tf.Tensor) => gelu(xs).mul(dy).sum())([x])]);
      const values = await Promise.all(ys.map((t) => t.data()));
      tf.dispose(ys);
      return values;
    });
    out.push(diff(`gelu [${shape}] y`, fused[0], stock[0]), diff(`gelu [${shape}] dx`, fused[1], stock[1]));
    tf.dispose([x, dy]);
  }
  return out;
}

/** Cross-entropy per row and its gradient: odd row counts and vocabularies (one smaller than a workgroup, one several times larger). */
async function fusedCrossEntropy(): Promise<FusedDiff[]> {
  const out: FusedDiff[] = [];
  for (const [N, V] of [[37, 65], [5, 301], [1, 2]]) {
    const rng = createRng(N * 1000 + V);
    const z = randn(rng, [N, V], 4);
    const t = tf.tensor1d(Int32Array.from({ length: N }, () => rng.int(V)), 'int32');
    const dy = randn(rng, [N]);
    const { fused, stock } = await both(async () => {
      const ys = tf.tidy(() => [crossEntropyRows(z as tf.Tensor2D, t), ...tf.grads((zs: tf.Tensor) => crossEntropyRows(zs as tf.Tensor2D, t).mul(dy).sum())([z])]);
      const values = await Promise.all(ys.map((x) => x.data()));
      tf.dispose(ys);
      return values;
    });
    out.push(diff(`crossEntropy [${N}, ${V}] nll`, fused[0], stock[0]), diff(`crossEntropy [${N}, ${V}] dlogits`, fused[1], stock[1]));
    tf.dispose([z, t, dy]);
  }
  return out;
}

const ADAM_SHAPES = [[37, 19], [130], [1], [5, 3], [64, 3], [300], [2, 2, 7], [129]];

/**
 * AdamW: three steps of one group of 8 parameters (more than one launch's inputs, so the running sums
 * carry), then a step whose loss is NaN (must change nothing). Compares parameters, moments, the update's
 * squared norm and the gradient norm each step. clip 1 with gradients of norm > 1, so clipping acts.
 */
async function fusedAdamW(): Promise<FusedDiff[]> {
  type Run = { params: Float32Array[]; norms: number[]; gradNorms: number[]; moments: Float32Array[]; beforeNaN: Float32Array[]; afterNaN: Float32Array[]; nanNorm: number; momentsAfterNaN: Float32Array[] };
  const { fused, stock } = await both(async (): Promise<Run> => {
    const rng = createRng(11);
    const params = ADAM_SHAPES.map((shape, i) => tf.variable(randn(rng, shape, 0.5), true, `adam-test-${i}-${Math.random()}`));
    const opt = new AdamW();
    const norms: number[] = [];
    const gradNorms: number[] = [];
    const step = async (loss: number, lr: number) => {
      const grads = ADAM_SHAPES.map((shape) => randn(rng, shape, 0.3));
      const [norm, gradNorm] = tf.tidy(() => {
        const gn = sumOfSquares(grads).sqrt() as tf.Scalar;
        const guard = new StepGuard(tf.scalar(loss), gn, 1);
        const norm = opt.step(params.map((param, i) => ({ name: `p${i}`, param, grad: grads[i] })), lr, guard);
        guard.dispose();
        return [norm, gn];
      });
      const values = [(await norm.data())[0], (await gradNorm.data())[0]];
      tf.dispose([norm, gradNorm, ...grads]);
      return values;
    };
    for (const lr of [1e-2, 3e-3, 1e-2]) {
      const [n, g] = await step(2.5, lr);
      norms.push(n);
      gradNorms.push(g);
    }
    const read = () => Promise.all(params.map(async (p) => (await p.data()) as Float32Array));
    const momentsOf = async () => [...(await opt.save()).values()].flatMap((s) => [s.m, s.v]);
    const beforeNaN = await read();
    const moments = await momentsOf();
    const [nanNorm] = await step(NaN, 1e-2);
    const afterNaN = await read();
    const momentsAfterNaN = await momentsOf();
    opt.dispose();
    tf.dispose(params);
    return { params: beforeNaN, norms, gradNorms, moments, beforeNaN, afterNaN, nanNorm, momentsAfterNaN };
  });
  const out: FusedDiff[] = [];
  fused.params.forEach((p, i) => out.push(diff(`adamw param [${ADAM_SHAPES[i]}]`, p, stock.params[i])));
  fused.moments.forEach((m, i) => out.push(diff(`adamw ${i % 2 ? 'v' : 'm'} [${ADAM_SHAPES[i >> 1]}]`, m, stock.moments[i])));
  out.push(diff('adamw update norm² per step', fused.norms, stock.norms));
  out.push(diff('gradient norm per step', fused.gradNorms, stock.gradNorms));
  // The NaN step: the fused run's own parameters and moments stay bit-identical, and its norm is 0.
  fused.afterNaN.forEach((p, i) => out.push(diff(`NaN step leaves param [${ADAM_SHAPES[i]}]`, p, fused.beforeNaN[i])));
  fused.momentsAfterNaN.forEach((m, i) => out.push(diff(`NaN step leaves moment ${i}`, m, fused.moments[i])));
  out.push(diff('NaN step update norm²', [fused.nanNorm], [0]));
  return out;
}

/** Which fused programs the active backend has. */
function fusedAvailable(): Record<string, boolean> {
  return Object.fromEntries(Object.values(FUSED).map((k) => [k, hasFused(k)]));
}

async function fusedCheck(kind: 'layerNorm' | 'softmax' | 'gelu' | 'crossEntropy' | 'adamw'): Promise<{ backend: string; available: Record<string, boolean>; diffs: FusedDiff[]; tensorsBefore: number; tensorsAfter: number }> {
  await chooseBackend('webgpu');
  const guard = new GpuErrorGuard();
  const tensorsBefore = tf.memory().numTensors;
  const diffs = await (kind === 'layerNorm' ? fusedLayerNorm() : kind === 'softmax' ? fusedSoftmax() : kind === 'gelu' ? fusedGelu() : kind === 'crossEntropy' ? fusedCrossEntropy() : fusedAdamW());
  await guard.check();
  return { backend: tf.getBackend(), available: fusedAvailable(), diffs, tensorsBefore, tensorsAfter: tf.memory().numTensors };
}

Object.assign(window, { equivalence: { run, compare, initialDiff, rejectedProgram, fusedCheck } });
document.body.dataset.ready = 'true';
