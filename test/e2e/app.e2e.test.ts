/**
 * End-to-end: the production build in headless Debian Chromium. Pretraining on each backend, sampling,
 * export → import, reload and resume, language switch, invalid uploads, and fine-tuning with freezing.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { newPage, ready, startApp, type App } from './harness';
import { readSafetensors } from '../../src/engine/io/safetensors';

let app: App;

beforeAll(async () => {
  app = await startApp();
}, 300_000);

afterAll(async () => {
  await app?.close();
});

const TINY = 'layers=2&heads=2&embd=32&block=32&batch=8&lr=0.01&schedule=constant&eval=10';

async function createModel(page: Page): Promise<void> {
  await page.click('[data-testid=create-model]');
  await page.waitForSelector('[data-testid=model-info]', { timeout: 60_000 });
}

async function pretrain(page: Page, steps: number, opts: { timeout?: number; sampleEvery?: number } = {}): Promise<void> {
  const timeout = opts.timeout ?? 180_000;
  await page.fill('[data-testid=pretrain-steps]', String(steps));
  await page.fill('[data-testid=pretrain-sample-every]', String(opts.sampleEvery ?? Math.max(1, Math.floor(steps / 2))));
  await page.click('[data-testid=pretrain-start]');
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= n, steps, { timeout });
  await page.waitForSelector('[data-testid=pretrain-start]:not([disabled])', { timeout: 60_000 });
}

/** First and last logged train loss, from the chart's CSV export (the same data the chart draws). */
async function firstLastLoss(page: Page): Promise<[number, number]> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Export chart data (CSV)')]);
  const csv = readFileSync((await download.path())!, 'utf8').trim().split('\n');
  const steps = csv.slice(1).map((l) => l.split(',')).filter((c) => c[2] === 'step').map((c) => Number(c[5]));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const k = Math.max(1, Math.floor(steps.length / 5));
  return [mean(steps.slice(0, k)), mean(steps.slice(-k))];
}

async function sample(page: Page, prompt: string, seed: number): Promise<string> {
  await page.fill('[data-testid=chat-prompt]', prompt);
  await page.fill('[data-testid=chat-seed]', String(seed));
  const before = await page.locator('[data-testid=msg-model]').count();
  await page.click('[data-testid=chat-send]');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=msg-model]').length > n, before);
  await page.waitForSelector('[data-testid=chat-send]:not([disabled])', { timeout: 60_000 });
  return (await page.locator('[data-testid=msg-model] pre').last().textContent()) ?? '';
}

describe('playground in Chromium', () => {
  it('pretrains on WASM without blocking the page, samples, and round-trips export → import', async () => {
    const { page, context, errors } = await newPage(app, `?backend=wasm&${TINY}`);
    await ready(page);
    expect(await page.getAttribute('[data-testid=backend-status]', 'data-backend')).toBe('wasm');
    await createModel(page);
    // Count from the first points on: the first chart render (code compiling) is a one-off, not training.
    const started = page.waitForFunction(() => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) > 0, null, { timeout: 60_000 }).then(() => page.evaluate(() => performance.now()));
    const run = pretrain(page, 150);
    const t0 = await started;
    // a screenshot mid-training, to look at (the README's is chosen by hand)
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= 70, null, { timeout: 60_000 });
    await page.screenshot({ path: 'test-results/screenshots/pretraining.png', fullPage: false }); // ignored folder: tests never rewrite tracked files
    await run;
    const longTasks = await page.evaluate((start) => {
      const a = (window as unknown as { __longTasks: number[] }).__longTasks;
      const out: number[] = [];
      for (let i = 0; i < a.length; i += 2) if (a[i] >= start) out.push(a[i + 1]);
      return out;
    }, t0);
    console.log(`wasm: long tasks (> 50 ms) on the main thread while training 150 steps: ${longTasks.length} [${longTasks.join(', ')}] ms`);
    expect(longTasks.length).toBeLessThanOrEqual(5);
    const [first, last] = await firstLastLoss(page);
    expect(last).toBeLessThan(first - 0.3);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=sample-strip] li').length >= 2);

    const text = await sample(page, 'The ', 7);
    expect(text.length).toBeGreaterThan(20);
    expect(await sample(page, 'The ', 7)).toBe(text);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-model]')]);
    const file = (await download.path())!;
    const st = readSafetensors(new Uint8Array(readFileSync(file)));
    expect(JSON.parse(st.metadata.model_args)).toMatchObject({ n_layer: 2, n_head: 2, n_embd: 32, block_size: 32 });
    expect(st.tensors.get('lm_head.weight')!.data).toEqual(st.tensors.get('transformer.wte.weight')!.data);

    // a fresh page, a fresh model, then the file: the same sample comes back
    const second = await newPage(app, `?backend=wasm&${TINY}`);
    await ready(second.page);
    await createModel(second.page);
    await second.page.setInputFiles('[data-testid=import-model]', file);
    await second.page.waitForSelector('[data-testid=notice]:has-text("Loaded")');
    expect(await sample(second.page, 'The ', 7)).toBe(text);
    expect(errors).toEqual([]);
    await second.context.close();
    await context.close();
  }, 400_000);

  it('pretrains on WebGL', async () => {
    const { page, context, errors } = await newPage(app, `?backend=webgl&${TINY}`);
    await ready(page);
    expect(await page.getAttribute('[data-testid=backend-status]', 'data-backend')).toBe('webgl');
    await createModel(page);
    await pretrain(page, 30);
    const [first, last] = await firstLastLoss(page);
    expect(last).toBeLessThan(first - 0.2);
    // switching backend keeps the model: it is saved, the worker restarts on WASM, and the model comes back
    await page.selectOption('[data-testid=backend-select]', 'wasm');
    await page.waitForFunction(() => document.querySelector('[data-testid=backend-status]')?.getAttribute('data-backend') === 'wasm', null, { timeout: 60_000 });
    await page.waitForSelector('[data-testid=model-info]:has-text("30 steps trained")', { timeout: 60_000 }).catch(async (e) => {
      throw new Error(`${(e as Error).message}; model: ${await page.locator('[data-testid=model-info]').allTextContents()}; notice: ${await page.locator('[data-testid=notice]').allTextContents()}`);
    });
    expect(errors).toEqual([]);
    await context.close();
  }, 400_000);

  it('pretrains on WebGPU (software adapter here, so a small case)', async () => {
    const { page, context, errors } = await newPage(app, '?backend=webgpu&layers=1&heads=2&embd=16&block=16&batch=4&lr=0.02&schedule=constant&eval=4');
    await ready(page);
    expect(await page.getAttribute('[data-testid=backend-status]', 'data-backend')).toBe('webgpu');
    await createModel(page);
    await pretrain(page, 20, { timeout: 400_000, sampleEvery: 0 });
    const [first, last] = await firstLastLoss(page);
    expect(last).toBeLessThan(first);
    expect(errors).toEqual([]);
    await context.close();
  }, 600_000);

  it('resumes after a reload mid-run from the autosave', async () => {
    const { page, context } = await newPage(app, `?backend=wasm&${TINY}`);
    await ready(page);
    await createModel(page);
    await page.fill('#autosave-every', '10');
    await page.fill('[data-testid=pretrain-steps]', '5000');
    await page.fill('[data-testid=pretrain-sample-every]', '0');
    await page.click('[data-testid=pretrain-start]');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=autosave-status]')?.textContent?.match(/step (\d+)/)?.[1] ?? 0) >= 20, null, { timeout: 120_000 });
    // mid-run: the tab goes away without a pause
    expect(await page.isEnabled('[data-testid=pretrain-pause]')).toBe(true);
    await page.reload();
    await page.waitForSelector('[data-testid=resume-banner]', { timeout: 60_000 });
    await page.click('[data-testid=resume-autosave]');
    await page.waitForSelector('[data-testid=notice]:has-text("Restored")', { timeout: 60_000 });
    const resumedAt = Number((await page.textContent('[data-testid=notice]'))!.match(/step (\d+)/)![1]);
    expect(resumedAt).toBeGreaterThanOrEqual(20);
    // the chart history came back with the weights
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= n, resumedAt, { timeout: 10_000 });
    // step once: exactly one more step, then paused again
    await page.click('text=Step once');
    await page.waitForSelector(`[data-testid=pretrain-progress]:has-text("Step ${resumedAt + 1} /")`, { timeout: 60_000 });
    await page.waitForSelector('[data-testid=pretrain-resume]:not([disabled])', { timeout: 60_000 });
    // the run continues from there, not from zero
    await page.click('[data-testid=pretrain-resume]');
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= n + 10, resumedAt, { timeout: 120_000 });
    const progress = (await page.textContent('[data-testid=pretrain-progress]'))!;
    expect(Number(progress.match(/Step (\d+)/)![1])).toBeGreaterThan(resumedAt);
    await page.click('[data-testid=pretrain-stop]');
    await context.close();
  }, 400_000);

  it('chooses a backend automatically and says why; switches language; explains bad uploads', async () => {
    const { page, context } = await newPage(app, '');
    await ready(page);
    // This machine has only software GPUs (SwiftShader): far slower than WASM, so WASM is chosen, and the reason shown.
    expect(await page.getAttribute('[data-testid=backend-status]', 'data-backend')).toBe('wasm');
    expect(await page.textContent('[data-testid=backend-status]')).toMatch(/WebGPU has only a software adapter.*using WebAssembly/);
    await page.selectOption('[data-testid=lang-select]', 'zh');
    await page.waitForSelector('h1:has-text("小小 GPT 训练场")');
    expect(await page.textContent('#data-title')).toContain('数据');
    expect(page.url()).toContain('lang=zh');
    await page.selectOption('[data-testid=lang-select]', 'en');
    await page.setInputFiles('[data-testid=corpus-upload]', { name: 'photo.txt', mimeType: 'text/plain', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 0xff, 0xfe]) });
    await page.waitForSelector('[data-testid=data-error]');
    expect(await page.textContent('[data-testid=data-error]')).toMatch(/photo\.txt is not UTF-8 text|binary/);
    await page.setInputFiles('[data-testid=pairs-upload]', { name: 'bad.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from('{"prompt":"a","response":"b"}\n{"prompt": oops}\n') });
    await page.waitForSelector('text=line 2: not valid JSON');
    await context.close();
  }, 200_000);
});

describe('fine-tuning with freezing in Chromium', () => {
  it('pretrains, fine-tunes progressively (markers, live diagram), compares strategies and exports frozen tensors unchanged', async () => {
    const { page, context, errors } = await newPage(app, `?backend=wasm&${TINY}&pairs=sailor-quick`);
    await ready(page);
    await createModel(page);
    await pretrain(page, 60, { sampleEvery: 0 });
    await page.waitForSelector('[data-testid=pairs-info]');

    // Replies (chat, and the held-out answers scored after each run) stop at 40 characters: keeps the test short.
    await page.fill('[data-testid=chat-max-tokens]', '40');
    // progressive unfreezing: top group first, one more every 60 steps (2 blocks: 3 levels)
    await page.check('[data-testid=freeze-progressive]');
    await page.fill('[data-testid=progressive-every]', '60');
    await page.fill('[data-testid=finetune-steps]', '240');
    await page.fill('[data-testid=finetune-eval-every]', '40');
    await page.fill('[data-testid=finetune-sample-every]', '0');
    expect(await page.getAttribute('[data-testid=group-embeddings]', 'data-state')).toBe('frozen');
    await page.click('[data-testid=finetune-start]');
    // live: block 1 starts frozen with a zero update, then learns
    await page.waitForSelector('[data-testid=norm-block\\.0]', { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="group-block.0"]')?.getAttribute('data-state') === 'learning', null, { timeout: 120_000 });
    await page.waitForSelector('[data-testid=finetune-start]:not([disabled])', { timeout: 180_000 });
    // markers: the pretrain → fine-tune boundary and two unfreeze events
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-markers')) >= 3, null, { timeout: 10_000 });
    const share = await page.textContent('[data-testid=trainable-share]');
    expect(share).toMatch(/parameters learn/);

    // before / after chat
    await page.check('[data-testid=chat-compare]');
    await page.fill('[data-testid=chat-prompt]', 'What is a whale?');
    await page.click('[data-testid=chat-send]');
    await page.waitForSelector('[data-testid=msg-snapshot]');
    await page.waitForSelector('[data-testid=chat-send]:not([disabled])', { timeout: 60_000 });
    expect(await page.locator('[data-testid=msg-model]').count()).toBe(1);

    // compare strategies from the same snapshot: over 20 steps, progressive unfreezing every 60 never unfreezes
    // and is the plan "top block only" is, which is "bottom half frozen" on 2 blocks — so three distinct plans run,
    // then LoRA
    await page.fill('[data-testid=finetune-steps]', '20');
    await page.fill('[data-testid=finetune-eval-every]', '10');
    await page.click('[data-testid=compare-start]');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=run-row]')].filter((r) => r.querySelector('[data-status=done]')).length >= 5, null, { timeout: 300_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=compare-chart]')?.getAttribute('data-curves')) >= 2, null, { timeout: 10_000 });
    const rows = await page.locator('[data-testid=run-row]').count();
    expect(rows).toBe(5);
    // Every run was scored on the held-out prompts, before → after, and no two runs share a name.
    expect(await page.locator('[data-testid=run-format]').count()).toBe(5);
    const names = await page.locator('[data-testid=run-row] input').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
    expect(names).toEqual(['progressive:60', 'none', 'bottom:1', 'embeddings', 'lora:r8 α16']);

    // the bottom-half run's file: embeddings and block 0 equal the pretrained snapshot's, block 1 does not
    const [snapDl] = await Promise.all([page.waitForEvent('download'), page.click('text=Download pretrained snapshot')]);
    const snap = readSafetensors(new Uint8Array(readFileSync((await snapDl.path())!)));
    const bottomRow = page.locator('[data-testid=run-row]').filter({ has: page.locator('input[value="bottom:1"]') });
    const [runDl] = await Promise.all([page.waitForEvent('download'), bottomRow.locator('[data-testid=run-export]').click()]);
    const run = readSafetensors(new Uint8Array(readFileSync((await runDl.path())!)));
    expect(JSON.parse(run.metadata.training).freezePlan).toEqual({ kind: 'bottom', k: 1 });
    for (const name of ['transformer.wte.weight', 'transformer.wpe.weight', 'transformer.h.0.attn.c_attn.weight', 'transformer.h.0.mlp.c_proj.weight']) {
      expect(Buffer.from(run.tensors.get(name)!.data.buffer).equals(Buffer.from(snap.tensors.get(name)!.data.buffer)), name).toBe(true);
    }
    expect(run.tensors.get('transformer.h.1.attn.c_attn.weight')!.data).not.toEqual(snap.tensors.get('transformer.h.1.attn.c_attn.weight')!.data);
    expect(errors).toEqual([]);
    await context.close();
  }, 600_000);
});
