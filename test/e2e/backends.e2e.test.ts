/**
 * Cross-backend equivalence at lesson sizes: the engine's Trainer, in Chromium, from the same initial
 * weights and the same batches on WebAssembly (the reference: it matches the float64 reference forward
 * pass and nanoGPT), WebGL and WebGPU (software adapters here; the programs are the ones a real GPU runs).
 *
 * Sizes: nanoGPT's `baby` (4 layers: 27 parameter tensors in the gradient norm, well over WebGPU's 8
 * storage buffers per program) and the `tiny` preset, with and without bias (bias adds 12 tensors per
 * block sum), with freeze plans that change which tensors train. Batch 2 keeps the software GPUs quick:
 * the bug this guards against depends on the number of tensors, not the batch.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { previewTestPage, serverUrl, startTestPage, type App } from './harness';
import { PRESETS } from '../../src/engine/model/config';
import type { BatchOptions, BatchReport, RunOptions, RunReport, WeightDiff } from './backends-page/main';

let app: App;
let page: Page;
const ROOT = resolve('test/e2e/backends-page');
const OUT = resolve('test-results/backends-page');

beforeAll(async () => {
  // Served cross-origin isolated, as the app is (WebAssembly, the reference, trains on every core where there are 2+).
  app = await startTestPage(ROOT, OUT);
  const context = await app.browser.newContext();
  page = await context.newPage();
  await page.goto(app.url);
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
}, 300_000);

afterAll(async () => {
  await app?.close();
});

type Api = {
  run(o: RunOptions): Promise<RunReport>;
  compare(backend: string, reference: string): WeightDiff[];
  initialDiff(backend: string, reference: string): number;
  rejectedProgram(): Promise<string | null>;
  batchSample(o: BatchOptions): Promise<BatchReport>;
};
const api = <T>(fn: (a: Api, arg: never) => T | Promise<T>, arg?: unknown, on: Page = page): Promise<T> =>
  on.evaluate(
    ([src, a]) =>
      (new Function('api', 'arg', `return (${src})(api, arg)`) as (api: unknown, arg: unknown) => T)(
        (window as unknown as { equivalence: Api }).equivalence,
        a,
      ),
    [fn.toString(), arg] as const,
  );

const LR = 1e-3;
const STEPS = 3;
const CASES: { name: string; opts: Omit<RunOptions, 'backend'> }[] = [
  { name: 'baby', opts: { arch: PRESETS.baby, batchSize: 2, steps: STEPS, lr: LR, freeze: { kind: 'none' }, seed: 7 } },
  {
    name: 'baby, bias, bottom 2 frozen',
    opts: { arch: { ...PRESETS.baby, bias: true }, batchSize: 2, steps: STEPS, lr: LR, freeze: { kind: 'bottom', k: 2 }, seed: 8 },
  },
  { name: 'tiny', opts: { arch: PRESETS.tiny, batchSize: 4, steps: STEPS, lr: LR, freeze: { kind: 'none' }, seed: 9 } },
  {
    name: 'tiny, bias, progressive unfreezing',
    opts: { arch: { ...PRESETS.tiny, bias: true }, batchSize: 4, steps: STEPS, lr: LR, freeze: { kind: 'progressive', every: 1 }, seed: 10 },
  },
];

describe.each(CASES)('$name trains the same on every backend', ({ opts }) => {
  let reference: RunReport;

  beforeAll(async () => {
    reference = await api((a, o: RunOptions) => a.run(o), { ...opts, backend: 'wasm' });
    expect(reference.error).toBeUndefined();
    expect(reference.losses).toHaveLength(STEPS);
    // The reference itself runs the engine's SIMD kernels (batched matmul, GELU, AdamW), so the GPU
    // backends are checked against them too.
    expect(reference.simdKernels).toBe(true);
  }, 300_000);

  it.each(['webgl', 'webgpu'] as const)(
    '%s: per-step losses within 1e-3 and final weights within the tolerance of WebAssembly’s',
    async (backend) => {
      const r = await api((a, o: RunOptions) => a.run(o), { ...opts, backend });
      expect(r.backend).toBe(backend);
      // A rejected GPU program is reported, not trained over.
      expect(r.error).toBeUndefined();
      expect(r.tensorsAfter).toBe(r.tensorsBefore);
      expect(await api((a, b: string) => a.initialDiff(b, 'wasm'), backend)).toBe(0);
      // The same weights give the same next-token logits past the context and within it (sampling's lastLogits).
      expect(r.lastLogits).toHaveLength(reference.lastLogits.length);
      const logitErr = Math.max(...r.lastLogits.map((v, i) => Math.abs(v - reference.lastLogits[i])));
      expect(logitErr, 'next-token logits against WebAssembly').toBeLessThan(1e-4);
      expect(r.losses).toHaveLength(STEPS);
      r.losses.forEach((l, i) => expect(Math.abs(l - reference.losses[i]), `step ${i}: ${l} vs ${reference.losses[i]}`).toBeLessThan(1e-3));
      r.gradNorms.forEach((g, i) => expect(Math.abs(g - reference.gradNorms[i]) / reference.gradNorms[i], `grad norm at step ${i}`).toBeLessThan(1e-3));
      // Weights: every AdamW step moves a weight by at most ≈ lr (|m̂/√v̂| ≤ 1), so after STEPS steps the
      // weights sit within STEPS·lr of where they started. Float32 round-off in the gradients (~1e-6
      // relative) changes m̂/√v̂ by far less than 1, except where a gradient is ~0 and its sign is noise.
      // Tolerance: 10% of the largest possible movement (STEPS·lr), and on average far less (checked too).
      // Skipped GPU work leaves weights unmoved or half-moved, a difference of up to the whole movement.
      const diffs = await api((a, b: string) => a.compare(b, 'wasm'), backend);
      const bound = 0.1 * STEPS * LR;
      for (const d of diffs) expect(d.maxAbs, `${d.name}: max |Δ| ${d.maxAbs} (moved ${d.moved})`).toBeLessThan(bound);
      const worstLoss = Math.max(...r.losses.map((l, i) => Math.abs(l - reference.losses[i])));
      console.info(
        `${backend}: max |Δloss| ${worstLoss.toExponential(1)}, max |Δw| ${Math.max(...diffs.map((d) => d.maxAbs)).toExponential(1)} (bound ${bound.toExponential(1)})`,
      );
      const trained = diffs.filter((d) => d.moved > 0);
      expect(trained.length).toBeGreaterThan(0);
    },
    600_000,
  );
});

it('a GPU program the device rejects is reported by the guard, not ignored', async () => {
  const message = await api((a) => a.rejectedProgram());
  expect(message).toMatch(/GPU rejected/);
}, 120_000);

it('WebAssembly trains the same cross-origin isolated (every core, with the kernels) as not (one thread)', async () => {
  const opts: RunOptions = { ...CASES[0].opts, backend: 'wasm' };
  const server = await previewTestPage(ROOT, OUT, { isolated: false });
  const context = await app.browser.newContext();
  try {
    const single = await context.newPage();
    await single.goto(serverUrl(server));
    await single.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const threaded = await api((a, o: RunOptions) => a.run(o), opts);
    const one = await api((a, o: RunOptions) => a.run(o), opts, single);
    expect(threaded.threads).toBe(cores >= 2 ? Math.min(cores, 16) : 1); // the worker's rule (src/worker/backend.ts)
    expect(one.threads).toBe(1);
    // The engine's kernels run on both: the threaded build's heap is shared, and they split their work over its threads.
    expect(threaded.simdKernels).toBe(true);
    expect(one.simdKernels).toBe(true);
    expect(one.error).toBeUndefined();
    expect(threaded.error).toBeUndefined();
    // Threads split each kernel's output between them; every element is still computed by one thread.
    threaded.losses.forEach((l, i) => expect(Math.abs(l - one.losses[i]), `step ${i}`).toBeLessThan(1e-5));
  } finally {
    await context.close();
    await new Promise<void>((done) => server.httpServer.close(() => done()));
  }
}, 300_000);

describe('batched sampling (the quiz and the held-out replies) gives the same replies on every backend', () => {
  // Two chunks of rows; each chunk's shortest prompt (5, then 6 characters) is what its first pass can read at once.
  // `tiny` keeps WebGL, which compiles a program for every new length of the cache, within seconds.
  const opts: Omit<BatchOptions, 'backend'> = {
    arch: PRESETS.tiny,
    seed: 11,
    lengths: [5, 8, 5, 11, 6, 14, 7, 9, 6, 12],
    maxNewTokens: 6,
    rowsPerPass: 6,
  };
  let reference: BatchReport;

  beforeAll(async () => {
    reference = await api((a, o: BatchOptions) => a.batchSample(o), { ...opts, backend: 'wasm' });
    expect(reference.error).toBeUndefined();
    expect(reference.leads).toEqual([5, 6]);
    expect(reference.replies.map((r) => r.length)).toEqual(opts.lengths.map(() => opts.maxNewTokens));
  }, 300_000);

  it.each(['webgl', 'webgpu'] as const)(
    '%s: the replies WebAssembly gives, in as many passes as its shapes allow',
    async (backend) => {
      const r = await api((a, o: BatchOptions) => a.batchSample(o), { ...opts, backend });
      expect(r.backend).toBe(backend);
      expect(r.error).toBeUndefined();
      expect(r.tensorsAfter).toBe(r.tensorsBefore);
      expect(r.replies).toEqual(reference.replies);
      if (backend === 'webgpu') {
        // Shapes are uniforms there: the prompts' common positions in one pass, as on WebAssembly.
        expect(r.leads).toEqual(reference.leads);
        expect(r.passes).toBe(reference.passes);
      } else {
        // WebGL compiles a program per shape: one position a pass, from the first.
        expect(r.leads).toEqual([1, 1]);
        expect(r.passes).toBe(reference.passes + (5 - 1) + (6 - 1));
      }
      console.info(`${backend}: ${r.passes} passes in ${Math.round(r.ms)} ms (WebAssembly ${reference.passes} in ${Math.round(reference.ms)} ms)`);
    },
    600_000,
  );
});
