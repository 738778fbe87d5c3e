/**
 * End-to-end, a page a class can follow (production build, headless Chromium): the header's backend badge
 * in the page's language with its reasons on demand; the pair editor's paged list with a big set; the app
 * offline after one visit (service worker); the presentation and lesson modes; no serious accessibility
 * violations (axe-core). Every page is closed whatever happens (`withPage`).
 */
import { describe, expect, it } from 'vitest';
import { preview } from 'vite';
import { ready, sample, serverUrl, withPage, type App } from './harness';
import { appForFile } from './appForFile';

const app = appForFile();

describe('the backend badge', () => {
  it('is short and translated in the Chinese page; the reasons, in Chinese but for the GPU driver’s name, open on a click', () =>
    withPage(app, '?lang=zh', async ({ page, errors }) => {
      await ready(page);
      const status = page.locator('[data-testid=backend-status]');
      const name = await status.getAttribute('data-backend');
      const badge = (await page.textContent('[data-testid=backend-badge]'))!.trim();
      const expected = { webgpu: /^GPU · WebGPU$/, webgl: /^GPU · WebGL$/, wasm: /^CPU · WebAssembly · \d+ 个线程$/, cpu: /^CPU · JavaScript$/ }[name as 'wasm'];
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
    }), 200_000);
});

describe('the pair editor scales', () => {
  it('shows one page of 25 rows of a 5,000-pair upload, pages, finds, edits and removes a pair', () =>
    withPage(app, '?lang=en', async ({ page, errors }) => {
      await ready(page);
      const jsonl = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ prompt: `What is item ${i}?`, response: `It is item number ${i}.` })).join('\n');
      await page.setInputFiles('[data-testid=pairs-upload]', { name: 'big.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(jsonl) });
      await page.waitForFunction(() => /5,000/.test(document.querySelector('[data-testid=pair-editor] summary')?.textContent ?? ''), null, { timeout: 60_000 });
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
      expect(errors).toEqual([]);
    }), 200_000);
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
        await expect.poll(() => page.evaluate(() => crossOriginIsolated && navigator.serviceWorker.controller !== null).catch(() => false), { timeout: 120_000, interval: 500 }).toBe(true);
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
