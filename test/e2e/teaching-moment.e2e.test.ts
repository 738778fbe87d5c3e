/**
 * End-to-end, the lesson's teaching moment (production build, headless Chromium, WebAssembly): after the
 * small-world starter and the lesson's default fine-tune, run through the lesson's own controls, the quiz
 * before → after and the loss chart are both in one 1366×768 screen, and at most one scroll apart at 390×844.
 * Screenshots go to the ignored test-results/screenshots/.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { withPage } from './harness';
import { appForFile } from './appForFile';
import { LESSON_CHART, lessonQuery, pageBox, teachingMoment, type Box } from './lessonRun';

const app = appForFile();

/** Whether a box (page coordinates) lies wholly inside the viewport at the current scroll. */
const inViewport = async (page: Page, b: Box): Promise<boolean> => {
  const v = await page.evaluate(() => ({ x: scrollX, y: scrollY, w: innerWidth, h: innerHeight }));
  return b.top >= v.y && b.bottom <= v.y + v.h && b.left >= v.x && b.right <= v.x + v.w;
};

describe('the teaching moment', () => {
  it(
    'after the default fine-tune in the lesson, the quiz before → after and the loss chart share one screen at 1366×768, and are one scroll apart at most at 390×844',
    () =>
      withPage(app, lessonQuery('en'), async ({ page, errors }) => {
        await page.setViewportSize({ width: 1366, height: 768 });
        const m = await teachingMoment(page, 'en');
        console.info(`teaching moment at 1366×768: quiz ${m.before} → ${m.after}; quiz ${JSON.stringify(m.quizBox)}, chart ${JSON.stringify(m.chartBox)}`);
        // The fine-tune taught something the quiz can show, and the quiz shows answers, not only a score.
        expect(m.after).toBeGreaterThan(m.before);
        expect(await page.textContent('[data-testid=quiz-summary]')).toMatch(/→/);
        expect(await page.locator('[data-testid=quiz-row]').count()).toBeGreaterThanOrEqual(3);
        expect(await page.locator(LESSON_CHART).locator('.recharts-line').count()).toBeGreaterThan(0);
        // All of the quiz panel (score, answers, pager) and all of the chart's panel, without scrolling.
        expect(await page.evaluate(() => scrollY)).toBe(0);
        expect(await inViewport(page, m.quizBox), `quiz ${JSON.stringify(m.quizBox)}`).toBe(true);
        expect(await inViewport(page, m.chartBox), `chart ${JSON.stringify(m.chartBox)}`).toBe(true);
        await page.screenshot({ path: 'test-results/screenshots/teaching-moment-1366x768.png' });

        // A phone: one column. With the upper of the two at the top of the screen, one screen's scroll shows all of
        // the lower: the quiz's score (before → after) and the chart's panel are at most one scroll apart.
        await page.setViewportSize({ width: 390, height: 844 });
        await page.waitForFunction(() => getComputedStyle(document.querySelector('.lesson-layout')!).gridTemplateColumns.split(' ').length === 1);
        const chart = await pageBox(page, LESSON_CHART);
        const score = await pageBox(page, '[data-testid=quiz-summary]');
        // The step is the quiz: right after the step's note, before the chart (which is the side column's on a wide screen).
        expect(score.top, 'the quiz before the chart in one column').toBeLessThan(chart.top);
        const [upper, lower] = chart.top <= score.top ? [chart, score] : [score, chart];
        console.info(
          `teaching moment at 390×844: chart ${JSON.stringify(chart)}, quiz score ${JSON.stringify(score)}: ${lower.bottom - upper.top} px from the top of one to the bottom of the other`,
        );
        expect(lower.bottom - upper.top).toBeLessThanOrEqual(2 * 844);
        // Nothing wider than the phone's screen.
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
        await page.evaluate((y) => window.scrollTo(0, y), upper.top);
        await page.screenshot({ path: 'test-results/screenshots/teaching-moment-390x844-1.png' });
        // One scroll on (the lower's bottom at the screen's bottom): all of the lower in view.
        await page.evaluate((y) => window.scrollTo(0, y), Math.max(upper.top, lower.bottom - 844));
        expect(await inViewport(page, lower)).toBe(true);
        await page.screenshot({ path: 'test-results/screenshots/teaching-moment-390x844-2.png' });
        // Hovering the chart on the phone: the tooltip, which names each curve ("pairs train (full fine-tune)"), stays
        // inside the screen (its lines wrap rather than run past the edge).
        await page.locator(LESSON_CHART).locator('.recharts-surface').scrollIntoViewIfNeeded();
        const plot = (await page.locator(LESSON_CHART).locator('.recharts-surface').boundingBox())!;
        await page.mouse.move(plot.x + plot.width - 26, plot.y + plot.height * 0.5); // near the run’s end
        const tip = page.locator(`${LESSON_CHART} .recharts-tooltip-wrapper`);
        await page.waitForFunction(
          (sel) => /\(full fine-tune\)/.test(document.querySelector(sel)?.textContent ?? ''),
          `${LESSON_CHART} .recharts-tooltip-wrapper`,
        );
        const tipBox = (await tip.boundingBox())!;
        console.info(`loss chart tooltip at 390×844: ${JSON.stringify(tipBox)}: ${await tip.textContent()}`);
        expect(tipBox.x, 'the tooltip starts on the screen').toBeGreaterThanOrEqual(0);
        expect(tipBox.x + tipBox.width, 'the tooltip ends on the screen').toBeLessThanOrEqual(390);
        await page.screenshot({ path: 'test-results/screenshots/teaching-moment-390x844-tooltip.png' });
        await page.mouse.move(0, 0);
        // The next step's runs table (eleven columns) scrolls inside its panel: the page stays the phone's width, and
        // the run's name is whole.
        await page.click('[data-testid=lesson-next]');
        await page.waitForSelector('[data-testid=lesson-mode][data-step="5"] [data-testid=runs-table]');
        expect(await page.textContent('[data-testid=run-row] [data-testid=run-name]')).toBe('full fine-tune');
        const table = await page.evaluate(() => {
          const el = document.querySelector('[data-testid=runs-table]')!;
          return { table: el.scrollWidth, box: el.parentElement!.clientWidth, page: document.documentElement.scrollWidth };
        });
        expect(table.table, 'the table is wider than its box (else this checks nothing)').toBeGreaterThan(table.box);
        expect(table.page, `runs table at 390×844: ${JSON.stringify(table)}`).toBeLessThanOrEqual(390);
        expect(errors).toEqual([]);
      }),
    900_000,
  );
});
