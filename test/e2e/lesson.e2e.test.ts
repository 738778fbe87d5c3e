/**
 * End-to-end, the lesson's controls and links (production build, headless Chromium, WebAssembly), one
 * feature per test: Pause, Stop and Step once take effect (the step counter stops); a chat reply is served
 * during a run; a share link builds its preset; the starter lesson reaches the dialogue format. Every page is
 * closed whatever happens (`withPage`).
 */
import { describe, expect, it } from 'vitest';
import { createModel, progressStep, ready, runEndedSince, runsEnded, startPretraining, withPage, untilRunEnds } from './harness';
import { lessonQuery } from './lessonRun';
import { appForFile } from './appForFile';
import { PRESETS } from '../../src/engine/model/config';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../tempDir';

const app = appForFile();

const TINY = 'layers=2&heads=2&embd=32&block=32&batch=8&lr=0.01&schedule=constant&eval=0';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('controls answer on WebAssembly', () => {
  it(
    'Pause stops the step counter, Step once takes exactly one step, Stop ends the run',
    () =>
      withPage(app, `?backend=wasm&${TINY}`, async ({ page, errors }) => {
        await ready(page);
        expect(await page.getAttribute('[data-testid=backend-status]', 'data-backend')).toBe('wasm');
        await createModel(page);
        await startPretraining(page, 100000);
        await page.waitForFunction(() => Number(document.querySelector('[data-testid=pretrain-progress]')?.textContent?.match(/Step (\d+)/)?.[1]) >= 10, null, {
          timeout: 60_000,
        });

        // Pause: acknowledged at once, and the counter stops.
        await page.click('[data-testid=pretrain-pause]');
        await page.waitForSelector('[data-testid=pretrain-resume]:not([disabled])', { timeout: 5_000 });
        const paused = await progressStep(page);
        await sleep(1500);
        expect(await progressStep(page)).toBe(paused);
        expect(paused).toBeLessThan(100000);

        // Step once: exactly one more.
        await page.click('text=Step once');
        await page.waitForFunction(
          (n) => Number(document.querySelector('[data-testid=pretrain-progress]')?.textContent?.match(/Step (\d+)/)?.[1]) === n + 1,
          paused,
          { timeout: 10_000 },
        );
        await page.waitForSelector('[data-testid=pretrain-resume]:not([disabled])', { timeout: 10_000 });
        await sleep(1000);
        expect(await progressStep(page)).toBe(paused + 1);

        // Resume, then Stop: the run ends and the counter stays.
        await page.click('[data-testid=pretrain-resume]');
        await page.waitForFunction(
          (n) => Number(document.querySelector('[data-testid=pretrain-progress]')?.textContent?.match(/Step (\d+)/)?.[1]) >= n + 10,
          paused,
          { timeout: 60_000 },
        );
        await untilRunEnds(page, () => page.click('[data-testid=pretrain-stop]'), 5_000);
        const stopped = await progressStep(page);
        await sleep(1500);
        expect(await progressStep(page)).toBe(stopped);
        expect(await page.isDisabled('[data-testid=pretrain-resume]')).toBe(true);
        expect(errors).toEqual([]);
      }),
    300_000,
  );

  it(
    'a chat request is served during a run, between steps, and the run goes on',
    () =>
      withPage(app, `?backend=wasm&${TINY}`, async ({ page, errors }) => {
        await ready(page);
        await createModel(page);
        await startPretraining(page, 100000);
        await page.fill('[data-testid=chat-prompt]', 'Call me');
        await page.click('[data-testid=chat-send]');
        await page.waitForSelector('[data-testid=msg-model]', { timeout: 30_000 });
        await page.waitForSelector('[data-testid=chat-send]:not([disabled])', { timeout: 30_000 });
        expect(await page.isEnabled('[data-testid=pretrain-pause]')).toBe(true); // still training
        const at = await progressStep(page);
        await page.waitForFunction((n) => Number(document.querySelector('[data-testid=pretrain-progress]')?.textContent?.match(/Step (\d+)/)?.[1]) > n, at, {
          timeout: 30_000,
        });
        await untilRunEnds(page, () => page.click('[data-testid=pretrain-stop]'), 5_000);
        expect(errors).toEqual([]);
      }),
    300_000,
  );
});

describe('links that reproduce', () => {
  it(
    "the README's share link builds the baby model (4 layers, width 128, context 64) in Chinese",
    () =>
      withPage(app, '?preset=baby&steps=2000&seed=7&lang=zh&backend=wasm', async ({ page, errors }) => {
        await ready(page);
        expect(await page.inputValue('[data-testid=preset-select]')).toBe('baby');
        expect(Number(await page.inputValue('[data-testid=layers-input]'))).toBe(PRESETS.baby.nLayer);
        expect(Number(await page.inputValue('[data-testid=width-input]'))).toBe(PRESETS.baby.nEmbd);
        expect(Number(await page.inputValue('[data-testid=context-input]'))).toBe(PRESETS.baby.blockSize);
        expect(Number(await page.inputValue('[data-testid=pretrain-steps]'))).toBe(2000);
        await page.click('[data-testid=create-model]');
        await page.waitForSelector('[data-testid=model-info]', { timeout: 60_000 });
        const info = (await page.textContent('[data-testid=model-info]'))!;
        // The worker built it: 4 layers × 4 heads, width 128, context 64.
        expect(info).toMatch(/4\D+4\D+128\D+64/);
        expect(await page.textContent('h1')).toContain('小小 GPT');
        expect(errors).toEqual([]);
      }),
    200_000,
  );
});

describe('the small world from scratch, one click', () => {
  it(
    'sets its recipe (baby at context 128, 2,500 steps, its pairs and fine-tune) and starts pretraining on it',
    () =>
      withPage(app, `?mode=lab&backend=wasm`, async ({ page, errors }) => {
        await ready(page);
        await page.click('[data-testid=scratch-world-en]');
        await page.waitForSelector('[data-testid=pretrain-pause]:not([disabled])', { timeout: 120_000 });
        await page.waitForSelector('[data-testid=model-info]:has-text("context 128")', { timeout: 10_000 });
        expect(await page.textContent('[data-testid=model-info]')).toMatch(/4 layers × 4 heads, width 128, context 128/);
        expect(await page.inputValue('[data-testid=pretrain-steps]')).toBe('2500');
        expect(await page.evaluate(() => (document.querySelector('#corpus-select') as HTMLSelectElement).value)).toBe('small-world');
        expect(await page.evaluate(() => (document.querySelector('#pairs-select') as HTMLSelectElement).value)).toBe('small-world-qa');
        await untilRunEnds(page, () => page.click('[data-testid=pretrain-stop]'), 60_000);
        expect(errors).toEqual([]);
      }),
    300_000,
  );
});

describe('the lesson from a starter model', () => {
  it(
    'loads the English starter, fine-tunes with the default plan, and answers ≥ 90% of held-out prompts in the dialogue format',
    () =>
      withPage(app, '?backend=wasm&lang=en', async ({ page, errors }) => {
        await ready(page);
        await page.click('[data-testid=starter-en]');
        await page.waitForSelector('[data-testid=notice]:has-text("pretrained starter")', { timeout: 60_000 });
        expect(await page.inputValue('[data-testid=pairs-select]')).toBe('sailor');
        // The starter's own training curve is on the chart.
        await page.waitForFunction(() => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) > 0, null, {
          timeout: 10_000,
        });
        await page.waitForSelector('[data-testid=pairs-info]', { timeout: 60_000 });
        // Every sailor pair fits the starter's context: nothing truncated.
        expect(await page.locator('[data-testid=pairs-truncated]').count()).toBe(0);
        await page.fill('[data-testid=finetune-sample-every]', '0');
        await page.click('[data-testid=finetune-start]');
        await page.waitForSelector('[data-testid=run-format]', { timeout: 900_000 });
        const after = Number(await page.getAttribute('[data-testid=run-format]', 'data-after'));
        const before = Number(await page.getAttribute('[data-testid=run-format]', 'data-before'));
        console.info(
          `English starter, default fine-tune: format ${before} → ${after}, words → ${await page.getAttribute('[data-testid=run-words]', 'data-after')}`,
        );
        expect(after).toBeGreaterThanOrEqual(0.9);
        expect(after).toBeGreaterThan(before);
        await page.screenshot({ path: 'test-results/screenshots/lesson-en.png', fullPage: true });
        expect(errors).toEqual([]);
      }),
    1_000_000,
  );

  it(
    "Stop while the fine-tune's answers are scored ends the run at once: no quiz, and the lesson offers the fine-tune again; during the comparison, the step says which strategy runs and Stop drops the rest",
    () =>
      withPage(app, lessonQuery('en'), async ({ page, errors }) => {
        await page.waitForSelector('[data-testid=lesson-starter]:not([disabled])', { timeout: 120_000 });
        await page.click('[data-testid=lesson-starter]');
        await page.waitForSelector('[data-testid=lesson-mode][data-step="2"]', { timeout: 120_000 });
        await page.click('[data-testid=lesson-next]');
        await page.waitForSelector('[data-testid=lesson-mode][data-step="3"]');
        const before = await runsEnded(page);
        await page.click('[data-testid=lesson-finetune]');
        // After the last step the two models answer 880 questions (seconds here, a minute on a slow device).
        await page.waitForFunction(() => /scoring/.test(document.querySelector('[data-testid=lesson-progress]')?.textContent ?? ''), null, {
          timeout: 300_000,
        });
        // The button says what Stop does now; the lab's Pause (under All settings) has nothing left to pause.
        expect(await page.textContent('[data-testid=lesson-stop]')).toBe('Stop scoring (no quiz this time)');
        await page.click('[data-testid=all-settings] > summary');
        expect(await page.isDisabled('[data-testid=finetune-pause]')).toBe(true);
        expect(await page.isEnabled('[data-testid=finetune-stop]')).toBe(true);
        await page.click('[data-testid=lesson-stop]');
        await runEndedSince(page, before, 60_000);
        await page.waitForSelector('[data-testid=lesson-finetune]:not([disabled])');
        // Nothing half-scored is shown: the quiz step asks for a fine-tune that ends.
        await page.click('[data-testid=lesson-next]');
        await page.waitForSelector('[data-testid=lesson-mode][data-step="4"]');
        expect(await page.locator('[data-testid=quiz-view]').count()).toBe(0);
        expect(await page.textContent('[data-testid=lesson-mode]')).toContain('The quiz appears when a fine-tune');

        // Step 5: while the strategies run, which one, how far and how many are left; Stop drops those not started.
        await page.click('[data-testid=lesson-next]');
        await page.waitForSelector('[data-testid=lesson-mode][data-step="5"]');
        const ended = await runsEnded(page);
        await page.click('[data-testid=lesson-compare]');
        await page.waitForFunction(
          () => /: step [1-9]\d* of \d+ · \d+ more after it/.test(document.querySelector('[data-testid=compare-progress]')?.textContent ?? ''),
          null,
          {
            timeout: 120_000,
          },
        );
        await page.click('[data-testid=lesson-compare-stop]');
        await runEndedSince(page, ended, 60_000);
        await page.waitForSelector('[data-testid=lesson-compare]:not([disabled])', { timeout: 30_000 });
        expect(await page.locator('[data-testid=compare-progress]').count()).toBe(0);
        // The one strategy Stop ended, none started after it (the button would stay disabled): the step shows the
        // comparison's strategies only, and counts the step-3 fine-tune in its note.
        expect(await page.locator('[data-testid=run-row]').count()).toBe(1);
        expect(await page.textContent('[data-testid=runs-latest]')).toContain('1 of 2 fine-tunes');
        expect(errors).toEqual([]);
      }),
    600_000,
  );

  it(
    "the small world: loads its starter, fine-tunes with the defaults, and shows the quiz's score — the CLI's for the same seed",
    () =>
      withPage(app, '?backend=wasm&lang=en', async ({ page, errors }) => {
        await ready(page);
        await page.click('[data-testid=starter-world-en]');
        await page.waitForSelector('[data-testid=notice]:has-text("pretrained starter")', { timeout: 60_000 });
        expect(await page.inputValue('[data-testid=pairs-select]')).toBe('small-world-qa');
        expect(await page.getAttribute('[data-testid=lesson-guide]', 'data-lesson')).toBe('small-world');
        // The model form shows the starter's architecture (4 layers, width 128, context 128).
        expect(Number(await page.inputValue('[data-testid=layers-input]'))).toBe(4);
        expect(Number(await page.inputValue('[data-testid=context-input]'))).toBe(128);
        await page.waitForSelector('[data-testid=pairs-info]', { timeout: 60_000 });
        // The lesson's own fine-tune is set with its pairs: every weight, 60 steps at lr 3e-4.
        expect(Number(await page.inputValue('[data-testid=finetune-steps]'))).toBe(60);
        await page.fill('[data-testid=finetune-sample-every]', '0');
        const t0 = Date.now();
        await page.click('[data-testid=finetune-start]');
        await page.waitForSelector('[data-testid=run-knowledge]', { timeout: 900_000 });
        const after = Number(await page.getAttribute('[data-testid=run-knowledge]', 'data-after'));
        const before = Number(await page.getAttribute('[data-testid=run-knowledge]', 'data-before'));
        console.info(
          `small world, default fine-tune in the page: knowledge ${before} → ${after}; fine-tune and scoring of both models ${((Date.now() - t0) / 1000).toFixed(1)} s`,
        );
        expect(after).toBeGreaterThan(before);

        // The quiz view: paged (never more than 20 rows), filterable to the mistakes.
        await page.waitForSelector('[data-testid=quiz-view]');
        expect(await page.locator('[data-testid=quiz-row]').count()).toBe(20);
        await page.check('[data-testid=quiz-mistakes]');
        const wrong = await page.locator('[data-testid=quiz-row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-right')));
        expect(wrong.length).toBeGreaterThan(0);
        expect(wrong.every((r) => r === 'false')).toBe(true);
        expect(await page.textContent('[data-testid=quiz-page]')).toContain(`of ${Math.round(400 * (1 - after))}`);
        await page.screenshot({ path: 'test-results/screenshots/lesson-world-en.png', fullPage: true });
        expect(errors).toEqual([]);

        // The CLI's default fine-tune from the same starter, with the same seed, scores the same.
        const dir = tempDir('world-');
        const cli = (...args: string[]) =>
          spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        const ft = cli(
          'finetune',
          '--init',
          'public/starters/world-en.safetensors',
          '--pairs',
          'small-world-qa',
          '--text',
          'small-world',
          '--out',
          join(dir, 'ft.safetensors'),
        );
        expect(ft.status, ft.stderr).toBe(0);
        const ev = cli('eval', '--ckpt', join(dir, 'ft.safetensors'), '--pairs', 'small-world-qa');
        expect(ev.status, ev.stderr).toBe(0);
        expect(/^knowledge ([\d.]+)$/m.exec(ev.stdout)?.[1]).toBe((100 * after).toFixed(1));
      }),
    1_500_000,
  );
});
