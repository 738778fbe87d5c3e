/**
 * Two tabs of the app: the second does not autosave over the first one's session and says so; when the
 * first closes, the second takes the autosave over.
 */
import { expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { newPage, ready, untilRunEnds } from './harness';
import { appForFile } from './appForFile';

const TINY = '?backend=wasm&layers=2&heads=2&embd=32&block=32&batch=8&lr=0.01&schedule=constant&eval=10';

/** Create a model and pretrain it `steps` steps; the run's end autosaves (where this tab may). */
async function train(page: Page, steps: number): Promise<void> {
  await page.click('[data-testid=create-model]');
  await page.waitForSelector('[data-testid=model-info]', { timeout: 60_000 });
  await page.fill('[data-testid=pretrain-steps]', String(steps));
  await untilRunEnds(page, () => page.click('[data-testid=pretrain-start]'), 120_000);
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= n, steps, { timeout: 10_000 });
}

/** The step recorded by the autosave in IndexedDB, read directly (null when there is none). */
function savedStep(page: Page): Promise<number | null> {
  return page.evaluate(
    () =>
      new Promise<number | null>((resolve, reject) => {
        const open = indexedDB.open('small-gpt-playground');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('autosave').objectStore('autosave').get('info');
          get.onsuccess = () => resolve((get.result as { step: number } | undefined)?.step ?? null);
          get.onerror = () => reject(get.error);
        };
      }),
  );
}

const app = appForFile();

it('a second tab leaves the first tab’s autosave alone and says so, until the first tab closes', async () => {
  const { context, page: first, errors } = await newPage(app, TINY);
  try {
    await ready(first);
    await train(first, 3);
    await expect.poll(() => savedStep(first), { timeout: 30_000 }).toBe(3);
    const second = await context.newPage();
    second.on('pageerror', (e) => errors.push(e.message));
    await second.goto(`${app.url}${TINY}`);
    await ready(second);
    await second.waitForSelector('[data-testid=other-tab-banner]', { timeout: 30_000 });
    expect(await first.locator('[data-testid=other-tab-banner]').count()).toBe(0);
    // The second tab trains further; its run's end does not replace the first tab's save.
    await train(second, 6);
    await second.waitForTimeout(1000);
    expect(await savedStep(second)).toBe(3);
    await first.close();
    await second.waitForSelector('[data-testid=other-tab-banner]', { state: 'detached', timeout: 30_000 });
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
}, 180_000);
