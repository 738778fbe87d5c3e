/**
 * The lesson's teaching moment, driven through the lesson view's own controls (as a student would): load the
 * small-world starter, ask it the first question, run the default fine-tune, go on to the quiz. Shared by the
 * e2e check of the layout and by `npm run readme:images`, which photographs it. Every wait is on the app's
 * state; the times are read on the way, for the script to print.
 */
import type { Page } from 'playwright-core';
import { runEndedSince, runsEnded, untilPresent } from './harness';

export interface Box {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

export interface Moment {
  backend: string;
  /** From the start of page load until the starter can be loaded (the app and its worker ready), until it is loaded, and until its first answer is complete (ms). */
  readyMs: number;
  loadedMs: number;
  answeredMs: number;
  /** The default fine-tune's steps, and its wall time with the scoring of snapshot and model (ms). */
  steps: number;
  finetuneMs: number;
  /** The quiz's knowledge score of the pretrained snapshot and of the fine-tuned model (0–1). */
  before: number;
  after: number;
  /** Where the quiz and the loss chart's panel are on the page (CSS px, relative to the page's top left). */
  quizBox: Box;
  chartBox: Box;
}

/** The lesson's own loss chart (the lab's panels under "All settings" hold none). */
export const LESSON_CHART = '[data-testid=lesson-mode] .chart-panel';

/** An element's box relative to the document (not the viewport), so that scrolling does not change it. */
export const pageBox = (page: Page, selector: string): Promise<Box> =>
  page.locator(selector).evaluate((el) => {
    const r = el.getBoundingClientRect();
    return {
      top: Math.round(r.top + scrollY),
      bottom: Math.round(r.bottom + scrollY),
      left: Math.round(r.left + scrollX),
      right: Math.round(r.right + scrollX),
    };
  });

/** The lesson on WebAssembly, in a language. */
export const lessonQuery = (lang: 'en' | 'zh') => `?lang=${lang}&mode=lesson&backend=wasm`;

/**
 * Take the lesson to the quiz after the default fine-tune (step 4), scrolled to the top. With `url`, open the
 * lesson there first (and time from the start of that page load); without, the page shows the lesson already.
 * `readMs`: how long the student reads step 3 before pressing "Fine-tune" (`npm run lesson-time -- --read S`: the
 * worker scores the starter meanwhile); the tests press it at once. `endByButtons`: wait for the run's end by the
 * lesson's buttons (Stop gone, Fine-tune back) instead of the app's count of ended runs, which the app's code before
 * 2026-12-04 lacks (`npm run lesson-time -- --before`, run from an older checkout).
 */
export async function teachingMoment(page: Page, lang: 'en' | 'zh', url?: string, readMs = 0, query = '', { endByButtons = false } = {}): Promise<Moment> {
  const t0 = Date.now();
  if (url) await page.goto(`${url}${lessonQuery(lang)}${query}`);
  await page.waitForSelector('[data-testid=lesson-starter]:not([disabled])', { timeout: 120_000 });
  const readyMs = Date.now() - t0;
  await page.click('[data-testid=lesson-starter]');
  // Loaded: the lesson moves on to step 2 by itself.
  await page.waitForSelector('[data-testid=lesson-mode][data-step="2"]', { timeout: 120_000 });
  const loadedMs = Date.now() - t0;
  await page.click('[data-testid=lesson-ask]');
  await page.waitForFunction(() => (document.querySelector('[data-testid=lesson-reply]')?.textContent ?? '').trim().length > 0, null, { timeout: 120_000 });
  await page.waitForSelector('[data-testid=lesson-ask]:not([disabled])', { timeout: 120_000 });
  const answeredMs = Date.now() - t0;
  const backend = (await page.getAttribute('[data-testid=backend-status]', 'data-backend')) ?? '?';

  await page.click('[data-testid=lesson-next]');
  await page.waitForSelector('[data-testid=lesson-mode][data-step="3"]');
  if (readMs > 0) await page.waitForTimeout(readMs); // a student reading, not a wait for the app
  const before = endByButtons ? 0 : await runsEnded(page);
  const t1 = Date.now();
  await page.click('[data-testid=lesson-finetune]');
  if (endByButtons) {
    // While a run goes (its scoring included) the lesson shows Stop in Fine-tune's place.
    await untilPresent(page, '[data-testid=lesson-stop]', 10_000);
    await untilPresent(page, '[data-testid=lesson-finetune]', 900_000);
  } else await runEndedSince(page, before, 900_000);
  const finetuneMs = Date.now() - t1;
  const steps = Number((await page.textContent('[data-testid=lesson-progress]'))?.match(/(\d+)\D+(\d+)/)?.[2] ?? NaN);

  await page.click('[data-testid=lesson-next]');
  await page.waitForSelector('[data-testid=lesson-mode][data-step="4"]');
  await page.waitForSelector('[data-testid=quiz-view]');
  await page.evaluate(() => window.scrollTo(0, 0));
  const score = await page
    .locator('[data-testid=quiz-view]')
    .evaluate((el) => [Number(el.getAttribute('data-before')), Number(el.getAttribute('data-knowledge'))]);
  return {
    backend,
    readyMs,
    loadedMs,
    answeredMs,
    steps,
    finetuneMs,
    before: score[0],
    after: score[1],
    quizBox: await pageBox(page, '[data-testid=quiz-view]'),
    chartBox: (await page.locator(LESSON_CHART).count()) ? await pageBox(page, LESSON_CHART) : { top: NaN, bottom: NaN, left: NaN, right: NaN },
  };
}
