/**
 * Threads where the browser allows: the production app is served cross-origin isolated; with 4 or more cores
 * its worker starts TF.js's threaded WebAssembly build with min(cores, 4) threads (the bundling fix in
 * scripts/wasmThreadsPlugin.ts), with fewer one thread and the engine's SIMD kernels; the header says how
 * many, and a short run trains.
 */
import { expect, it } from 'vitest';
import { newPage, ready, untilRunEnds } from './harness';
import { appForFile } from './appForFile';

const app = appForFile();

it('trains on WebAssembly with the threads the machine warrants in the cross-origin isolated app, and says so', async () => {
  const { page, context, errors } = await newPage(app, '?backend=wasm&layers=2&heads=2&embd=32&block=32&batch=8&lr=0.01&schedule=constant&eval=10');
  try {
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const expected = cores >= 4 ? Math.min(cores, 4) : 1; // the worker's rule (src/worker/backend.ts)
    await ready(page);
    const status = page.locator('[data-testid=backend-status]');
    expect(await status.getAttribute('data-backend')).toBe('wasm');
    expect(Number(await status.getAttribute('data-threads'))).toBe(expected);
    if (expected > 1) expect(await status.textContent()).toContain(`CPU · WebAssembly · ${expected} threads`);
    // The pthread workers run the matmuls: a short run trains to its end without an error.
    await page.click('[data-testid=create-model]');
    await page.waitForSelector('[data-testid=model-info]', { timeout: 60_000 });
    await page.fill('[data-testid=pretrain-steps]', '30');
    await page.fill('[data-testid=pretrain-sample-every]', '30');
    await untilRunEnds(page, () => page.click('[data-testid=pretrain-start]'));
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= 30, null, { timeout: 10_000 });
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
}, 400_000);
