/**
 * `npm run lesson-time`: the lesson's default fine-tune and scoring in the page, timed — the production build in
 * headless Chromium on WebAssembly, served cross-origin isolated (so on every core: the header's thread count is
 * printed), driven through the lesson view's own controls (test/e2e/lessonRun.ts) in a fresh page each run.
 * Prints each run's wall time for the fine-tune with the scoring of both models, and the median. Figures only:
 * nothing passes or fails. Run it in two checkouts in turn to compare them on one machine.
 *
 *   npm run lesson-time                 English, 3 runs
 *   npm run lesson-time -- --runs 5 --zh
 *   npm run lesson-time -- --one-thread served as a plain static host (not cross-origin isolated, service worker
 *                                       blocked): WebAssembly on one thread, to compare with the page's every core
 *   npm run lesson-time -- --threads 1  the same isolated build on that many threads (the page's ?threads=N, 1–16):
 *                                       one thread against all of them without changing how the app is served
 *   npm run lesson-time -- --read 5     the student reads step 3 for 5 s before pressing "Fine-tune" (the tests
 *                                       press it at once): the worker scores the starter meanwhile, so the wait
 *                                       after the click holds only the fine-tune and the fine-tuned model's scoring
 *   npm run lesson-time -- --older      for the app's code before 2026-12-04, which has no count of ended runs: the
 *                                       run's end read from the lesson's buttons. Run from that code's checkout, so
 *                                       that its app is built and served: `npx tsx <this checkout>/scripts/lesson-time.ts
 *                                       --older` (the README's "How long the lesson takes" times d189cd7 this way)
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { startApp } from '../test/e2e/harness';
import { teachingMoment } from '../test/e2e/lessonRun';
import { MAX_WASM_THREADS } from '../src/worker/protocol';
import { median } from '../cli/median';

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      zh: { type: 'boolean' },
      'one-thread': { type: 'boolean' },
      threads: { type: 'string' },
      read: { type: 'string', default: '0' },
      older: { type: 'boolean' },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs takes a whole number ≥ 1, not ${values.runs}`);
  const readMs = 1000 * Number(values.read);
  if (!(readMs >= 0)) throw new Error(`--read takes seconds ≥ 0, not ${values.read}`);
  const lang = values.zh ? 'zh' : 'en';
  const oneThread = values['one-thread'] === true;
  const asked = values.threads === undefined ? null : Number(values.threads);
  if (asked !== null && !(Number.isInteger(asked) && asked >= 1 && asked <= MAX_WASM_THREADS))
    throw new Error(`--threads takes a whole number 1–${MAX_WASM_THREADS}, not ${values.threads}`);
  if (asked !== null && oneThread) throw new Error('--threads and --one-thread: choose one (--one-thread serves the app without isolation)');
  const app = await startApp({ isolated: !oneThread });
  const times: number[] = [];
  try {
    for (let r = 1; r <= runs; r++) {
      const context = await app.browser.newContext({
        viewport: { width: 1366, height: 768 },
        locale: lang === 'zh' ? 'zh-CN' : 'en-US',
        ...(oneThread ? { serviceWorkers: 'block' as const } : {}),
      });
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
      const m = await teachingMoment(page, lang, app.url, readMs, asked ? `&threads=${asked}` : '', { endByButtons: values.older === true });
      const threads = (await page.getAttribute('[data-testid=backend-status]', 'data-threads')) || '1';
      times.push(m.finetuneMs);
      console.log(
        `run ${r}: ${m.backend} on ${threads} thread(s)${readMs ? `, ${secs(readMs)} reading step 3` : ''}: the default fine-tune (${m.steps} steps) and scoring ${secs(m.finetuneMs)}; ` +
          `quiz ${(100 * m.before).toFixed(1)} % → ${(100 * m.after).toFixed(1)} % (load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores)`,
      );
      await context.close();
    }
  } finally {
    await app.close();
  }
  console.log(`median of ${runs}: ${secs(median(times))}`);
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
