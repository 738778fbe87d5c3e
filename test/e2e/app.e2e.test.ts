/**
 * End-to-end: the production build in headless Debian Chromium, one feature per test so that the first
 * failure does not hide the rest. A feature that needs a trained model shares one prepared page (a
 * `beforeAll`) with the other checks of its group instead of training again; every page is closed in an
 * `afterAll` or a `finally`, and screenshots go only to the ignored `test-results/`.
 */
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  backendReport,
  createModel,
  download,
  firstLastLoss,
  idle,
  newPage,
  pretrain,
  progressStep,
  ready,
  sample,
  startPretraining,
  autosavedAt,
  trainingWorker,
  withPage,
  type Opened,
  untilRunEnds,
  runEndedSince,
  runStopped,
  runsEnded,
} from './harness';
import { appForFile } from './appForFile';
import { readSafetensors } from '../../src/engine/io/safetensors';

const app = appForFile();

const TINY = 'layers=2&heads=2&embd=32&block=32&batch=8&lr=0.01&schedule=constant&eval=10';
/** Small enough for the software WebGPU adapter. */
const TINY_GPU = 'layers=1&heads=2&embd=16&block=16&batch=4&lr=0.02&schedule=constant&eval=4';

const backendOf = (page: Page) => page.getAttribute('[data-testid=backend-status]', 'data-backend');
const waitForBackend = (page: Page, name: string) =>
  page.waitForFunction((n) => document.querySelector('[data-testid=backend-status]')?.getAttribute('data-backend') === n, name, { timeout: 120_000 });

/** Every tensor of two files, bit for bit: the names that differ. */
function differingTensors(a: Uint8Array, b: Uint8Array): string[] {
  const ta = readSafetensors(a).tensors;
  const tb = readSafetensors(b).tensors;
  const names = new Set([...ta.keys(), ...tb.keys()]);
  return [...names].filter((n) => !ta.has(n) || !tb.has(n) || !Buffer.from(ta.get(n)!.data.buffer).equals(Buffer.from(tb.get(n)!.data.buffer)));
}

describe('pretraining on WebAssembly, sampling, export → import', () => {
  // One 150-step run on one page, shared by the checks below.
  let shared: Opened;
  let longTasks: number[] = [];

  beforeAll(async () => {
    shared = await newPage(app, `?backend=wasm&${TINY}`);
    const { page } = shared;
    await ready(page);
    await createModel(page);
    // Count from the first points on: the first chart render (code compiling) is a one-off, not training.
    const started = page
      .waitForFunction(() => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) > 0, null, { timeout: 60_000 })
      .then(() => page.evaluate(() => performance.now()));
    const run = pretrain(page, 150);
    run.catch(() => undefined); // awaited below; a failure while waiting for `started` must not go unhandled
    const t0 = await started;
    // a screenshot mid-training, to look at (the README's is chosen by hand)
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= 70, null, { timeout: 60_000 });
    await page.screenshot({ path: 'test-results/screenshots/pretraining.png', fullPage: false }); // ignored folder: tests never rewrite tracked files
    await run;
    longTasks = await page.evaluate((start) => {
      const a = (window as unknown as { __longTasks: number[] }).__longTasks;
      const out: number[] = [];
      for (let i = 0; i < a.length; i += 2) if (a[i] >= start) out.push(a[i + 1]);
      return out;
    }, t0);
  }, 400_000);

  afterAll(async () => {
    await shared?.context.close();
  });

  it('trains on WebAssembly when asked to: the loss falls and samples are drawn during the run', async () => {
    const { page, errors } = shared;
    expect(await backendOf(page)).toBe('wasm');
    const [first, last] = await firstLastLoss(page);
    expect(last).toBeLessThan(first - 0.3);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=sample-strip] li').length >= 2, null, { timeout: 10_000 });
    // A figure to read, not a check: how often the main thread was busy > 50 ms depends on the machine's load.
    console.log(`wasm: long tasks (> 50 ms) on the main thread while training 150 steps: ${longTasks.length} [${longTasks.join(', ')}] ms`);
    expect(errors).toEqual([]);
  });

  it('samples: a reply with a fixed seed comes back the same', async () => {
    const { page, errors } = shared;
    const text = await sample(page, 'The ', 7);
    expect(text.length).toBeGreaterThan(20);
    expect(await sample(page, 'The ', 7)).toBe(text);
    expect(errors).toEqual([]);
  });

  it('export → import: the file has the nanoGPT layout, and a fresh page that loads it gives the same reply', async () => {
    const { page, errors } = shared;
    const reply = await sample(page, 'Call me ', 11);
    const bytes = await download(page, () => page.click('[data-testid=export-model]'));
    const st = readSafetensors(bytes);
    expect(JSON.parse(st.metadata.model_args)).toMatchObject({ n_layer: 2, n_head: 2, n_embd: 32, block_size: 32 });
    expect(st.tensors.get('lm_head.weight')!.data).toEqual(st.tensors.get('transformer.wte.weight')!.data);
    // a fresh page, a fresh model (other weights), then the file: the same reply comes back
    await withPage(app, `?backend=wasm&${TINY}&seed=99`, async (second) => {
      await ready(second.page);
      await createModel(second.page);
      await second.page.setInputFiles('[data-testid=import-model]', {
        name: 'model.safetensors',
        mimeType: 'application/octet-stream',
        buffer: Buffer.from(bytes),
      });
      await second.page.waitForSelector('[data-testid=notice]:has-text("Loaded model.safetensors")', { timeout: 60_000 });
      expect(await sample(second.page, 'Call me ', 11)).toBe(reply);
      expect(second.errors).toEqual([]);
    });
    expect(errors).toEqual([]);
  }, 200_000);
});

describe('pretraining on the GPU backends (software adapters here)', () => {
  it(
    'pretrains on WebGL',
    () =>
      withPage(app, `?backend=webgl&${TINY}`, async ({ page, errors }) => {
        await ready(page);
        expect(await backendOf(page)).toBe('webgl');
        await createModel(page);
        await pretrain(page, 30);
        const [first, last] = await firstLastLoss(page);
        expect(last).toBeLessThan(first - 0.2);
        expect(errors).toEqual([]);
      }),
    400_000,
  );

  it(
    'pretrains on WebGPU (a small case: the adapter is software)',
    () =>
      withPage(app, `?backend=webgpu&${TINY_GPU}`, async ({ page, errors }) => {
        await ready(page);
        expect(await backendOf(page)).toBe('webgpu');
        await createModel(page);
        await pretrain(page, 20, { timeout: 400_000, sampleEvery: 0 });
        const [first, last] = await firstLastLoss(page);
        expect(last).toBeLessThan(first);
        expect(errors).toEqual([]);
      }),
    600_000,
  );

  it(
    'on a slow GPU (seconds a step) Stop takes effect at the end of the step under way, not after ten queued steps',
    () =>
      // ~2 s a step on the software WebGL adapter: the device, not the loop, sets the pace.
      withPage(app, '?backend=webgl&layers=4&heads=4&embd=128&block=64&batch=12&eval=0', async ({ page, errors }) => {
        await ready(page);
        await createModel(page);
        await startPretraining(page, 100_000);
        await page.waitForFunction(() => Number(document.querySelector('[data-testid=pretrain-progress]')?.textContent?.match(/Step (\d+)/)?.[1]) >= 3, null, {
          timeout: 300_000,
        });
        const shown = await progressStep(page);
        await page.click('[data-testid=pretrain-stop]');
        await page.waitForSelector('[data-testid=pretrain-start]:not([disabled])', { timeout: 300_000 });
        // The step under way ends the run (one more, where the click fell between a step's read-back and the
        // page's update); the steps a GPU loop had queued ahead (10 or more) would show here.
        expect(await progressStep(page)).toBeLessThanOrEqual(shown + 2);
        expect(errors).toEqual([]);
      }),
    400_000,
  );
});

describe('backends', () => {
  it(
    'chooses the backend its probes call for (hardware WebGPU, else hardware WebGL, else WebAssembly) and says why',
    () =>
      withPage(app, '', async ({ page, errors }) => {
        await ready(page);
        const report = await backendReport(page);
        const { probes } = report;
        const expected = probes.webgpu.hardware ? 'webgpu' : probes.webgl.hardware ? 'webgl' : 'wasm';
        console.info(`backend probes: ${JSON.stringify(probes)} → ${report.name}`);
        expect(report.forced).toBe(false);
        expect(report.name).toBe(expected);
        expect(await backendOf(page)).toBe(expected);
        // The header names each faster backend passed over, with what its probe found, then the one chosen.
        const shown = (await page.textContent('[data-testid=backend-status]'))!;
        const gpus = ['webgpu', 'webgl'] as const;
        const passedOver = expected === 'wasm' ? gpus : gpus.slice(0, gpus.indexOf(expected));
        for (const b of passedOver) expect(shown).toContain(probes[b].detail);
        expect(shown).toContain(expected === 'wasm' ? 'using WebAssembly' : probes[expected].detail);
        // The worker's probes see what the page sees: a WebGPU adapter and a WebGL2 context, or neither.
        const seen = await page.evaluate(async () => {
          const gpu = (navigator as unknown as { gpu?: { requestAdapter(o?: object): Promise<unknown> } }).gpu;
          const adapter = gpu ? await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null) : null;
          return { webgpu: adapter !== null, webgl: new OffscreenCanvas(1, 1).getContext('webgl2') !== null };
        });
        expect({ webgpu: probes.webgpu.available, webgl: probes.webgl.available }).toEqual(seen);
        expect(errors).toEqual([]);
      }),
    200_000,
  );

  it(
    'switching the backend keeps the model: the same weights come back on the new backend',
    () =>
      withPage(app, `?backend=wasm&${TINY}`, async ({ page, errors }) => {
        await ready(page);
        await createModel(page);
        await pretrain(page, 10, { sampleEvery: 0 });
        const before = await download(page, () => page.click('[data-testid=export-model]'));
        await page.selectOption('[data-testid=backend-select]', 'webgl');
        await waitForBackend(page, 'webgl');
        await page.waitForSelector('[data-testid=model-info]:has-text("10 steps trained")', { timeout: 60_000 });
        const after = await download(page, () => page.click('[data-testid=export-model]'));
        expect(differingTensors(before, after)).toEqual([]);
        expect(errors).toEqual([]);
      }),
    300_000,
  );
});

it(
  'switches the language, and the link keeps it',
  () =>
    withPage(app, '?backend=wasm', async ({ page, errors }) => {
      await ready(page);
      await page.selectOption('[data-testid=lang-select]', 'zh');
      await page.waitForSelector('h1:has-text("小小 GPT 训练场")');
      expect(await page.textContent('#data-title')).toContain('数据');
      expect(page.url()).toContain('lang=zh');
      await page.selectOption('[data-testid=lang-select]', 'en');
      await page.waitForSelector('h1:has-text("Small GPT")');
      expect(page.url()).toContain('lang=en');
      expect(errors).toEqual([]);
    }),
  200_000,
);

describe('bad uploads are refused, each with its own message, and nothing is lost', () => {
  let shared: Opened;
  const corpusInfo = () => shared.page.textContent('[data-testid=corpus-info]');
  // Over the limit: a sparse file in the ignored test-results/, given to the browser by path (no 20 MB copy).
  const big = 'test-results/e2e/big.txt';

  beforeAll(async () => {
    mkdirSync(dirname(big), { recursive: true });
    writeFileSync(big, '');
    truncateSync(big, 20 * 1024 * 1024 + 1);
    shared = await newPage(app, `?backend=wasm&${TINY}&pairs=sailor-quick`);
    await ready(shared.page);
    await createModel(shared.page);
    await shared.page.waitForSelector('[data-testid=pairs-info]', { timeout: 60_000 });
  }, 200_000);

  afterAll(async () => {
    await shared?.context.close();
  });

  const CORPUS_CASES: { what: string; name: string; bytes?: Buffer; message: RegExp }[] = [
    {
      what: 'a binary file',
      name: 'photo.txt',
      bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 0xff, 0xfe]),
      message: /photo\.txt is not UTF-8 text/,
    },
    {
      what: 'UTF-8 with NUL bytes',
      name: 'nul.txt',
      bytes: Buffer.from('words and\u0000more words '.repeat(100)),
      message: /nul\.txt looks binary \(it contains NUL bytes, the first at character \d+\)/,
    },
    { what: 'an empty file', name: 'empty.txt', bytes: Buffer.alloc(0), message: /empty\.txt is empty/ },
    { what: 'a text too short to train on', name: 'short.txt', bytes: Buffer.from('Call me Ishmael.'), message: /short\.txt is too short to train on/ },
    { what: 'a file over the size limit', name: 'big.txt', message: /big\.txt is 20\.0 MB; the limit is 20 MB/ },
  ];

  it.each(CORPUS_CASES)(
    'corpus: $what',
    async ({ name, bytes, message }) => {
      const { page, errors } = shared;
      const before = await corpusInfo();
      await page.setInputFiles('[data-testid=corpus-upload]', bytes ? { name, mimeType: 'text/plain', buffer: bytes } : big);
      await page.waitForFunction((n) => document.querySelector('[data-testid=data-error]')?.textContent?.includes(n), name, { timeout: 30_000 });
      expect(await page.textContent('[data-testid=data-error]')).toMatch(message);
      expect(await corpusInfo()).toBe(before);
      expect(errors).toEqual([]);
    },
    60_000,
  );

  it('pairs: a file with no readable line names the line and keeps the current pairs', async () => {
    const { page, errors } = shared;
    const before = await page.textContent('[data-testid=pairs-info]');
    await page.setInputFiles('[data-testid=pairs-upload]', { name: 'bad.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from('{"prompt": oops}\n') });
    await page.waitForSelector('[data-testid=pairs-error]', { timeout: 30_000 });
    expect(await page.textContent('[data-testid=pairs-error]')).toMatch(/line 1: not valid JSON/);
    expect(await page.textContent('[data-testid=pairs-info]')).toBe(before);
    expect(errors).toEqual([]);
  }, 60_000);

  it('pairs: a bad line among good ones is reported by its number, and the good lines are used', async () => {
    const { page, errors } = shared;
    await page.setInputFiles('[data-testid=pairs-upload]', {
      name: 'mixed.jsonl',
      mimeType: 'application/jsonl',
      buffer: Buffer.from('{"prompt":"a","response":"b"}\n{"prompt": oops}\n{"prompt":"c","response":"d"}\n'),
    });
    await page.waitForSelector('text=line 2: not valid JSON', { timeout: 30_000 });
    await page.waitForSelector('[data-testid=pairs-info]:has-text("2 pairs")', { timeout: 30_000 });
    expect(errors).toEqual([]);
  }, 60_000);

  it('model file: a file that is not safetensors is refused and the current model stays', async () => {
    const { page, errors } = shared;
    const before = await page.textContent('[data-testid=model-info]');
    // Where a student is when loading a file: at Save / load, far below the header.
    await page.locator('#save-title').scrollIntoViewIfNeeded();
    await page.setInputFiles('[data-testid=import-model]', {
      name: 'notes.safetensors',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('these are my notes, not a model'),
    });
    await page.waitForSelector('[data-testid=notice]:has-text("Could not load notes.safetensors")', { timeout: 30_000 });
    expect(await page.textContent('[data-testid=notice]')).toMatch(/not a valid safetensors file/);
    // …and the refusal shows there, in the window, not in the banners above the page's top.
    const box = (await page.locator('[data-testid=notice]').boundingBox())!;
    const viewport = page.viewportSize()!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
    await page.click('[data-testid=notice] button'); // dismissed, it leaves nothing over the page
    expect(await page.locator('[data-testid=notice]').count()).toBe(0);
    expect(await page.textContent('[data-testid=model-info]')).toBe(before);
    expect(errors).toEqual([]);
  }, 60_000);
});

it(
  'resumes after a reload mid-run from the autosave, without page or console errors',
  () =>
    withPage(app, `?backend=wasm&${TINY}`, async ({ page, errors, consoleErrors }) => {
      await ready(page);
      await createModel(page);
      await page.fill('#autosave-every', '10');
      await startPretraining(page, 5000);
      await autosavedAt(page, 20);
      // mid-run: the tab goes away without a pause
      expect(await page.isEnabled('[data-testid=pretrain-pause]')).toBe(true);
      await page.reload();
      await page.waitForSelector('[data-testid=resume-banner]', { timeout: 60_000 });
      await page.click('[data-testid=resume-autosave]');
      await page.waitForSelector('[data-testid=notice]:has-text("Restored")', { timeout: 60_000 });
      const resumedAt = Number((await page.textContent('[data-testid=notice]'))!.match(/step (\d+)/)![1]);
      expect(resumedAt).toBeGreaterThanOrEqual(20);
      await page.waitForSelector(`[data-testid=model-info]:has-text("${resumedAt} steps trained")`, { timeout: 10_000 });
      // the chart history came back with the weights
      await page.waitForFunction((n) => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= n, resumedAt, {
        timeout: 10_000,
      });
      // the run continues from there, not from zero
      await page.click('[data-testid=pretrain-resume]');
      await page.waitForFunction((n) => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= n + 10, resumedAt, {
        timeout: 120_000,
      });
      expect(await progressStep(page)).toBeGreaterThan(resumedAt);
      await untilRunEnds(page, () => page.click('[data-testid=pretrain-stop]'), 30_000);
      expect(errors).toEqual([]);
      expect(consoleErrors).toEqual([]);
    }),
  400_000,
);

describe('fine-tuning with freezing', () => {
  // One pretrained model (60 steps, with its pretraining curve on the chart), shared by the checks below.
  let shared: Opened;

  beforeAll(async () => {
    shared = await newPage(app, `?backend=wasm&${TINY}&pairs=sailor-quick`);
    const { page } = shared;
    await ready(page);
    await createModel(page);
    await pretrain(page, 60, { sampleEvery: 0 });
    await page.waitForSelector('[data-testid=pairs-info]', { timeout: 60_000 });
    // Replies (chat, and the held-out answers scored after each run) stop at 40 characters: keeps the tests short.
    await page.fill('[data-testid=chat-max-tokens]', '40');
  }, 300_000);

  afterAll(async () => {
    await shared?.context.close();
  });

  // A run left going by a failed check does not block the next one.
  beforeEach(async () => {
    if (shared) await idle(shared.page);
  }, 90_000);

  it('progressive unfreezing: the diagram shows groups frozen, then learning, live; the chart marks the boundary and each unfreeze', async () => {
    const { page, errors } = shared;
    const markers = () => page.evaluate(() => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-markers') ?? 0));
    const markersBefore = await markers();
    // top group first, one more every 60 steps (2 blocks: 3 levels)
    await page.check('[data-testid=freeze-progressive]');
    await page.fill('[data-testid=progressive-every]', '60');
    await page.fill('[data-testid=finetune-steps]', '240');
    await page.fill('[data-testid=finetune-eval-every]', '40');
    await page.fill('[data-testid=finetune-sample-every]', '0');
    expect(await page.getAttribute('[data-testid=group-embeddings]', 'data-state')).toBe('frozen');
    const ended = await runsEnded(page);
    await page.click('[data-testid=finetune-start]');
    // live: block 1 starts frozen with a zero update, then learns
    await page.waitForSelector('[data-testid=norm-block\\.0]', { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=diagram-mode]')?.getAttribute('data-mode') === 'live', null, { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="group-block.0"]')?.getAttribute('data-state') === 'learning', null, {
      timeout: 120_000,
    });
    await runEndedSince(page, ended);
    // the pretrain → fine-tune boundary and two unfreeze events
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-markers')) >= n + 3, markersBefore, {
      timeout: 10_000,
    });
    expect(await page.textContent('[data-testid=trainable-share]')).toMatch(/parameters learn/);
    expect(errors).toEqual([]);
  }, 300_000);

  it('before / after: the pretrained snapshot and the fine-tuned model answer side by side', async () => {
    const { page, errors } = shared;
    if (!(await page.isEnabled('[data-testid=chat-compare]'))) {
      // No fine-tuning has run on this page yet (a check above failed early): a short one makes the snapshot.
      await page.fill('[data-testid=finetune-steps]', '10');
      await untilRunEnds(page, () => page.click('[data-testid=finetune-start]'), 180_000);
    }
    const count = (role: string) => page.locator(`[data-testid=msg-${role}]`).count();
    const [snapshots, models] = [await count('snapshot'), await count('model')];
    await page.check('[data-testid=chat-compare]');
    await page.fill('[data-testid=chat-prompt]', 'What is a whale?');
    await page.click('[data-testid=chat-send]');
    await page.waitForFunction(
      ([s, m]) => document.querySelectorAll('[data-testid=msg-snapshot]').length > s && document.querySelectorAll('[data-testid=msg-model]').length > m,
      [snapshots, models],
      { timeout: 60_000 },
    );
    await page.waitForSelector('[data-testid=chat-send]:not([disabled])', { timeout: 60_000 });
    expect([await count('snapshot'), await count('model')]).toEqual([snapshots + 1, models + 1]);
    await page.uncheck('[data-testid=chat-compare]');
    expect(errors).toEqual([]);
  }, 200_000);

  it('Compare runs the plans that differ, from the same snapshot: each scored on held-out prompts, uniquely named, overlaid', async () => {
    const { page, errors } = shared;
    await page.waitForSelector('[data-testid=compare-start]:not([disabled])', { timeout: 10_000 });
    // Over 20 steps, progressive unfreezing every 60 never unfreezes and is the plan "top block only" is, which is
    // "bottom half frozen" on 2 blocks — so three distinct plans run, then LoRA, then the long full fine-tune.
    await page.check('[data-testid=freeze-progressive]');
    await page.fill('[data-testid=progressive-every]', '60');
    await page.fill('[data-testid=finetune-steps]', '20');
    await page.fill('[data-testid=finetune-eval-every]', '10');
    const rowsBefore = await page.locator('[data-testid=run-row]').count();
    await page.click('[data-testid=compare-start]');
    await page.waitForFunction(
      (n) => [...document.querySelectorAll('[data-testid=run-row]')].slice(n).filter((r) => r.querySelector('[data-status=done]')).length >= 5,
      rowsBefore,
      { timeout: 300_000 },
    );
    await runStopped(page);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=compare-chart]')?.getAttribute('data-curves')) >= 3, null, {
      timeout: 10_000,
    });
    const rows = page.locator('[data-testid=run-row]');
    expect(await rows.count()).toBe(rowsBefore + 5);
    const names = await page.locator('[data-testid=run-row] [data-testid=run-name]').evaluateAll((els) => els.map((e) => e.textContent));
    expect(names.slice(rowsBefore)).toEqual([
      'full fine-tune',
      'bottom 1 frozen',
      'embeddings frozen',
      'LoRA, rank 8 (α 16)',
      'full, long (5× steps, lr 0.002)',
    ]);
    expect(new Set(names).size).toBe(names.length);
    // Each drawn run's row carries its curves' colour, one colour a run (the chart has eight).
    const colors = await page.locator('[data-testid=run-row] .run-swatch').evaluateAll((els) => els.map((e) => e.getAttribute('data-color')));
    const strokes = await page.locator('[data-testid=compare-chart] path.recharts-line-curve').evaluateAll((els) => els.map((e) => e.getAttribute('stroke')));
    for (const c of colors.slice(rowsBefore)) expect(strokes).toContain(c);
    expect(new Set(colors.slice(rowsBefore)).size).toBe(5);
    // Every compared run was scored on the held-out prompts, before → after.
    for (let i = rowsBefore; i < rowsBefore + 5; i++) expect(await rows.nth(i).locator('[data-testid=run-format]').getAttribute('data-after')).not.toBe('');
    expect(errors).toEqual([]);
  }, 400_000);

  it('frozen tensors are bit-identical after fine-tuning with the bottom block frozen; the rest learn', async () => {
    const { page, errors } = shared;
    const before = await download(page, () => page.click('[data-testid=export-model]'));
    await page.check('[data-testid=freeze-bottom]'); // k = 1: embeddings and block 1 frozen
    await page.fill('[data-testid=finetune-steps]', '20');
    await page.fill('[data-testid=finetune-eval-every]', '10');
    await untilRunEnds(page, () => page.click('[data-testid=finetune-start]'));
    const after = await download(page, () => page.click('[data-testid=export-model]'));
    expect(JSON.parse(readSafetensors(after).metadata.training).freezePlan).toEqual({ kind: 'bottom', k: 1 });
    const changed = differingTensors(before, after);
    const frozen = ['transformer.wte.weight', 'transformer.wpe.weight', 'transformer.h.0.'];
    expect(changed.filter((n) => frozen.some((f) => n.startsWith(f)))).toEqual([]);
    expect(changed).toContain('transformer.h.1.attn.c_attn.weight');
    expect(changed).toContain('transformer.h.1.mlp.c_fc.weight');
    expect(errors).toEqual([]);
  }, 300_000);

  it('Fine-tune names the run it would go on from; ticked "from the pretrained snapshot", it trains the snapshot: frozen tensors are the snapshot’s, not the current ones', async () => {
    const { page, errors } = shared;
    // The runs above left the model past its snapshot (a comparison's long full fine-tune changed every tensor).
    const snapshot = await download(page, () => page.click('[data-testid=export-snapshot]'));
    const current = await download(page, () => page.click('[data-testid=export-model]'));
    const lastName = await page.locator('[data-testid=run-row] [data-testid=run-name]').last().textContent();
    expect(await page.textContent('[data-testid=ft-continue-from]')).toContain(`after “${lastName}”`);
    await page.check('[data-testid=ft-from-snapshot]');
    expect(await page.isVisible('[data-testid=ft-continue-from]')).toBe(false);
    await page.check('[data-testid=freeze-bottom]'); // k = 1: embeddings and block 1 frozen
    await page.fill('[data-testid=finetune-steps]', '20');
    await page.fill('[data-testid=finetune-eval-every]', '10');
    try {
      await untilRunEnds(page, () => page.click('[data-testid=finetune-start]'));
    } finally {
      await page.uncheck('[data-testid=ft-from-snapshot]');
    }
    const after = await download(page, () => page.click('[data-testid=export-model]'));
    const frozen = ['transformer.wte.weight', 'transformer.wpe.weight', 'transformer.h.0.'];
    const isFrozen = (n: string) => frozen.some((f) => n.startsWith(f));
    expect(differingTensors(snapshot, after).filter(isFrozen)).toEqual([]);
    expect(differingTensors(current, after).filter(isFrozen)).toContain('transformer.wte.weight');
    expect(errors).toEqual([]);
  }, 300_000);
});

describe('faults rehearsed', () => {
  const recoverOn = (page: Page, backend: string) => page.click(`[data-testid=crash-banner] button:has-text("${backend}")`);

  /** After a recovery: the autosave came back (step ≥ saved) and the run goes on from there. */
  async function resumesFrom(page: Page, saved: number): Promise<void> {
    await page.waitForSelector('[data-testid=notice]:has-text("Restored")', { timeout: 60_000 });
    const restored = Number((await page.textContent('[data-testid=notice]'))!.match(/step (\d+)/)![1]);
    expect(restored).toBeGreaterThanOrEqual(saved);
    await page.waitForSelector(`[data-testid=model-info]:has-text("${restored} steps trained")`, { timeout: 10_000 });
    expect(await page.locator('[data-testid=crash-banner]').count()).toBe(0);
    await page.click('[data-testid=pretrain-resume]');
    await page.waitForFunction(
      (n) => Number(document.querySelector('[data-testid=pretrain-progress]')?.textContent?.match(/Step (\d+)/)?.[1]) >= n + 3,
      restored,
      { timeout: 120_000 },
    );
    await untilRunEnds(page, () => page.click('[data-testid=pretrain-stop]'), 30_000);
  }

  it(
    'a worker crash mid-run: the page says so, offers the autosave, and continuing brings the model back',
    () =>
      withPage(app, `?backend=wasm&${TINY}`, async ({ page, errors }) => {
        await ready(page);
        await createModel(page);
        await page.fill('#autosave-every', '5');
        await startPretraining(page, 5000);
        const saved = await autosavedAt(page, 10);
        // The worker falls silent and throws an uncaught error: what the page sees of a crashed worker.
        await trainingWorker(page).evaluate(() => {
          self.postMessage = () => undefined;
          setTimeout(() => {
            throw new Error('simulated crash');
          });
        });
        await page.waitForSelector('[data-testid=crash-banner]:has-text("simulated crash")', { timeout: 30_000 });
        expect(await page.isDisabled('[data-testid=pretrain-pause]')).toBe(true);
        await recoverOn(page, 'wasm');
        await waitForBackend(page, 'wasm');
        await resumesFrom(page, saved);
        expect(errors).toEqual([]);
      }),
    300_000,
  );

  it(
    'a learning rate that blows up: the run stops, says what to change, and keeps the last finite weights',
    () =>
      withPage(app, `?backend=wasm&${TINY.replace('lr=0.01', 'lr=1000')}`, async ({ page, errors }) => {
        await ready(page);
        await createModel(page);
        await page.fill('[data-testid=pretrain-steps]', '50');
        await page.fill('[data-testid=pretrain-sample-every]', '0');
        await page.click('[data-testid=pretrain-start]');
        await page.waitForSelector('[data-testid=notice]:has-text("training stopped at step")', { timeout: 60_000 });
        expect(await page.textContent('[data-testid=notice]')).toMatch(/Try a lower learning rate/);
        await runStopped(page, 30_000);
        expect(await progressStep(page)).toBeLessThan(50);
        const st = readSafetensors(await download(page, () => page.click('[data-testid=export-model]')));
        const notFinite = [...st.tensors].filter(([, t]) => !t.data.every((x) => Number.isFinite(x))).map(([n]) => n);
        expect(notFinite).toEqual([]);
        expect(errors).toEqual([]);
      }),
    200_000,
  );

  it(
    'a lost WebGPU device mid-run: the page offers the autosave and the run goes on on WebAssembly',
    () =>
      withPage(app, `?backend=webgpu&${TINY_GPU}`, async ({ page, errors }) => {
        await ready(page);
        expect(await backendOf(page)).toBe('webgpu');
        await createModel(page);
        await page.fill('#autosave-every', '2');
        await startPretraining(page, 1000);
        const saved = await autosavedAt(page, 2, 300_000);
        // TF.js keeps its engine on the worker's global scope; its WebGPU backend holds the device.
        await trainingWorker(page).evaluate(() =>
          (self as unknown as { _tfengine: { backend: { device: { destroy(): void } } } })._tfengine.backend.device.destroy(),
        );
        await page.waitForSelector('[data-testid=crash-banner]:has-text("GPU device was lost")', { timeout: 60_000 });
        await recoverOn(page, 'wasm');
        await waitForBackend(page, 'wasm');
        await resumesFrom(page, saved);
        expect(errors).toEqual([]);
      }),
    500_000,
  );
});
