/**
 * `npm run class-time`: the whole small-world pipeline in the page, timed — the production build in headless
 * Chromium on WebAssembly: "Pretrain it yourself from scratch" (the lesson's recipe), then the lesson's
 * default fine-tune, then the quiz. Prints the pretraining wall time, the fine-tune + scoring time and the
 * quiz's score (snapshot → fine-tuned). Figures only: nothing passes or fails.
 *
 *   npm run class-time               English (small-world)
 *   npm run class-time -- --zh       Chinese (small-world-zh)
 *   npm run class-time -- --plain    the plain variant (the contrast)
 */
import { parseArgs } from 'node:util';
import { startApp } from '../test/e2e/harness';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { zh: { type: 'boolean' }, plain: { type: 'boolean' } } });
  const starter = values.zh ? 'world-zh' : 'world-en';
  const app = await startApp();
  try {
    const page = await (await app.browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
    await page.goto(`${app.url}?mode=lab&backend=wasm&lang=${values.zh ? 'zh' : 'en'}`);
    await page.waitForSelector('[data-testid=corpus-info]', { state: 'attached', timeout: 120_000 });
    const endedRuns = () => page.evaluate(() => Number(document.querySelector('.app')?.getAttribute('data-runs-ended') ?? 0));
    const t0 = Date.now();
    await page.click(`[data-testid=${values.plain ? 'scratch-plain' : 'scratch'}-${starter}]`);
    await page.waitForSelector('[data-testid=pretrain-pause]:not([disabled])', { timeout: 120_000 });
    const tStart = Date.now();
    await page.waitForFunction(() => Number(document.querySelector('.app')?.getAttribute('data-runs-ended')) >= 1, null, { timeout: 3_600_000 });
    const tPre = Date.now();
    const steps = await page.inputValue('[data-testid=pretrain-steps]');
    console.log(
      `pretraining ${steps} steps from scratch: ${((tPre - tStart) / 60000).toFixed(1)} min (${((tPre - t0) / 60000).toFixed(1)} min from the click)`,
    );
    const before = await endedRuns();
    await page.fill('[data-testid=finetune-sample-every]', '0');
    await page.click('[data-testid=finetune-start]');
    await page.waitForFunction((n) => Number(document.querySelector('.app')?.getAttribute('data-runs-ended')) > n, before, { timeout: 900_000 });
    await page.waitForSelector('[data-testid=run-knowledge]', { timeout: 900_000 });
    const tFt = Date.now();
    const k = await page.evaluate(() => {
      const e = document.querySelector('[data-testid=run-knowledge]');
      return [Number(e?.getAttribute('data-before')), Number(e?.getAttribute('data-after'))];
    });
    console.log(
      `default fine-tune and scoring (snapshot and model): ${((tFt - tPre) / 1000).toFixed(0)} s; quiz ${(100 * k[0]).toFixed(1)} % → ${(100 * k[1]).toFixed(1)} %`,
    );
  } finally {
    await app.close();
  }
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
