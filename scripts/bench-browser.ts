/**
 * `npm run bench:browser`: the engine's training step in headless Chromium (production build of
 * bench/browser-page), on WebAssembly and WebGPU (here the software adapter), printing ms/step, tokens/s,
 * and per step: kernel dispatches, queue submits, buffer uploads and GPU read-backs. Writes
 * bench-results/browser.json. Figures only: nothing passes or fails.
 *
 *   npm run bench:browser                         baby, wasm and webgpu
 *   npm run bench:browser -- --preset tiny --steps 5
 *   npm run bench:browser -- --backends webgpu --batch 2    counts only: they do not depend on the batch
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { previewTestPage, serverUrl, startTestPage } from '../test/e2e/harness';
import type { BenchOptions } from '../bench/browser-page/main';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { preset: { type: 'string' }, steps: { type: 'string' }, backends: { type: 'string' }, batch: { type: 'string' } } });
  const preset = (values.preset ?? 'baby') as BenchOptions['preset'];
  const root = resolve('bench/browser-page');
  const outDir = resolve('bench-results/browser-page');
  const app = await startTestPage(root, outDir);
  // The same build served without cross-origin isolation: WebAssembly on one thread.
  const single = await previewTestPage(root, outDir, { isolated: false });
  const rows: unknown[] = [];
  const open = async (url: string): Promise<Page> => {
    const page = await (await app.browser.newContext()).newPage();
    await page.goto(url);
    await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
    return page;
  };
  try {
    const pages = { isolated: await open(app.url), single: await open(serverUrl(single)) };
    for (const backend of (values.backends ?? 'wasm,webgpu').split(',') as BenchOptions['backend'][]) {
      for (const where of backend === 'wasm' ? (['isolated', 'single'] as const) : (['isolated'] as const)) {
        for (const readbackMs of [undefined, 250]) {
          const steps = Number(values.steps ?? (backend === 'wasm' ? 20 : 5));
          const o: BenchOptions = { backend, preset, batch: Number(values.batch ?? 12), steps, warmup: 2, readbackMs };
          const r = (await pages[where].evaluate(
            (opts) => (window as unknown as { bench(o: BenchOptions): Promise<Record<string, unknown>> }).bench(opts),
            o,
          )) as Record<string, number | string | boolean>;
          rows.push(r);
          const threads = r.threads ? ` ${r.threads} thread${r.threads === 1 ? '' : 's'}` : '';
          console.log(
            `${(String(r.backend) + threads).padEnd(16)} ${preset} batch ${r.batch} read-back ${String(r.readback).padEnd(14)} ${(r.msPerStep as number).toFixed(0).padStart(6)} ms/step ${Math.round(
              r.tokensPerSec as number,
            )
              .toString()
              .padStart(6)} tok/s | per step: ` +
              `${(r.dispatchesPerStep as number).toFixed(0)} dispatches, ${(r.submitsPerStep as number).toFixed(0)} submits, ${(r.uploadsPerStep as number).toFixed(0)} uploads, ${(r.uniformWritesPerStep as number).toFixed(0)} uniform writes, ${(r.readbacksPerStep as number).toFixed(2)} read-backs${r.tensorsFlat ? '' : ' (tensors grew!)'}`,
          );
        }
      }
    }
  } finally {
    await app.close();
    await new Promise<void>((done) => single.httpServer.close(() => done()));
  }
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/browser.json', JSON.stringify({ date: new Date().toISOString(), rows }, null, 2));
  console.log('wrote bench-results/browser.json');
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
