/**
 * Threads where the browser allows: the production app is served cross-origin isolated; with 2 or more cores
 * its worker starts TF.js's threaded WebAssembly build (the bundling fix in scripts/wasmThreadsPlugin.ts) and the
 * engine's kernel threads on its shared heap, min(cores, 16) in all (or the address's ?threads=N); the header says
 * how many, a short run trains, and Pause and Stop still take effect at the end of the step under way.
 */
import { expect, it } from 'vitest';
import { newPage, progressStep, ready, startPretraining, untilRunEnds } from './harness';
import { appForFile } from './appForFile';

const app = appForFile();

it('trains on WebAssembly with the threads the machine warrants in the cross-origin isolated app, and says so', async () => {
  const { page, context, errors } = await newPage(app, '?backend=wasm&layers=2&heads=2&embd=32&block=32&batch=8&lr=0.01&schedule=constant&eval=10');
  try {
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const expected = cores >= 2 ? Math.min(cores, 16) : 1; // the worker's rule (src/worker/backend.ts)
    await ready(page);
    const status = page.locator('[data-testid=backend-status]');
    expect(await status.getAttribute('data-backend')).toBe('wasm');
    expect(Number(await status.getAttribute('data-threads'))).toBe(expected);
    if (expected > 1) expect(await status.textContent()).toContain(`CPU · WebAssembly · ${expected} threads`);
    // The kernel threads run the products: a short run trains to its end without an error.
    await page.click('[data-testid=create-model]');
    await page.waitForSelector('[data-testid=model-info]', { timeout: 60_000 });
    await page.fill('[data-testid=pretrain-steps]', '30');
    await page.fill('[data-testid=pretrain-sample-every]', '30');
    await untilRunEnds(page, () => page.click('[data-testid=pretrain-start]'));
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= 30, null, { timeout: 10_000 });
    // Pause and Stop take effect at the end of the step under way (its read-back waits for the kernels queued on the threads).
    await startPretraining(page, 100_000);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=pretrain-progress]')?.textContent?.match(/Step (\d+)/)?.[1]) >= 5, null, {
      timeout: 60_000,
    });
    await page.click('[data-testid=pretrain-pause]');
    await page.waitForSelector('[data-testid=pretrain-resume]:not([disabled])', { timeout: 5_000 });
    const paused = await progressStep(page);
    await page.click('text=Step once');
    await page.waitForFunction(
      (n) => Number(document.querySelector('[data-testid=pretrain-progress]')?.textContent?.match(/Step (\d+)/)?.[1]) === n + 1,
      paused,
      { timeout: 10_000 },
    );
    await page.waitForSelector('[data-testid=pretrain-resume]:not([disabled])', { timeout: 10_000 });
    await page.click('[data-testid=pretrain-stop]');
    await page.waitForSelector('[data-testid=pretrain-start]:not([disabled])', { timeout: 5_000 });
    expect(await progressStep(page)).toBe(paused + 1);
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
}, 400_000);

it('trains on the threads the address asks for: ?threads=1 on one, ?threads=3 on three (past this machine’s cores), and says why', async () => {
  for (const threads of [1, 3]) {
    const { page, context, errors } = await newPage(
      app,
      `?backend=wasm&threads=${threads}&layers=2&heads=2&embd=32&block=32&batch=8&lr=0.01&schedule=constant&eval=10`,
    );
    try {
      await ready(page);
      const status = page.locator('[data-testid=backend-status]');
      expect(await status.getAttribute('data-backend')).toBe('wasm');
      expect(Number(await status.getAttribute('data-threads')), `?threads=${threads}`).toBe(threads);
      // ?backend=wasm is the user's choice; one thread is said once, then why, one sentence each.
      if (threads === 1)
        expect(await page.locator('[data-testid=backend-reasons] li').allTextContents()).toEqual([
          'chosen by you',
          'using WebAssembly on one thread',
          'as the address asks: ?threads=1',
        ]);
      else expect(await status.textContent()).toContain(`CPU · WebAssembly · ${threads} threads`);
      // Trains on them: a short run to its end without an error.
      await page.click('[data-testid=create-model]');
      await page.waitForSelector('[data-testid=model-info]', { timeout: 60_000 });
      await page.fill('[data-testid=pretrain-steps]', '10');
      await page.fill('[data-testid=pretrain-sample-every]', '10');
      await untilRunEnds(page, () => page.click('[data-testid=pretrain-start]'));
      await page.waitForFunction(() => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= 10, null, {
        timeout: 10_000,
      });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }
}, 300_000);
