/**
 * `npm run readme:images`: the README's pictures, from a real run — the production build in headless Chromium
 * on WebAssembly at 1366×768, driven through the lesson view's own controls:
 *
 *   docs/lesson.png             the lesson's first screen (the bare address, English)
 *   docs/teaching-moment.png    after loading the small-world starter and the lesson's default fine-tune: the quiz
 *                               before → after beside the loss chart, in one viewport
 *   docs/teaching-moment-zh.png the same in the Chinese page
 *
 * It prints what it measured on the way: page load → the starter loaded → its first answer, the fine-tune and
 * scoring wall time, and the quiz's score (snapshot → fine-tuned). Figures only: nothing passes or fails here
 * (the layout is checked by test/e2e/teaching-moment.e2e.test.ts).
 *
 *   npm run readme:images               both languages
 *   npm run readme:images -- --en       English only
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { startApp } from '../test/e2e/harness';
import { teachingMoment, type Box, type Moment } from '../test/e2e/lessonRun';

const VIEWPORT = { width: 1366, height: 768 };
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const box = (b: Box) => `x ${b.left}–${b.right}, y ${b.top}–${b.bottom}`;
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

async function newPage(browser: Browser, locale: string): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORT, locale, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  return page;
}

/** The lesson's first screen on a first visit to the bare address: no query but the language. */
async function lessonShot(browser: Browser, url: string): Promise<void> {
  const page = await newPage(browser, 'en-US');
  await page.goto(url);
  await page.waitForSelector('[data-testid=lesson-mode][data-step="1"]', { timeout: 120_000 });
  await page.waitForSelector('[data-testid=lesson-starter]:not([disabled])', { timeout: 120_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid=backend-status]')?.getAttribute('data-backend'), null, { timeout: 120_000 });
  await page.screenshot({ path: 'docs/lesson.png' });
  console.log(`docs/lesson.png: the lesson's first screen (backend ${await page.getAttribute('[data-testid=backend-status]', 'data-backend')})`);
  await page.context().close();
}

/** The machine's load: on a shared machine the times above mean little without it. */
const load = () => `${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)}`;

function report(lang: string, m: Moment): void {
  console.log(
    `${lang}: page load → the starter's button ${secs(m.readyMs)} → starter loaded ${secs(m.loadedMs)} → its first answer ${secs(m.answeredMs)} (backend ${m.backend}); ` +
      `the default fine-tune (${m.steps} steps) and scoring ${secs(m.finetuneMs)}; quiz ${pct(m.before)} → ${pct(m.after)} (${load()})`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { en: { type: 'boolean' } } });
  mkdirSync('docs', { recursive: true });
  const app = await startApp();
  try {
    await lessonShot(app.browser, `${app.url}?lang=en`);
    for (const lang of values.en ? ['en'] : ['en', 'zh']) {
      const page = await newPage(app.browser, lang === 'zh' ? 'zh-CN' : 'en-US');
      const m = await teachingMoment(page, lang as 'en' | 'zh', app.url);
      const file = lang === 'en' ? 'docs/teaching-moment.png' : `docs/teaching-moment-${lang}.png`;
      await page.screenshot({ path: file });
      report(lang, m);
      console.log(`${file}: quiz ${box(m.quizBox)}, loss chart ${box(m.chartBox)} (viewport ${VIEWPORT.width}×${VIEWPORT.height})`);
      await page.context().close();
    }
  } finally {
    await app.close();
  }
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
