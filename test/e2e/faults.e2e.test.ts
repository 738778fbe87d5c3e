/**
 * Nothing lost, nothing silent, in the page: uploads come back with a restored session, a run resumes only
 * on the data it trained on, memory is refused before any work, the URL says what it ignored (in the page's
 * language), and text the template or a model cannot use is refused by line. Production build, headless
 * Chromium, WebAssembly.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { autosavedAt, backendReport, chartPoints, createModel, ready, startPretraining, withPage, untilRunEnds } from './harness';
import { appForFile } from './appForFile';

const app = appForFile();

const TINY = 'layers=2&heads=2&embd=32&block=32&batch=8&lr=0.01&schedule=constant&eval=10';
// A text with its own alphabet (no capital letters, no punctuation but the full stop): Moby-Dick has 80-odd characters.
const NOTES = 'the tide comes in and the tide goes out. the gulls cry over the harbour wall. '.repeat(40);
const PAIRS = 'prompt,response\nwhere is the tide,it comes in.\nwhat do gulls do,they cry.\nwhat is the wall,the harbour wall.\n';

const upload = (page: Page, testId: string, name: string, body: string, mimeType = 'text/plain') =>
  page.setInputFiles(`[data-testid=${testId}]`, { name, mimeType, buffer: Buffer.from(body) });
/** The notice's words, without its Dismiss button. */
const notice = (page: Page) => page.evaluate(() => document.querySelector('[data-testid=notice]')?.firstChild?.textContent ?? '');
const selectedLabel = (page: Page, id: string) =>
  page.evaluate((sel) => (document.querySelector(sel) as HTMLSelectElement).selectedOptions[0]?.textContent ?? '', `#${id}`);

/** Upload the notes and the pairs, create a model on them, and pretrain until an autosave at step ≥ 20; then reload. */
async function trainedOnUploadsThenReload(page: Page): Promise<void> {
  await ready(page);
  await upload(page, 'corpus-upload', 'notes.txt', NOTES);
  await page.waitForFunction(() => document.querySelector('[data-testid=corpus-info]')?.textContent?.includes('3,120 characters'), null, { timeout: 60_000 });
  await upload(page, 'pairs-upload', 'qa.csv', PAIRS, 'text/csv');
  // (the pairs' counts come once a model's tokenizer reads them)
  await page.waitForFunction(() => (document.querySelector('#pairs-select') as HTMLSelectElement).selectedOptions[0]?.textContent === 'qa.csv', null, {
    timeout: 60_000,
  });
  await createModel(page);
  await page.waitForSelector('[data-testid=pairs-info]', { timeout: 60_000 });
  await page.fill('#autosave-every', '10');
  await startPretraining(page, 5000);
  await autosavedAt(page, 20);
  await page.reload();
  await page.waitForSelector('[data-testid=resume-banner]', { timeout: 60_000 });
}

describe('uploads are part of the session', () => {
  it(
    'a reload mid-run brings back the uploaded text and pairs, and Resume trains on them',
    () =>
      withPage(app, `?backend=wasm&${TINY}`, async ({ page, errors }) => {
        await trainedOnUploadsThenReload(page);
        await page.click('[data-testid=resume-autosave]');
        await page.waitForSelector('[data-testid=notice]:has-text("Restored")', { timeout: 60_000 });
        // The selects name the uploads, not the bundled sets the page loaded with.
        expect(await selectedLabel(page, 'corpus-select')).toBe('notes.txt');
        expect(await selectedLabel(page, 'pairs-select')).toBe('qa.csv');
        await page.waitForFunction(() => document.querySelector('[data-testid=corpus-info]')?.textContent?.includes('3,120 characters'), null, {
          timeout: 60_000,
        });
        const before = await chartPoints(page);
        await page.click('[data-testid=pretrain-resume]');
        await page.waitForFunction((n) => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= n + 10, before, {
          timeout: 120_000,
        });
        await untilRunEnds(page, () => page.click('[data-testid=pretrain-stop]'), 60_000);
        expect(errors).toEqual([]);
      }),
    400_000,
  );

  it(
    'a session saved without its upload refuses to resume on other data, names the file, and resumes once it is uploaded again',
    () =>
      withPage(app, `?backend=wasm&${TINY}`, async ({ page, errors }) => {
        await trainedOnUploadsThenReload(page);
        // An autosave from before uploads were kept: the same session without its uploads record.
        await page.evaluate(
          () =>
            new Promise<void>((done, fail) => {
              const open = indexedDB.open('small-gpt-playground');
              open.onsuccess = () => {
                const tx = open.result.transaction('autosave', 'readwrite');
                tx.objectStore('autosave').delete('uploads');
                tx.oncomplete = () => done();
                tx.onerror = () => fail(tx.error);
              };
              open.onerror = () => fail(open.error);
            }),
        );
        await page.click('[data-testid=resume-autosave]');
        await page.waitForSelector('[data-testid=notice]:has-text("Restored")', { timeout: 60_000 });
        const points = await chartPoints(page);
        await page.click('[data-testid=pretrain-resume]');
        await page.waitForSelector('[data-testid=notice]:has-text("notes.txt")', { timeout: 10_000 });
        expect(await notice(page)).toMatch(/This run trained on “notes\.txt”, which is not the text selected now/);
        expect(await page.isEnabled('[data-testid=pretrain-resume]')).toBe(true); // still paused: nothing started
        expect(await chartPoints(page)).toBe(points);
        // The same file again: Resume goes on.
        await upload(page, 'corpus-upload', 'notes.txt', NOTES);
        await page.waitForFunction(() => document.querySelector('[data-testid=corpus-info]')?.textContent?.includes('3,120 characters'), null, {
          timeout: 60_000,
        });
        await page.click('[data-testid=pretrain-resume]');
        await page.waitForFunction((n) => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= n + 10, points, {
          timeout: 120_000,
        });
        await untilRunEnds(page, () => page.click('[data-testid=pretrain-stop]'), 60_000);
        expect(errors).toEqual([]);
      }),
    400_000,
  );
});

describe('refused before work, and said', () => {
  it(
    'a model WebAssembly cannot hold (60,000 distinct characters on small) is refused with the setting to lower; Create stays disabled',
    () =>
      withPage(app, `?backend=wasm&preset=small`, async ({ page, errors }) => {
        await ready(page);
        let chars = '';
        for (let c = 0x100; c < 0xd800 && chars.length < 54_000; c++) chars += String.fromCharCode(c);
        for (let c = 0xe000; chars.length < 60_000; c++) chars += String.fromCharCode(c);
        await upload(page, 'corpus-upload', 'many.txt', chars + chars);
        await page.waitForSelector('[data-testid=memory-problem]', { timeout: 60_000 });
        expect(await page.textContent('[data-testid=memory-problem]')).toMatch(
          /^training needs about \d+\.\d GB, more than WebAssembly can hold \(3\.8 GB\): lower the batch size to \d+ or less$/,
        );
        expect(await page.isDisabled('[data-testid=create-model]')).toBe(true);
        // tiny fits, but the vocabulary is warned about
        await page.selectOption('[data-testid=preset-select]', 'tiny');
        await page.waitForSelector('[data-testid=vocab-warning]', { timeout: 10_000 });
        expect(await page.textContent('[data-testid=vocab-warning]')).toMatch(/60,000 distinct characters/);
        expect(await page.isEnabled('[data-testid=create-model]')).toBe(true);
        expect(errors).toEqual([]);
      }),
    200_000,
  );

  it(
    'on WebGPU, a batch whose largest tensor does not fit in one of the device’s buffers is refused, naming the batch that fits',
    () =>
      withPage(app, `?backend=webgpu&${TINY}`, async ({ page, errors }) => {
        await ready(page);
        const report = await backendReport(page);
        expect(report.name).toBe('webgpu');
        // The device's own limit, as TF.js requested it from the adapter.
        const limit = report.maxTensorBytes ?? 0;
        expect(limit).toBeGreaterThan(0);
        const problem = '[data-testid=memory-problem]';
        await page.fill('[data-testid=pretrain-batch]', '1000000');
        await page.waitForSelector(problem, { timeout: 10_000 });
        const said = (await page.textContent(problem)) ?? '';
        const m = said.match(
          /^the step’s largest tensor \(([^,]+), \d+ MB\) is more than WebGPU allows in one buffer on this GPU \((\d+) MB\): lower the batch size to (\d+) or less$/,
        );
        expect(m, said).not.toBeNull();
        expect(Number(m![2])).toBe(Math.round(limit / 1e6));
        expect(await page.isDisabled('[data-testid=create-model]')).toBe(true);
        // The batch it names fits; one more does not.
        const fits = Number(m![3]);
        await page.fill('[data-testid=pretrain-batch]', String(fits));
        await page.waitForSelector(problem, { state: 'detached', timeout: 10_000 });
        expect(await page.isEnabled('[data-testid=create-model]')).toBe(true);
        await page.fill('[data-testid=pretrain-batch]', String(fits + 1));
        await page.waitForSelector(problem, { timeout: 10_000 });
        expect(errors).toEqual([]);
      }),
    200_000,
  );

  it('the URL says what it ignored, in the page’s language', async () => {
    await withPage(app, `?backend=nonsense&steps=1e12&lr=NaN&seed=-7.5&${TINY}`, async ({ page }) => {
      await ready(page);
      expect(await notice(page)).toBe('The link had settings this page cannot use, left as they were: backend=nonsense, seed=-7.5, steps=1e12, lr=NaN.');
      expect(await page.inputValue('[data-testid=pretrain-steps]')).not.toBe('1000000000000');
    });
    await withPage(app, `?lang=zh&backend=nonsense`, async ({ page }) => {
      await ready(page);
      expect(await notice(page)).toBe('链接里有本页不能使用的设置，已保持原样：backend=nonsense。');
    });
  }, 200_000);

  it(
    'a binary part after the start of a text, and a prompt holding the end marker, are refused by where they are',
    () =>
      withPage(app, `?backend=wasm&${TINY}`, async ({ page, errors }) => {
        await ready(page);
        const before = await page.textContent('[data-testid=corpus-info]');
        await upload(page, 'corpus-upload', 'late.txt', NOTES.repeat(30) + '\u0000tail');
        await page.waitForSelector('[data-testid=data-error]', { timeout: 30_000 });
        expect(await page.textContent('[data-testid=data-error]')).toMatch(/late\.txt looks binary \(it contains NUL bytes, the first at character 93601\)/);
        expect(await page.textContent('[data-testid=corpus-info]')).toBe(before);
        await upload(page, 'pairs-upload', 'turns.csv', 'prompt,response\n"one\n\ntwo",reply\nfine,ok\n', 'text/csv');
        await page.waitForSelector('text=prompt contains a blank line', { timeout: 30_000 });
        expect(await page.textContent('[data-testid=pairs-problems]')).toMatch(/line 2: prompt contains a blank line/);
        expect(errors).toEqual([]);
      }),
    200_000,
  );
});
