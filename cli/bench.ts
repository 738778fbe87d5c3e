/**
 * `npm run bench`: training-step speed on each Node backend, the saving from freezing, a leak check, and
 * sampling speed with and without the key/value cache.
 * Prints a table and writes bench-results/bench.json. Figures only: nothing here passes or fails.
 *
 *   npm run bench                      all backends, tiny and baby
 *   npm run bench -- --backend wasm    one backend
 *   npm run bench -- --backend webgpu --presets baby,small
 *                                      this machine's GPU through Dawn (after npm install --no-save webgpu@0.6.2;
 *                                      cli/webgpuNode.ts), with the page's read-back rule beside one per step
 *   npm run bench -- --steps 20        measured steps per case (after 5 warm-up steps; ms/step is their median)
 *   npm run bench -- --simd off        wasm without the engine's own kernels (stock TF.js ops), to compare
 *   npm run bench -- --threads 1,2     wasm on each of these thread counts, in turn (default: every core)
 *   npm run bench -- --fma off         the plain SIMD matrix product where fused multiply-add is available
 *   npm run bench -- --kernels wait    on threads, each kernel waits for its parts (as before the kernel queue,
 *                                      ops/kernelThreads.ts), to compare with the default, queue
 *   npm run bench -- --matmul          the baby step's products, ours against TF.js's (XNNPACK), per shape and
 *                                      thread count (with --threads)
 *   npm run bench -- --sampling        only the sampling rows (200-token replies at context 256)
 *   npm run bench -- --lesson en,zh --threads 1,2
 *                                      the lesson's wait after "Fine-tune" without the browser: the small-world
 *                                      starter's default fine-tune and the scoring of both models, per thread count
 *                                      (--backend webgpu: on this machine's GPU)
 *   npm run bench -- --ceiling --threads 2 [--lesson zh] [--rounds 3] [--seconds 8]
 *                                      this machine's own limit for the lesson on that many threads: as many
 *                                      independent one-thread copies at once, against one copy, and the engine's
 *                                      threads against it (cli/ceiling.ts)
 *   npm run bench -- --soak 10000      soak: train the tiny model that many steps, then 1,000 sampling
 *                                      calls, printing tensors alive, bytes on the device and JS heap
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseArgs } from 'node:util';
import * as tf from '../src/engine/tf';
import { PRESETS, countParams, type PresetName } from '../src/engine/model/config';
import { GPT } from '../src/engine/model/gpt';
import { generate } from '../src/engine/model/generate';
import { createRng } from '../src/engine/random';
import { corpusSource } from '../src/engine/data/sources';
import { Trainer } from '../src/engine/train/trainer';
import type { FreezePlan } from '../src/engine/train/freeze';
import { allCores, isNodeBackend, NODE_BACKENDS, nodeThreads, useNodeBackend, type NodeBackend } from './backend';
import { bmm, bmmKernelActive } from '../src/engine/ops/bmm';
import { setKernelOverlap, setWasmFma, setWasmKernelsEnabled, wasmFmaActive } from '../src/engine/ops/wasmKernels';
import { pageReadback } from '../src/engine/train/readback';
import { snapshotParams } from '../src/engine/io/checkpoint';
import { nodeGpuName } from './webgpuNode';
import { modelFromCheckpoint } from '../src/engine/io/checkpoint';
import { finetuneSpec, runSeed } from '../src/engine/train/specs';
import { LESSON_SAMPLING } from '../src/engine/train/lesson';
import { sampleReplies } from '../src/engine/eval/dialogue';
import { scoreQuiz } from '../src/engine/eval/knowledge';
import { lessonBench } from './lessonBench';
import { measureCeiling } from './ceiling';
import { median } from './median';

interface Row {
  backend: NodeBackend;
  /** Threads trained on (wasm: the engine's kernel threads). */
  threads: number;
  preset: PresetName;
  freeze: string;
  batch: number;
  blockSize: number;
  params: number;
  /** Median of the measured steps' times. */
  msPerStep: number;
  meanMsPerStep: number;
  /**
   * CPU time a step took (this process, every thread): on a busy machine the one-thread figure that waiting
   * for a core does not inflate. With threads it also counts the kernel threads' spinning between kernels.
   */
  cpuMsPerStep: number;
  /** WebGPU: the mean step with the page's read-back rule (a few read-backs a second), not one per step. */
  pageMsPerStep?: number;
  /** Tokens trained per second: at the page's read-back rule on WebGPU, else at msPerStep. */
  tokensPerSec: number;
  relativeToFull?: number;
  tensorsBefore: number;
  tensorsAfter: number;
  /** Kernels TF.js ran in one step (forward, backward, clipping and AdamW; the tape's clones included). */
  kernelsPerStep?: number;
}

const VOCAB = 65; // shakespeare_char's vocabulary, for comparison with nanoGPT
/** Warm-up steps before the measured ones: as scripts/bench_nanogpt.py's. */
const WARMUP = 5;

async function measure(backend: NodeBackend, preset: PresetName, plan: FreezePlan, steps: number, warmup: number): Promise<Row> {
  const arch = PRESETS[preset];
  const config = { ...arch, vocabSize: VOCAB, dropout: 0 };
  const rng = createRng(1);
  const ids = Int32Array.from({ length: 50_000 }, () => rng.int(VOCAB));
  const model = GPT.create(config, 1);
  const trainer = new Trainer(model, { seed: 1 });
  const batch = 12;
  const spec = { steps: warmup, batchSize: batch, schedule: { kind: 'constant', lr: 1e-4 } as const, train: corpusSource(ids, config.blockSize), freeze: plan };
  await trainer.run(spec);
  const tensorsBefore = tf.memory().numTensors;
  const cpu0 = process.cpuUsage();
  // Each step's own time (the trainer reads every step's statistics back: logEvery 1), and their median, as
  // scripts/bench_nanogpt.py reports nanoGPT's: a garbage collection or the machine's other work in one step
  // does not move it. The mean is kept beside it.
  const stepMs: number[] = [];
  const t0 = performance.now();
  await trainer.run({ ...spec, steps }, { onStep: (m) => void stepMs.push(m.msPerStep) });
  const meanMs = (performance.now() - t0) / steps;
  const ms = median(stepMs);
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / steps;
  // On a GPU a read-back per step makes the CPU wait for the GPU and leaves the GPU idle while the next step is
  // queued: the page reads back by time instead (pageReadback), and that is the rate a student sees.
  let pageMs: number | undefined;
  if (backend === 'webgpu') {
    const t1 = performance.now();
    await trainer.run({ ...spec, steps, ...pageReadback(true) });
    pageMs = (performance.now() - t1) / steps;
  }
  const tensorsAfter = tf.memory().numTensors; // after every measured step, read back either way
  // One more step, profiled, for its kernel count (not timed: profiling adds its own work).
  const profile = await tf.profile(async () => void (await trainer.run({ ...spec, steps: 1 })));
  const kernelsPerStep = profile.kernels.length;
  trainer.dispose();
  model.dispose();
  const label = plan.kind === 'none' ? 'none' : plan.kind === 'bottom' ? `bottom:${plan.k}` : plan.kind === 'top' ? `top:${plan.k}` : plan.kind;
  return {
    backend,
    threads: nodeThreads(),
    preset,
    freeze: label,
    batch,
    blockSize: config.blockSize,
    params: countParams(config),
    msPerStep: ms,
    meanMsPerStep: meanMs,
    cpuMsPerStep: cpuMs,
    pageMsPerStep: pageMs,
    tokensPerSec: (batch * config.blockSize * 1000) / (pageMs ?? ms),
    tensorsBefore,
    tensorsAfter,
    kernelsPerStep,
  };
}

interface LessonRow {
  lang: 'en' | 'zh';
  backend: NodeBackend;
  threads: number;
  steps: number;
  /** The default fine-tune (its evaluations included), then the scoring of both models, as the worker does them. */
  finetuneMs: number;
  scoringMs: number;
  totalMs: number;
  answers: number;
  /** The quiz's knowledge score of the starter and of the fine-tuned model. */
  quizBefore: number;
  quizAfter: number;
}

/**
 * The lesson's wait after "Fine-tune", without the browser: its default fine-tune of the small-world starter (the
 * recipe, batches and evaluations of `npm run cli -- finetune`, which draws the page's batches), then the scoring
 * the worker runs after it (src/worker/run/scoring.ts): both models reply to the held-out prompts and answer the
 * quiz. `npm run lesson-time` times the same in the page.
 */
async function measureLesson(lang: 'en' | 'zh', backend: NodeBackend, threads: number): Promise<LessonRow> {
  await useNodeBackend(backend, { threads });
  const { ckpt, settings, data, prompts, quiz } = lessonBench(lang);
  const score = async (m: GPT) => {
    await sampleReplies(m, ckpt.tokenizer, prompts, { ...LESSON_SAMPLING });
    return (await scoreQuiz(m, ckpt.tokenizer, quiz))!.knowledge;
  };
  let [model, trainer, starter]: [GPT | null, Trainer | null, GPT | null] = [null, null, null];
  try {
    model = modelFromCheckpoint(ckpt);
    trainer = new Trainer(model, { seed: settings.seed });
    trainer.reseed(runSeed(settings.seed, false, ckpt.training.step ?? 0));
    starter = modelFromCheckpoint(ckpt);
    const t0 = performance.now();
    await trainer.run(finetuneSpec(settings, data, ckpt.tokenizer));
    const t1 = performance.now();
    const quizAfter = await score(model);
    const quizBefore = await score(starter);
    const t2 = performance.now();
    return {
      lang,
      backend,
      threads: nodeThreads(),
      steps: settings.steps,
      finetuneMs: t1 - t0,
      scoringMs: t2 - t1,
      totalMs: t2 - t0,
      answers: 2 * (prompts.length + quiz.items.length),
      quizBefore,
      quizAfter,
    };
  } finally {
    trainer?.dispose();
    model?.dispose();
    starter?.dispose();
  }
}

interface Agreement {
  steps: number;
  /** Largest |Δ| of a step's loss, of a final weight, and of the initial model's next-token logits. */
  maxLossDiff: number;
  maxWeightDiff: number;
  maxLogitDiff: number;
  /** The weight bound the browser's backends e2e allows: a tenth of the most AdamW can move a weight in `steps`. */
  weightBound: number;
}

/**
 * Before a GPU's figures: does it train as WebAssembly does? `baby`, the same initial weights and batches on wasm
 * (one thread: the reference the float64 tests check) and on `backend`, as test/e2e/backends.e2e.test.ts does in
 * the browser: per-step losses, final weights, and the initial model's next-token logits.
 */
async function agreement(backend: NodeBackend): Promise<Agreement> {
  const steps = 5;
  const lr = 1e-3;
  const config = { ...PRESETS.baby, vocabSize: VOCAB, dropout: 0 };
  const rng = createRng(7);
  const ids = Int32Array.from({ length: 50_000 }, () => rng.int(VOCAB));
  const train = async (name: NodeBackend) => {
    await useNodeBackend(name);
    const model = GPT.create(config, 7);
    const idx = tf.tensor2d([Array.from(ids.slice(0, config.blockSize))], [1, config.blockSize], 'int32');
    const logits = model.lastLogits(idx); // (1, V)
    const first = await logits.data();
    tf.dispose([idx, logits]);
    const trainer = new Trainer(model, { seed: 7 });
    const losses: number[] = [];
    const spec = { steps, batchSize: 4, schedule: { kind: 'constant', lr } as const, train: corpusSource(ids, config.blockSize), logEvery: 1 };
    await trainer.run(spec, { onStep: (m) => void losses.push(m.loss) });
    const weights = await snapshotParams(model);
    trainer.dispose();
    model.dispose();
    return { losses, weights, logits: first };
  };
  const ref = await train('wasm');
  const got = await train(backend);
  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  return {
    steps,
    maxLossDiff: maxDiff(got.losses, ref.losses),
    maxWeightDiff: Math.max(...[...ref.weights].map(([name, w]) => maxDiff(got.weights.get(name)!, w))),
    maxLogitDiff: maxDiff(got.logits, ref.logits),
    weightBound: 0.1 * steps * lr,
  };
}

interface SampleRow {
  backend: NodeBackend;
  preset: PresetName;
  blockSize: number;
  tokens: number;
  /** Tokens per second of a reply, with the key/value cache and with the whole window recomputed per token. */
  cached: number;
  windowed: number;
}

/** Sampling speed of one reply (200 tokens, or the block), with and without the key/value cache. */
async function measureSampling(backend: NodeBackend, preset: PresetName, blockSize: number): Promise<SampleRow> {
  const model = GPT.create({ ...PRESETS[preset], blockSize, vocabSize: VOCAB, dropout: 0 }, 1);
  const tokens = Math.min(200, blockSize - 8);
  const prompt = Array.from({ length: 8 }, (_, i) => i + 1);
  const time = async (fixedShape: boolean) => {
    await generate(model, prompt, { maxNewTokens: 4, seed: 1, fixedShape }); // warm-up
    const t0 = performance.now();
    await generate(model, prompt, { maxNewTokens: tokens, seed: 1, fixedShape });
    return (tokens * 1000) / (performance.now() - t0);
  };
  // fixedShape recomputes the whole window each token (what GPU backends do); the default uses the cache.
  const row = { backend, preset, blockSize, tokens, cached: await time(false), windowed: await time(true) };
  model.dispose();
  return row;
}

interface SoakPoint {
  phase: 'train' | 'sample';
  /** Steps trained, or sampling calls made. */
  done: number;
  tensors: number;
  deviceBytes: number;
  heapBytes: number;
  elapsedS: number;
}

/**
 * Soak: the tiny model trained `steps` steps, then `calls` sampling calls (20-token replies, cache on),
 * with tensors alive, bytes on the device (tf.memory().numBytes) and the JS heap (after a full garbage
 * collection) measured at the start,
 * every ~tenth of the way, and at the end. Figures only: a leak shows as a column that keeps growing.
 */
async function soak(backend: NodeBackend, steps: number, calls: number): Promise<SoakPoint[]> {
  await useNodeBackend(backend);
  const config = { ...PRESETS.tiny, vocabSize: VOCAB, dropout: 0 };
  const rng = createRng(1);
  const ids = Int32Array.from({ length: 50_000 }, () => rng.int(VOCAB));
  const model = GPT.create(config, 1);
  const trainer = new Trainer(model, { seed: 1 });
  const spec = {
    batchSize: 12,
    schedule: { kind: 'constant', lr: 1e-3 } as const,
    train: corpusSource(ids, config.blockSize),
    logEvery: 1_000_000,
    readbackMs: 250,
  };
  const points: SoakPoint[] = [];
  const t0 = performance.now();
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(2)} MB`;
  // The heap is read after a full collection, so what it shows is what is still reachable, not garbage.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const probe = (phase: SoakPoint['phase'], done: number) => {
    gc();
    const m = tf.memory();
    const p = {
      phase,
      done,
      tensors: m.numTensors,
      deviceBytes: m.numBytes,
      heapBytes: process.memoryUsage().heapUsed,
      elapsedS: (performance.now() - t0) / 1000,
    };
    points.push(p);
    const unit = phase === 'train' ? 'steps' : 'calls';
    console.log(
      `soak ${phase.padEnd(6)} ${String(done).padStart(6)} ${unit}  tensors ${String(p.tensors).padStart(5)}  device ${mb(p.deviceBytes).padStart(9)}  heap ${mb(p.heapBytes).padStart(9)}  ${p.elapsedS.toFixed(0).padStart(5)} s`,
    );
  };
  probe('train', 0);
  const chunk = Math.max(1, Math.round(steps / 10));
  for (let done = 0; done < steps;) {
    const n = Math.min(chunk, steps - done);
    await trainer.run({ ...spec, steps, startStep: done, stopAt: done + n }); // one run, in chunks
    done += n;
    probe('train', done);
  }
  const prompt = [1, 2, 3, 4];
  probe('sample', 0);
  const every = Math.max(1, Math.round(calls / 10));
  for (let c = 1; c <= calls; c++) {
    await generate(model, prompt, { maxNewTokens: 20, seed: c, topK: 10 });
    if (c % every === 0 || c === calls) probe('sample', c);
  }
  trainer.dispose();
  model.dispose();
  return points;
}

interface MatmulRow {
  threads: number;
  shape: string;
  /** GFLOP/s of the engine's kernel, and of TF.js's own matMul (XNNPACK for a 2-D product; B given untransposed). */
  ours: number;
  tfjs: number;
}

/**
 * The products of a baby training step (batch 12, width 128, context 64), each timed as the engine runs it (bmm,
 * which reads transposed operands in place) and as TF.js's matMul would with both operands already laid out for
 * XNNPACK (2-D, untransposed: the transposes themselves not counted, which favours TF.js). Best of 5 × 20 calls.
 */
function measureMatmuls(threads: number): MatmulRow[] {
  const N = 12 * 64;
  // [label, op(A) rows, inner, op(B) columns, batch, transposeA, transposeB]
  const shapes: Array<[string, number, number, number, number, boolean, boolean]> = [
    ['x·W_fcᵀ', N, 128, 512, 1, false, true],
    ['dy·W_fc', N, 512, 128, 1, false, false],
    ['dW_fc = dyᵀ·x', 512, N, 128, 1, true, false],
    ['x·W_qkvᵀ', N, 128, 384, 1, false, true],
    ['q·kᵀ (48 heads)', 64, 32, 64, 48, false, true],
    ['att·v (48 heads)', 64, 64, 32, 48, false, false],
  ];
  const time = (f: () => tf.Tensor): number => {
    tf.dispose(f());
    let best = Infinity;
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) tf.dispose(f());
      best = Math.min(best, (performance.now() - t0) / 20);
    }
    return best;
  };
  return shapes.map(([label, M, K, Ncol, batch, tA, tB]) => {
    const lead = batch > 1 ? [batch] : [];
    const a = tf.randomNormal([...lead, ...(tA ? [K, M] : [M, K])]);
    const b = tf.randomNormal([...lead, ...(tB ? [Ncol, K] : [K, Ncol])]);
    const a2 = tf.randomNormal([...lead, M, K]);
    const b2 = tf.randomNormal([...lead, K, Ncol]);
    const flops = 2 * batch * M * K * Ncol;
    const ours = flops / time(() => bmm(a, b, tA, tB)) / 1e6;
    const tfjs = flops / time(() => tf.matMul(a2, b2)) / 1e6;
    tf.dispose([a, b, a2, b2]);
    const row = { threads, shape: `${label}: ${batch > 1 ? `${batch}×` : ''}(${M}×${K})·(${K}×${Ncol})`, ours, tfjs };
    console.log(
      `${String(threads).padStart(2)}t ${row.shape.padEnd(44)} ours ${ours.toFixed(1).padStart(5)} GFLOP/s   TF.js ${tfjs.toFixed(1).padStart(5)} GFLOP/s`,
    );
    return row;
  });
}

async function main() {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string' },
      steps: { type: 'string' },
      presets: { type: 'string' },
      simd: { type: 'string' },
      fma: { type: 'string' },
      kernels: { type: 'string' },
      threads: { type: 'string' },
      soak: { type: 'string' },
      calls: { type: 'string' },
      sampling: { type: 'boolean' },
      matmul: { type: 'boolean' },
      lesson: { type: 'string' },
      ceiling: { type: 'boolean' },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
    },
  });
  for (const flag of ['simd', 'fma'] as const) {
    if (values[flag] !== undefined && values[flag] !== 'on' && values[flag] !== 'off') throw new Error(`--${flag} takes on or off, not ${values[flag]}`);
  }
  // Off: the stock TF.js ops everywhere, to compare with the engine's own wasm kernels.
  const simd = values.simd !== 'off';
  setWasmKernelsEnabled(simd);
  setWasmFma(values.fma !== 'off');
  if (values.kernels !== undefined && values.kernels !== 'queue' && values.kernels !== 'wait')
    throw new Error(`--kernels takes queue or wait, not ${values.kernels}`);
  // wait: each kernel on threads returns only once its parts are done, as before the queue (to compare).
  setKernelOverlap(values.kernels !== 'wait');
  const threadCounts = (values.threads ?? String(allCores())).split(',').map(Number);
  if (threadCounts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--threads takes whole numbers ≥ 1 separated by commas, not ${values.threads}`);
  if (values.soak !== undefined) {
    const steps = Number(values.soak);
    const calls = Number(values.calls ?? 1000);
    if (!Number.isInteger(steps) || steps < 1) throw new Error(`--soak takes a number of steps ≥ 1, got ${values.soak}`);
    if (!Number.isInteger(calls) || calls < 0) throw new Error(`--calls takes a number of sampling calls ≥ 0, got ${values.calls}`);
    const backend = values.backend ?? 'wasm';
    if (!isNodeBackend(backend)) throw new Error(`unknown backend ${backend}`);
    const points = await soak(backend, steps, calls);
    mkdirSync('bench-results', { recursive: true });
    writeFileSync(
      'bench-results/soak.json',
      JSON.stringify({ date: new Date().toISOString(), backend, preset: 'tiny', batch: 12, steps, calls, node: process.version, points }, null, 2),
    );
    console.log('wrote bench-results/soak.json');
    return;
  }
  if (values.ceiling) {
    const lang = values.lesson ?? 'en';
    if (lang !== 'en' && lang !== 'zh') throw new Error(`--ceiling measures one language's lesson: --lesson en or zh, not ${lang}`);
    const threads = Math.max(...threadCounts);
    const rounds = Number(values.rounds ?? 3);
    const seconds = Number(values.seconds ?? 8);
    if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds takes a whole number ≥ 1, not ${values.rounds}`);
    if (!(seconds > 0)) throw new Error(`--seconds takes a number of seconds > 0, not ${values.seconds}`);
    console.log(
      `the lesson's fine-tuning steps (${lang}), ${seconds} s windows: one copy on one thread, ${threads} copies at once, one copy on ${threads} threads`,
    );
    const result = await measureCeiling(lang, threads, rounds, seconds, (r) =>
      console.log(
        `  steps/s: one ${r.one.toFixed(1)}, ${threads} copies ${r.copies.toFixed(1)} (×${(r.copies / r.one).toFixed(2)}), ${threads} threads ${r.threaded.toFixed(1)} (×${(r.threaded / r.one).toFixed(2)})`,
      ),
    );
    console.log(
      `ceiling: ${threads} independent copies run ×${result.ceiling.toFixed(2)} one copy's steps; the engine's ${threads} threads ×${result.scaling.toFixed(2)} ` +
        `(${((100 * (result.scaling - 1)) / (result.ceiling - 1)).toFixed(0)} % of the gain the machine allows; ratios of the medians of ${rounds} rounds)`,
    );
    mkdirSync('bench-results', { recursive: true });
    writeFileSync(
      'bench-results/ceiling.json',
      JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, ...result }, null, 2),
    );
    console.log('wrote bench-results/ceiling.json');
    return;
  }
  if (values.lesson !== undefined) {
    const langs = values.lesson.split(',');
    for (const l of langs) if (l !== 'en' && l !== 'zh') throw new Error(`--lesson takes en, zh or en,zh, not ${values.lesson}`);
    const backend = values.backend ?? 'wasm';
    if (!isNodeBackend(backend)) throw new Error(`unknown backend ${backend}`);
    const rows: LessonRow[] = [];
    for (const lang of langs as LessonRow['lang'][]) {
      for (const threads of backend === 'wasm' ? threadCounts : [1]) {
        const row = await measureLesson(lang, backend, threads);
        rows.push(row);
        const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
        console.log(
          `lesson ${lang} ${backend === 'wasm' ? `${String(row.threads).padStart(2)}t` : backend}: fine-tune (${row.steps} steps) ${(row.finetuneMs / 1000).toFixed(2)} s + scoring (${row.answers} answers) ` +
            `${(row.scoringMs / 1000).toFixed(2)} s = ${(row.totalMs / 1000).toFixed(2)} s; quiz ${pct(row.quizBefore)} → ${pct(row.quizAfter)}`,
        );
      }
    }
    mkdirSync('bench-results', { recursive: true });
    writeFileSync(
      'bench-results/lesson.json',
      JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, rows }, null, 2),
    );
    console.log('wrote bench-results/lesson.json');
    return;
  }
  if (values.matmul) {
    const rows: MatmulRow[] = [];
    for (const threads of threadCounts) {
      await useNodeBackend('wasm', { threads });
      rows.push(...measureMatmuls(threads));
    }
    mkdirSync('bench-results', { recursive: true });
    writeFileSync(
      'bench-results/matmul.json',
      JSON.stringify(
        { date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, fma: wasmFmaActive(), rows },
        null,
        2,
      ),
    );
    console.log('wrote bench-results/matmul.json');
    return;
  }
  const backends = values.backend ? [values.backend] : [...NODE_BACKENDS];
  for (const b of backends) if (!isNodeBackend(b)) throw new Error(`unknown backend ${b}`);
  const presets = (values.presets ?? 'tiny,baby').split(',') as PresetName[];
  const rows: Row[] = [];
  let gpu: string | undefined;
  const runs = (values.sampling ? [] : (backends as NodeBackend[])).flatMap((backend) =>
    (backend === 'wasm' ? threadCounts : [1]).map((threads) => ({ backend, threads })),
  );
  let agreed: Agreement | undefined;
  if (backends.includes('webgpu') && !values.sampling) {
    agreed = await agreement('webgpu');
    console.log(
      `webgpu against wasm (baby, same weights and batches, ${agreed.steps} steps): max |Δloss| ${agreed.maxLossDiff.toExponential(1)}, ` +
        `max |Δw| ${agreed.maxWeightDiff.toExponential(1)} (the e2e's bound ${agreed.weightBound.toExponential(1)}), max |Δlogit| ${agreed.maxLogitDiff.toExponential(1)}`,
    );
  }
  for (const { backend, threads } of runs) {
    await useNodeBackend(backend, { threads });
    if (backend === 'webgpu') {
      gpu = await nodeGpuName();
      console.log(`webgpu (Dawn in Node) on ${gpu}`);
    }
    if (backend === 'wasm') {
      console.log(
        `wasm on ${nodeThreads()} thread${nodeThreads() === 1 ? '' : 's'}: the engine's kernels (SIMD matmul, GELU, AdamW; fused LayerNorm, softmax, cross-entropy, head split) ` +
          `${bmmKernelActive() ? `on, fused multiply-add ${wasmFmaActive() ? 'on' : 'off'}` : 'off'}`,
      );
    }
    for (const preset of presets) {
      // The pure-JS cpu backend is ~10× slower: fewer steps keep the benchmark to minutes. 30 otherwise, as
      // scripts/bench_nanogpt.py measures nanoGPT's.
      const steps = Number(values.steps ?? (backend === 'cpu' ? (preset === 'tiny' ? 10 : 3) : preset === 'tiny' ? 40 : 30));
      const L = PRESETS[preset].nLayer;
      const plans: FreezePlan[] = [{ kind: 'none' }, { kind: 'bottom', k: Math.floor(L / 2) }, { kind: 'top', k: 1 }];
      let full = 0;
      for (const plan of plans) {
        const row = await measure(backend, preset, plan, steps, WARMUP);
        if (plan.kind === 'none') full = row.msPerStep;
        row.relativeToFull = row.msPerStep / full;
        rows.push(row);
        const page = row.pageMsPerStep === undefined ? '' : `, read back as the page: ${row.pageMsPerStep.toFixed(1)}`;
        console.log(
          `${backend.padEnd(5)} ${backend === 'wasm' ? `${String(row.threads).padStart(2)}t` : '   '} ${preset.padEnd(5)} freeze ${row.freeze.padEnd(9)} ${row.msPerStep.toFixed(1).padStart(8)} ms/step (mean ${row.meanMsPerStep.toFixed(1)}, CPU ${row.cpuMsPerStep.toFixed(1)}${page}) ` +
            `${Math.round(row.tokensPerSec).toString().padStart(7)} tok/s  ×${row.relativeToFull.toFixed(2)} of full  tensors ${row.tensorsBefore}→${row.tensorsAfter}  ${row.kernelsPerStep} kernels/step`,
        );
      }
    }
  }
  const sampling: SampleRow[] = [];
  for (const backend of backends as NodeBackend[]) {
    if (backend === 'cpu') continue; // minutes per reply without the cache
    await useNodeBackend(backend, { threads: threadCounts[threadCounts.length - 1] });
    for (const preset of presets) {
      const row = await measureSampling(backend, preset, 256);
      sampling.push(row);
      console.log(
        `${backend.padEnd(5)} ${preset.padEnd(5)} sampling ${row.tokens} tokens at context ${row.blockSize}: ${row.cached.toFixed(0)} tok/s with the KV cache, ${row.windowed.toFixed(0)} tok/s recomputing the window (×${(row.cached / row.windowed).toFixed(1)})`,
      );
    }
  }
  mkdirSync('bench-results', { recursive: true });
  const report = {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    node: process.version,
    gpu,
    agreement: agreed,
    tfjs: tf.version_core,
    simdKernels: simd,
    fma: values.fma !== 'off',
    threads: threadCounts,
    batch: 12,
    vocab: VOCAB,
    rows,
    sampling,
  };
  writeFileSync('bench-results/bench.json', JSON.stringify(report, null, 2));
  console.log('\nwrote bench-results/bench.json');
  // Measured side by side on the 2-core CI machine type (README, "Where that leaves a step"); the script runs it anywhere.
  console.log(
    'reference: nanoGPT/PyTorch, baby config, batch 12, on the 2-core CI machine type (2026-12-04): 62 ms/step on one thread, 47.5 at its best on two; ' +
      'python3 scripts/bench_nanogpt.py measures it on this machine',
  );
}

// Exit explicitly: the threaded wasm build's own threads (XNNPACK's pool) would keep Node running after the last line.
main().then(
  () => process.stdout.write('', () => process.exit(0)),
  (e) => {
    console.error(`error: ${(e as Error).message}`);
    process.exit(1);
  },
);
