/**
 * End-to-end, a page a class can follow (production build, headless Chromium): the header's backend badge
 * in the page's language with its reasons on demand; the pair editor's paged list with a big set; the app
 * offline after one visit (service worker); the presentation and lesson modes; no serious accessibility
 * violations (axe-core). Every page is closed whatever happens (`withPage`).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { preview } from 'vite';
import type { Page } from 'playwright-core';
import { ready, sample, serverUrl, withPage, type App, untilRunEnds } from './harness';
import { appForFile } from './appForFile';

const app = appForFile();

describe('the backend badge', () => {
  it(
    'is short and translated in the Chinese page; the reasons, in Chinese but for the GPU driver’s name, open on a click',
    () =>
      withPage(app, '?lang=zh', async ({ page, errors }) => {
        await ready(page);
        const status = page.locator('[data-testid=backend-status]');
        const name = await status.getAttribute('data-backend');
        const badge = (await page.textContent('[data-testid=backend-badge]'))!.trim();
        const expected = { webgpu: /^GPU · WebGPU$/, webgl: /^GPU · WebGL$/, wasm: /^CPU · WebAssembly · \d+ 个线程$/, cpu: /^CPU · JavaScript$/ }[
          name as 'wasm'
        ];
        expect(badge).toMatch(expected);
        expect(badge.length).toBeLessThan(40);
        // Folded: the reasons are not in view until the badge is clicked.
        expect(await page.isVisible('[data-testid=backend-reasons]')).toBe(false);
        await page.click('[data-testid=backend-badge]');
        await page.waitForSelector('[data-testid=backend-reasons]', { state: 'visible' });
        const reasons = await page.locator('[data-testid=backend-reasons] li').allTextContents();
        expect(reasons.length).toBeGreaterThan(0);
        // The GPU's own name stays as the driver gave it (in parentheses); every other word is ours, in Chinese.
        const ours = reasons.map((r) => r.replace(/（.*）/, ''));
        for (const r of ours) expect(r, r).not.toMatch(/\b(found|only|using|cores|adapter|renderer|thread|failed)\b/);
        expect(reasons.join('\n')).toMatch(/[\u4e00-\u9fff]/);
        await page.screenshot({ path: 'test-results/screenshots/badge-zh.png', clip: { x: 0, y: 0, width: 1280, height: 260 } });
        expect(errors).toEqual([]);
      }),
    200_000,
  );
});

describe('the pair editor scales', () => {
  it(
    'shows one page of 25 rows of a 5,000-pair upload, pages, finds, edits and removes a pair',
    () =>
      withPage(app, '?lang=en&mode=lab', async ({ page, errors }) => {
        await ready(page);
        const jsonl = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ prompt: `What is item ${i}?`, response: `It is item number ${i}.` })).join('\n');
        await page.setInputFiles('[data-testid=pairs-upload]', { name: 'big.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(jsonl) });
        await page.waitForFunction(() => /5,000/.test(document.querySelector('[data-testid=pair-editor] summary')?.textContent ?? ''), null, {
          timeout: 60_000,
        });
        await page.click('[data-testid=pair-editor] summary');
        const rows = () => page.locator('[data-testid=pair-row]').count();
        expect(await rows()).toBe(25);
        expect(await page.locator('[data-testid=pair-editor] input, [data-testid=pair-editor] button').count()).toBeLessThanOrEqual(60 * 3);
        expect(await page.textContent('[data-testid=pairs-page]')).toContain('Pairs 1–25 of 5,000');
        await page.click('[data-testid=pairs-next]');
        expect(await page.textContent('[data-testid=pairs-page]')).toContain('Pairs 26–50 of 5,000');
        expect(await page.inputValue('[aria-label="Prompt 26"]')).toBe('What is item 25?');
        expect(await rows()).toBe(25);

        // Find one pair among 5,000, edit its response (applied on leaving the field), then remove it.
        await page.fill('[data-testid=pair-filter]', 'item 4321?');
        await page.waitForFunction(() => document.querySelectorAll('[data-testid=pair-row]').length === 1);
        expect(await page.textContent('[data-testid=pair-matches]')).toContain('1 of 5,000 pairs match');
        await page.fill('[aria-label="Response 4322"]', 'Edited.');
        await page.press('[aria-label="Response 4322"]', 'Tab');
        await page.waitForFunction(() => (document.querySelector('[aria-label="Response 4322"]') as HTMLInputElement | null)?.value === 'Edited.');
        const t0 = Date.now();
        await page.click('[aria-label="Remove 4322"]');
        await page.waitForFunction(() => /4,999/.test(document.querySelector('[data-testid=pair-editor] summary')?.textContent ?? ''));
        const removeMs = Date.now() - t0;
        expect(await page.textContent('[data-testid=pair-matches]')).toContain('No pair matches');
        await page.fill('[data-testid=pair-filter]', '');
        expect(await rows()).toBe(25);
        console.info(`5,000 pairs: removing one took ${removeMs} ms to show`);

        // On a phone each pair takes two lines: prompt and response at most of the table's width (in four columns a
        // prompt showed a few characters), and Remove on one line.
        await page.setViewportSize({ width: 390, height: 844 });
        const layout = await page.evaluate(() => {
          const table = document.querySelector('.pair-table')!.getBoundingClientRect();
          const prompt = document.querySelector('[aria-label="Prompt 1"]')!.getBoundingClientRect();
          const response = document.querySelector('[aria-label="Response 1"]')!.getBoundingClientRect();
          const remove = document.querySelector('[aria-label="Remove 1"]')!;
          const range = document.createRange();
          range.selectNodeContents(remove);
          const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
          return { table: table.width, prompt: prompt.width, below: response.top >= prompt.bottom, lines };
        });
        expect(layout.prompt / layout.table, JSON.stringify(layout)).toBeGreaterThan(0.6);
        expect(layout.below, JSON.stringify(layout)).toBe(true);
        expect(layout.lines, JSON.stringify(layout)).toBe(1);
        expect(errors).toEqual([]);
      }),
    200_000,
  );
});

describe('offline and installable', () => {
  it('on a host without isolation headers the service worker isolates the page; after one visit it runs offline: a starter loads and answers', async () => {
    // The build appForFile made, served as a plain static host: no COOP/COEP headers.
    const server = await preview({ configFile: false, logLevel: 'warn', preview: { port: 0, host: '127.0.0.1', strictPort: false, headers: {} } });
    const host: App = { url: serverUrl(server), browser: app.browser, close: async () => undefined };
    let closed = false;
    const stopServer = async () => {
      if (closed) return;
      closed = true;
      (server.httpServer as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
    };
    try {
      await withPage(host, '?lang=en&backend=wasm', async ({ page, context, errors }) => {
        // The manifest: a name and an icon.
        const manifest = await page.evaluate(async () => {
          const href = document.querySelector('link[rel=manifest]')?.getAttribute('href');
          return href ? ((await (await fetch(href)).json()) as { name: string; icons: { src: string }[] }) : null;
        });
        expect(manifest?.name).toBe('Small GPT Playground');
        expect(manifest?.icons.length).toBeGreaterThan(0);
        // The worker takes control (once it has stored the whole build), and the page reloads isolated.
        await expect
          .poll(() => page.evaluate(() => crossOriginIsolated && navigator.serviceWorker.controller !== null).catch(() => false), {
            timeout: 120_000,
            interval: 500,
          })
          .toBe(true);
        await ready(page);
        const stored = await page.evaluate(async () => {
          const keys = await caches.keys();
          const cache = await caches.open(keys.find((k) => k.startsWith('small-gpt-'))!);
          return (await cache.keys()).map((r) => new URL(r.url).pathname);
        });
        expect(stored).toContain('/index.html');
        expect(stored).toContain('/datasets/manifest.json');
        expect(stored).toContain('/starters/en.safetensors');
        expect(stored.some((p) => /^\/assets\/training\.worker-.*\.js$/.test(p))).toBe(true);
        expect(stored.some((p) => /\.wasm$/.test(p))).toBe(true);

        // Network off, and the server gone: everything now comes from the service worker.
        await context.setOffline(true);
        await stopServer();
        await page.reload();
        await ready(page);
        expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
        await page.click('[data-testid=starter-en]');
        await page.waitForSelector('[data-testid=notice]:has-text("pretrained starter")', { timeout: 60_000 });
        const reply = await sample(page, 'What is your name, sailor?', 1);
        expect(reply.trim().length).toBeGreaterThan(0);
        expect(errors).toEqual([]);
      });
    } finally {
      await stopServer();
    }
  }, 300_000);
});

/** Interactive controls inside the viewport and visible: what a person sees they can use on the first screen. */
const controlsInView = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('input, select, textarea, button, summary, a[href]')]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        return (
          r.width > 0 &&
          r.height > 0 &&
          r.bottom > 0 &&
          r.top < innerHeight &&
          r.right > 0 &&
          r.left < innerWidth &&
          style.visibility !== 'hidden' &&
          el.closest('details:not([open]) > :not(summary)') === null
        );
      })
      .map((el) => `${el.tagName.toLowerCase()}${el.dataset.testid ? `[${el.dataset.testid}]` : ''}`),
  );

/** Replace the browser's Wake Lock with a counter: how many screen locks the page holds now, and has asked for. */
const countWakeLocks = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as { __wake: { requests: number; held: number } };
    w.__wake = { requests: 0, held: 0 };
    (WakeLock.prototype as unknown as { request: () => Promise<unknown> }).request = async () => {
      w.__wake.requests++;
      w.__wake.held++;
      const s = { released: false, release: async () => void (!s.released && ((s.released = true), w.__wake.held--)) };
      return s;
    };
  });
const wakeLocks = (page: Page) => page.evaluate(() => (window as unknown as { __wake: { requests: number; held: number } }).__wake);

describe('the lesson view', () => {
  it(
    'is the first visit’s view: one obvious first action and ≤ 10 controls at 1366×768; each step shows its one control; the rest folded; the step and mode in the URL',
    () =>
      withPage(app, '?lang=en', async ({ page, errors }) => {
        await page.setViewportSize({ width: 1366, height: 768 });
        await ready(page);
        await page.waitForSelector('[data-testid=lesson-mode][data-step="1"]');
        await page.waitForSelector('[data-testid=lesson-starter]:not([disabled])');
        const controls = await controlsInView(page);
        console.info(`lesson, first screen at 1366×768: ${controls.length} controls: ${controls.join(' ')}`);
        expect(controls.length).toBeLessThanOrEqual(10);
        // One primary action in view: load the starter.
        const primaries = await page.locator('button.primary:visible').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
        expect(primaries).toEqual(['lesson-starter']);
        // Beside the first step, where the lesson goes: five steps, this one marked (text, no controls).
        const roadmap = page.locator('[data-testid=lesson-roadmap] li');
        expect(await roadmap.count()).toBe(5);
        expect(await page.locator('[data-testid=lesson-roadmap] li[aria-current=step]').innerText()).toMatch(/^Pick a starter model — /);
        expect(await page.isVisible('[data-testid=lesson-roadmap]')).toBe(true);
        await page.screenshot({ path: 'test-results/screenshots/lesson-mode-step1-en.png' });
        // Everything else a click away, folded.
        expect(await page.isVisible('[data-testid=pretrain-start]')).toBe(false);
        expect(await page.locator('[data-testid=pretrain-start]').count()).toBe(1);

        // 1 → 2: load the starter; the lesson moves on to asking it.
        await page.click('[data-testid=lesson-starter]');
        await page.waitForSelector('[data-testid=lesson-mode][data-step="2"]', { timeout: 60_000 });
        expect(new URL(page.url()).searchParams.get('mode')).toBe('lesson');
        expect(new URL(page.url()).searchParams.get('step')).toBe('2');
        await page.click('[data-testid=lesson-ask]');
        await page.waitForFunction(() => (document.querySelector('[data-testid=lesson-reply]')?.textContent ?? '').trim().length > 0, null, {
          timeout: 60_000,
        });
        await page.waitForSelector('[data-testid=lesson-ask]:not([disabled])', { timeout: 60_000 });
        expect(await page.locator('[data-testid=lesson-roadmap] li[aria-current=step]').innerText()).toMatch(/^Ask it a question — /);
        await page.screenshot({ path: 'test-results/screenshots/lesson-mode-step2-en.png' });

        // 3: fine-tune, its chart and diagram beside; it runs, and stops.
        await page.click('[data-testid=lesson-next]');
        await page.click('[data-testid=lesson-finetune]');
        await page.waitForFunction(() => /Step [1-9]/.test(document.querySelector('[data-testid=lesson-progress]')?.textContent ?? ''), null, {
          timeout: 120_000,
        });
        expect(await page.isVisible('[data-testid=loss-chart]')).toBe(true);
        // From here the view shows the step's own chart, diagram or quiz instead.
        expect(await page.locator('[data-testid=lesson-roadmap]').count()).toBe(0);
        await page.screenshot({ path: 'test-results/screenshots/lesson-mode-step3-en.png' });
        // Stop: the run scores its answers (which can take minutes on a slow machine), then ends.
        await page.click('[data-testid=lesson-stop]');
        await page.waitForSelector('[data-testid=lesson-finetune]:not([disabled])', { timeout: 600_000 });

        // All settings: a click away.
        await page.click('[data-testid=all-settings] > summary');
        expect(await page.isVisible('[data-testid=finetune-start]')).toBe(true);

        // The view survives a reload (it is in the URL); the lab is one choice away and remembered too.
        await page.reload();
        await page.waitForSelector('[data-testid=lesson-mode][data-step="3"]');
        await page.selectOption('[data-testid=mode-select]', 'lab');
        await page.waitForSelector('[data-testid=view-column]');
        expect(new URL(page.url()).searchParams.get('mode')).toBe('lab');
        // The next visit to the bare address opens the lab chosen last.
        await page.goto(app.url);
        await page.waitForSelector('[data-testid=view-column]');
        expect(await page.inputValue('[data-testid=mode-select]')).toBe('lab');
        expect(errors).toEqual([]);
      }),
    900_000,
  );
});

describe('the presentation view', () => {
  it(
    'at 1280×720: the starter one button away, then large type, the chart, diagram and answers; Space pauses and resumes, → steps once, F fine-tunes; the screen stays awake while training',
    () =>
      withPage(app, '?lang=en&backend=wasm&mode=lab', async ({ page, errors }) => {
        await page.setViewportSize({ width: 1280, height: 720 });
        await ready(page);
        await countWakeLocks(page);
        await page.selectOption('[data-testid=mode-select]', 'present');
        await page.waitForSelector('[data-testid=present-mode]');
        expect(new URL(page.url()).searchParams.get('present')).toBe('1');
        // Opened with no model: the lesson's starter is one button away, where the diagram will be.
        expect(await page.locator('[data-testid=diagram]').count()).toBe(0);
        await page.click('[data-testid=present-starter]');
        await page.waitForSelector('[data-testid=diagram]', { timeout: 60_000 });
        // Ready once the pairs are too (F before that does nothing).
        await page.waitForSelector('[data-testid=present-progress]:has-text("Ready: press F")', { timeout: 60_000 });
        expect(await page.locator('[data-testid=present-starter]').count()).toBe(0);
        const status = () => page.getAttribute('[data-testid=present-progress]', 'data-status');
        const step = async () => Number(await page.getAttribute('[data-testid=present-progress]', 'data-step'));

        await page.keyboard.press('f');
        await page.waitForFunction(() => Number(document.querySelector('[data-testid=present-progress]')?.getAttribute('data-step')) >= 3, null, {
          timeout: 120_000,
        });
        expect(await status()).toBe('running');
        expect((await wakeLocks(page)).held).toBe(1);

        await page.keyboard.press(' ');
        await page.waitForSelector('[data-testid=present-progress][data-status=paused]', { timeout: 30_000 });
        expect((await wakeLocks(page)).held).toBe(0);
        const paused = await step();
        await page.keyboard.press('ArrowRight');
        await page.waitForFunction((n) => Number(document.querySelector('[data-testid=present-progress]')?.getAttribute('data-step')) === n + 1, paused, {
          timeout: 30_000,
        });
        await page.waitForSelector('[data-testid=present-progress][data-status=paused]', { timeout: 30_000 });
        expect(await step()).toBe(paused + 1);

        // Readable on a projector: large type, the chart in view, nothing wider than the screen.
        const look = await page.evaluate(() => {
          const px = (sel: string) => parseFloat(getComputedStyle(document.querySelector(sel)!).fontSize);
          const chart = document.querySelector('[data-testid=loss-chart]')!.getBoundingClientRect();
          return {
            progress: px('[data-testid=present-progress]'),
            body: px('.present'),
            chartBottom: chart.bottom,
            chartWidth: chart.width,
            scrollWidth: document.documentElement.scrollWidth,
          };
        });
        console.info(`presentation at 1280×720: ${JSON.stringify(look)}`);
        expect(look.progress).toBeGreaterThanOrEqual(22);
        expect(look.body).toBeGreaterThanOrEqual(18);
        expect(look.chartBottom).toBeLessThanOrEqual(720);
        expect(look.chartWidth).toBeGreaterThan(600);
        expect(look.scrollWidth).toBeLessThanOrEqual(1280);
        expect(await page.locator('[data-testid=data-panel], [data-testid=pretrain-start]').count()).toBe(0);
        await page.screenshot({ path: 'test-results/screenshots/present-en.png' });

        await page.keyboard.press(' ');
        await page.waitForSelector('[data-testid=present-progress][data-status=running]', { timeout: 30_000 });
        expect((await wakeLocks(page)).held).toBe(1);
        await page.click('[data-testid=present-exit]');
        await page.selectOption('[data-testid=mode-select]', 'lab');
        // Stop: the run scores its answers (minutes on a slow machine; the lock is held meanwhile), then ends.
        await untilRunEnds(page, () => page.click('[data-testid=finetune-stop]'), 600_000);
        expect((await wakeLocks(page)).held).toBe(0);
        expect((await wakeLocks(page)).requests).toBe(3); // the start, the one step, the resume
        expect(errors).toEqual([]);
      }),
    900_000,
  );
});

describe('accessibility (axe-core)', () => {
  const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  interface Violation {
    id: string;
    impact: string | null;
    help: string;
    nodes: { target: unknown[]; failureSummary?: string }[];
  }
  /** axe's serious and critical violations on the page as it is now. */
  const serious = async (page: Page): Promise<Violation[]> => {
    await page.addScriptTag({ content: AXE });
    const { violations, passes } = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run(): Promise<{ violations: Violation[]; passes: unknown[] }> } }).axe.run();
      return { violations: r.violations, passes: r.passes.length };
    });
    console.info(`axe: ${passes} rules pass; ${violations.length} violated: ${violations.map((v) => `${v.id} (${v.impact})`).join(', ') || 'none'}`);
    expect(passes).toBeGreaterThan(10); // axe ran
    return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  };
  const describeAll = (vs: Violation[]) =>
    vs
      .map(
        (v) =>
          `${v.id} (${v.impact}): ${v.help}: ${v.nodes
            .slice(0, 3)
            .map((n) => `${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`)
            .join(' | ')}`,
      )
      .join('\n');

  for (const lang of ['en', 'zh'] as const) {
    for (const mode of ['lesson', 'lab', 'present'] as const) {
      it(
        `${mode} view in ${lang === 'en' ? 'English' : 'Chinese'}: no serious or critical violations`,
        () =>
          withPage(app, `?lang=${lang}&mode=${mode === 'present' ? 'lab' : mode}`, async ({ page, errors }) => {
            await ready(page);
            if (mode !== 'lesson') {
              // With a model: the diagram, the chart's curves and the runs table are drawn too.
              await page.click(`[data-testid=starter-${lang}]`);
              await page.waitForSelector('[data-testid=model-info]', { timeout: 60_000 });
            }
            if (mode === 'present') {
              await page.selectOption('[data-testid=mode-select]', 'present');
              await page.waitForSelector('[data-testid=present-mode]');
            }
            // The reasons behind the badge are checked too: open them.
            await page.click('[data-testid=backend-badge]');
            if (mode === 'lesson') await page.click('[data-testid=all-settings] > summary');
            await page.screenshot({ path: `test-results/screenshots/axe-${mode}-${lang}.png` });
            const found = await serious(page);
            expect(found, describeAll(found)).toEqual([]);
            expect(errors).toEqual([]);
          }),
        200_000,
      );
    }
  }
});
