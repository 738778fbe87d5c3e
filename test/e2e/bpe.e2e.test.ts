/**
 * A BPE model in the production build: the tokenizer is trained in the worker with its progress shown, the
 * model pretrains and samples, the tokenizer view shows coloured tokens, the chart switches to bits per
 * character, and the model (with its tokenizer) round-trips through export → import and the autosave.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { newPage, ready, sample, untilRunEnds } from './harness';
import { appForFile } from './appForFile';
import { readSafetensors } from '../../src/engine/io/safetensors';

const app = appForFile();

const TINY = '?backend=wasm&layers=2&heads=2&embd=32&block=32&batch=8&lr=0.01&schedule=constant&eval=10&seed=5';

it('trains a BPE tokenizer with a progress bar, pretrains, samples, shows tokens and round-trips export → import', async () => {
  const { context, page, errors } = await newPage(app, `${TINY}&tok=bpe&vocab=320`);
  try {
    await ready(page);
    expect(await page.inputValue('[data-testid=tokenizer-select]')).toBe('bpe');
    expect(await page.inputValue('[data-testid=vocab-input]')).toBe('320');
    // The progress bar may come and go quickly: note every value it shows.
    await page.evaluate(() => {
      const w = window as unknown as { __progress: string[] };
      w.__progress = [];
      new MutationObserver(() => {
        const el = document.querySelector('[data-testid=tokenizer-progress]');
        if (el) w.__progress.push(el.textContent ?? '');
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.click('[data-testid=create-model]');
    await page.waitForSelector('[data-testid=model-info]', { timeout: 120_000 });
    await page.waitForSelector('[data-testid=tokenizer-progress]', { state: 'detached', timeout: 60_000 });
    const progress = await page.evaluate(() => (window as unknown as { __progress: string[] }).__progress);
    expect(progress.some((p) => p.includes('Training the tokenizer'))).toBe(true);
    expect(await page.textContent('[data-testid=model-info]')).toContain('a vocabulary of 320');

    // The tokenizer view: the start of the text as tokens in alternating colours, fewer than its characters.
    const view = page.locator('[data-testid=tokenizer-view]');
    expect(await view.getAttribute('data-kind')).toBe('bpe');
    const pieces = view.locator('[data-testid=tokenizer-sample] [data-testid=tok-piece]');
    const n = await pieces.count();
    expect(n).toBeGreaterThan(10);
    const texts = await pieces.allTextContents();
    expect(texts.some((t) => t.length > 1)).toBe(true);
    expect(await pieces.nth(0).getAttribute('class')).not.toBe(await pieces.nth(1).getAttribute('class'));
    const charN = Number(await page.getAttribute('[data-testid=tokenizer-char]', 'data-count'));
    const modelN = Number(await page.getAttribute('[data-testid=tokenizer-model]', 'data-count'));
    expect(modelN).toBeLessThan(charN);

    await page.fill('[data-testid=pretrain-steps]', '20');
    await page.fill('[data-testid=pretrain-sample-every]', '0');
    await untilRunEnds(page, () => page.click('[data-testid=pretrain-start]'), 180_000);
    // every step is drawn (the chart redraws from a timer, at most once a second: wait for it, not for a fixed time)
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= 20, null, { timeout: 10_000 });
    // The "?" inside the switch's label explains bits per character without flipping the switch.
    const tip = page.locator('label:has([data-testid=bpc-toggle]) .tip-button');
    await tip.click();
    await expect.poll(() => page.locator('label:has([data-testid=bpc-toggle]) .tip-body').count()).toBe(1);
    expect(await page.isChecked('[data-testid=bpc-toggle]')).toBe(false);
    await page.click('label:has([data-testid=bpc-toggle]) .tip-body'); // its text, too
    expect(await page.isChecked('[data-testid=bpc-toggle]')).toBe(false);
    await tip.click();
    expect(await page.locator('label:has([data-testid=bpc-toggle]) .tip-body').count()).toBe(0);
    await page.check('[data-testid=bpc-toggle]');
    expect(await page.getAttribute('[data-testid=loss-chart]', 'data-unit')).toBe('bpc');

    // The CSV's evaluation rows carry bits per character: loss · tokens / (chars · ln 2) > loss / ln 2 · 1/cpt.
    const [csvDl] = await Promise.all([page.waitForEvent('download'), page.click('text=Export chart data (CSV)')]);
    const csv = readFileSync((await csvDl.path())!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const col = csv[0].indexOf('bpc_val');
    const evalCol = csv[0].indexOf('eval_val');
    expect(col).toBeGreaterThan(0);
    const evalRow = csv.find((c) => c[2] === 'eval')!;
    expect(Number(evalRow[col])).toBeGreaterThan(0);
    expect(Number(evalRow[col])).toBeLessThan(Number(evalRow[evalCol]) / Math.LN2); // > 1 char per token

    const text = await sample(page, 'The ', 7);
    expect(text.length).toBeGreaterThan(4);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-model]')]);
    const file = (await download.path())!;
    const st = readSafetensors(new Uint8Array(readFileSync(file)));
    expect(JSON.parse(st.metadata.tokenizer)).toMatchObject({ kind: 'bpe' });

    // A fresh page with a character model, then the file: the BPE tokenizer and the same sample come back.
    const second = await newPage(app, TINY);
    try {
      await ready(second.page);
      await second.page.click('[data-testid=create-model]');
      await second.page.waitForSelector('[data-testid=tokenizer-view][data-kind=char]', { timeout: 60_000 });
      await second.page.setInputFiles('[data-testid=import-model]', file);
      await second.page.waitForSelector('[data-testid=notice]:has-text("Loaded")');
      await second.page.waitForSelector('[data-testid=tokenizer-view][data-kind=bpe]');
      expect(await second.page.textContent('[data-testid=model-info]')).toContain('a vocabulary of 320');
      expect(await sample(second.page, 'The ', 7)).toBe(text);
      expect(second.errors).toEqual([]);
    } finally {
      await second.context.close();
    }

    // The autosave (written when the run ended) brings the BPE model back after a reload, tokenizer and all.
    await page.reload();
    await ready(page);
    await page.click('[data-testid=resume-autosave]');
    await page.waitForSelector('[data-testid=notice]:has-text("Restored")', { timeout: 60_000 });
    await page.waitForSelector('[data-testid=tokenizer-view][data-kind=bpe]');
    expect(await page.textContent('[data-testid=model-info]')).toContain('a vocabulary of 320');
    expect(await sample(page, 'The ', 7)).toBe(text);
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
}, 400_000);

it('cancels a BPE training: the bar goes, no model is made, no error is shown, and Create works again', async () => {
  // The whole of Moby-Dick and the largest vocabulary: thousands of merges, seconds of training to cancel.
  const { context, page, errors } = await newPage(app, `${TINY}&data=moby-dick&tok=bpe&vocab=8192`);
  try {
    await ready(page);
    await page.click('[data-testid=create-model]');
    await page.waitForSelector('[data-testid=tokenizer-progress]:has-text("merges")', { timeout: 60_000 });
    expect(await page.isDisabled('[data-testid=create-model]')).toBe(true);
    await page.click('[data-testid=tokenizer-cancel]');
    await page.waitForSelector('[data-testid=tokenizer-progress]', { state: 'detached', timeout: 30_000 });
    expect(await page.locator('[data-testid=model-info]').count()).toBe(0);
    expect(await page.locator('[data-testid=notice]').count()).toBe(0);
    expect(await page.isDisabled('[data-testid=create-model]')).toBe(false);
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
}, 200_000);
