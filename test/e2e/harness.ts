/**
 * End-to-end harness: builds the app with Vite, serves the production build with `vite preview` on a
 * free local port, and drives Debian's Chromium (no browser download) through playwright-core.
 */
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { build, preview, type PreviewServer } from 'vite';
import { chromium, type Browser, type BrowserContext, type Page, type Worker } from 'playwright-core';
import type { BackendReport } from '../../src/worker/protocol';
import { ISOLATION_HEADERS, wasmThreads } from '../../scripts/wasmThreadsPlugin';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Flags measured to give WebGL and (software) WebGPU in headless Chromium on a machine without a GPU.
const FLAGS = [
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--disable-dev-shm-usage',
];

/**
 * Build a test page (a folder with an index.html) into an ignored folder and serve it; Chromium with the
 * same flags. Served cross-origin isolated like the app (so WebAssembly trains on threads) unless
 * `isolated` is false.
 */
export async function startTestPage(root: string, outDir: string, { isolated = true } = {}): Promise<App> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  await build({ ...pageConfig(root, outDir), mode: 'production' });
  return serve(await previewTestPage(root, outDir, { isolated }));
}

/** The Vite config of a test page: the app's wasm-threads patch, without the app's config file. */
function pageConfig(root: string, outDir: string) {
  return {
    root,
    configFile: false as const,
    logLevel: 'warn' as const,
    plugins: [wasmThreads()],
    worker: { plugins: () => [wasmThreads()] },
    build: { outDir, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 8000 },
  };
}

/** Serve a test page already built by startTestPage (e.g. a second time, not isolated). */
export function previewTestPage(root: string, outDir: string, { isolated = true } = {}): Promise<PreviewServer> {
  return preview({ ...pageConfig(root, outDir), preview: { port: 0, host: '127.0.0.1', strictPort: false, headers: isolated ? ISOLATION_HEADERS : {} } });
}

/** The URL a preview server listens on. */
export function serverUrl(server: PreviewServer): string {
  return server.resolvedUrls?.local[0] ?? `http://127.0.0.1:${(server.httpServer.address() as { port: number }).port}/`;
}

/** Chromium with the flags above, against a preview server; close() stops both. */
async function serve(server: PreviewServer): Promise<App> {
  const url = serverUrl(server);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  return {
    url,
    browser,
    async close() {
      await browser.close();
      await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
    },
  };
}

export interface App {
  url: string;
  browser: Browser;
  close(): Promise<void>;
}

let built = false;

/**
 * The production build served as the app is (cross-origin isolated: WebAssembly on every core), or with
 * `isolated: false` as a plain static host (no isolation headers; block service workers in the page's context too,
 * as the app's would add them): WebAssembly on one thread.
 */
export async function startApp({ isolated = true } = {}): Promise<App> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  if (!built) {
    // Vitest sets NODE_ENV=test, and Vite would then bundle React's development build: test what ships.
    const env = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({ logLevel: 'warn', mode: 'production' });
    } finally {
      process.env.NODE_ENV = env;
    }
    built = true;
  }
  // Not isolated: the build without the app's config (whose preview adds the isolation headers), served as is.
  return serve(
    await preview({ ...(isolated ? {} : { configFile: false as const }), preview: { port: 0, host: '127.0.0.1', strictPort: false }, logLevel: 'warn' }),
  );
}

/** A page of the app, with what it reported: uncaught page errors and console errors (page and worker). */
export interface Opened {
  context: BrowserContext;
  page: Page;
  errors: string[];
  consoleErrors: string[];
}

export async function newPage(app: App, query = ''): Promise<Opened> {
  const context = await app.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, locale: 'en-US' });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.addInitScript(() => {
      // Count main-thread long tasks from the very start.
      const w = window as unknown as { __longTasks: number[]; __backendReports: unknown[] };
      w.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__longTasks.push(Math.round(e.startTime), Math.round(e.duration));
      }).observe({ type: 'longtask', buffered: true });
      // Listen (only listen) to the training worker: its 'ready' message carries the backend report with the probes.
      w.__backendReports = [];
      const Native = window.Worker;
      window.Worker = class extends Native {
        constructor(url: string | URL, options?: WorkerOptions) {
          super(url, options);
          this.addEventListener('message', (e: MessageEvent<{ type?: string; backend?: unknown }>) => {
            if (e.data?.type === 'ready') w.__backendReports.push(e.data.backend);
          });
        }
      };
    });
    await page.goto(`${app.url}${query}`);
    return { context, page, errors, consoleErrors };
  } catch (e) {
    await context.close();
    throw e;
  }
}

/**
 * Open a page, run `body`, and close the page's context whatever happens. On failure a screenshot goes to
 * the ignored `test-results/e2e-failures/` to look at.
 */
export async function withPage<T>(app: App, query: string, body: (o: Opened) => Promise<T>): Promise<T> {
  const opened = await newPage(app, query);
  try {
    return await body(opened);
  } catch (e) {
    const name = (expect.getState().currentTestName ?? 'unnamed').replace(/[^\w.-]+/g, '_').slice(0, 120);
    await opened.page.screenshot({ path: `test-results/e2e-failures/${name}.png`, fullPage: true }).catch(() => undefined);
    throw e;
  } finally {
    await opened.context.close();
  }
}

/** The app is ready: the corpus is described and a backend has started. */
export async function ready(page: Page): Promise<void> {
  // attached, not visible: in the lesson view the data panel is folded under "All settings".
  await page.waitForSelector('[data-testid=corpus-info]', { timeout: 60_000, state: 'attached' });
  await page.waitForFunction(() => document.querySelector('[data-testid=backend-status]')?.getAttribute('data-backend'), null, { timeout: 120_000 });
}

/** The training worker's latest backend report (name, reason and the probes it chose from), as it sent it to the page. */
export async function backendReport(page: Page): Promise<BackendReport> {
  await page.waitForFunction(() => (window as unknown as { __backendReports: unknown[] }).__backendReports.length > 0, null, { timeout: 120_000 });
  return page.evaluate(() => {
    const reports = (window as unknown as { __backendReports: BackendReport[] }).__backendReports;
    return reports[reports.length - 1];
  });
}

/** The page's training worker, as Playwright sees it (the newest one: a recovery starts a new worker). */
export function trainingWorker(page: Page): Worker {
  const workers = page.workers().filter((w) => /training\.worker/.test(w.url()));
  if (!workers.length)
    throw new Error(
      `no training worker among ${
        page
          .workers()
          .map((w) => w.url())
          .join(', ') || 'none'
      }`,
    );
  return workers[workers.length - 1];
}

export const chartPoints = (page: Page): Promise<number> =>
  page.evaluate(() => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points') ?? 0));

export async function createModel(page: Page): Promise<void> {
  await page.click('[data-testid=create-model]');
  await page.waitForSelector('[data-testid=model-info]', { timeout: 60_000 });
}

/** How many runs of the page have ended (done, stopped or failed): the app's own count, on its root. */
export const runsEnded = (page: Page): Promise<number> => page.evaluate(() => Number(document.querySelector('.app')?.getAttribute('data-runs-ended') ?? 0));

/**
 * Do `action` (a click that starts or stops a run) and wait until one more run has ended — the app's state,
 * counted before the click, so a wait can never pass on a button not yet re-rendered.
 */
export async function untilRunEnds(page: Page, action: () => Promise<unknown>, timeout = 180_000): Promise<void> {
  const before = await runsEnded(page);
  await action();
  await runEndedSince(page, before, timeout);
}

/**
 * Wait until more than `before` runs have ended (`before` read with runsEnded before the run started). The page
 * says when (a MutationObserver on the app's count); nothing polls. A predicate polled every animation frame (as
 * waitForFunction does by default) makes the page draw 60 frames a second for as long as the run lasts: on a
 * 2-core machine that takes CPU from the training it waits for, and from the times scripts read around it.
 */
export const runEndedSince = (page: Page, before: number, timeout = 180_000): Promise<void> =>
  // A string, not a function: tsx (the scripts' loader) would wrap a function's inner arrows in a helper the page lacks.
  page.evaluate(`new Promise((done, fail) => {
    const n = ${Number(before)};
    const count = () => Number(document.querySelector('.app')?.getAttribute('data-runs-ended') ?? 0);
    if (count() > n) return done();
    const observer = new MutationObserver(() => {
      if (count() <= n) return;
      observer.disconnect();
      clearTimeout(timer);
      done();
    });
    const timer = setTimeout(() => {
      observer.disconnect();
      fail(new Error('no run ended within ${Number(timeout)} ms (runs ended: ' + count() + ', waiting for more than ' + n + ')'));
    }, ${Number(timeout)});
    observer.observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-runs-ended'] });
  })`);

/**
 * Wait until an element matching `selector` is in the page: a MutationObserver, like runEndedSince (Playwright's
 * waitForSelector polls every animation frame, which makes the page draw the whole time it waits).
 */
export const untilPresent = (page: Page, selector: string, timeout = 60_000): Promise<void> =>
  page.evaluate(`new Promise((done, fail) => {
    const selector = ${JSON.stringify(selector)};
    if (document.querySelector(selector)) return done();
    const observer = new MutationObserver(() => {
      if (!document.querySelector(selector)) return;
      observer.disconnect();
      clearTimeout(timer);
      done();
    });
    const timer = setTimeout(() => {
      observer.disconnect();
      fail(new Error('nothing matched ' + selector + ' within ${Number(timeout)} ms'));
    }, ${Number(timeout)});
    observer.observe(document.body, { subtree: true, childList: true });
  })`);

/** Wait until no run is going (idle, paused or ended): the app's run status, not a button. */
export const runStopped = (page: Page, timeout = 60_000) =>
  page.waitForFunction(() => document.querySelector('.app')?.getAttribute('data-run-status') !== 'running', null, { timeout });

/** Pretrain `steps` steps and wait until the run has ended. */
export async function pretrain(page: Page, steps: number, opts: { timeout?: number; sampleEvery?: number } = {}): Promise<void> {
  await page.fill('[data-testid=pretrain-steps]', String(steps));
  await page.fill('[data-testid=pretrain-sample-every]', String(opts.sampleEvery ?? Math.max(1, Math.floor(steps / 2))));
  await untilRunEnds(page, () => page.click('[data-testid=pretrain-start]'), opts.timeout ?? 180_000);
  // The chart catches up from a timer after the run's end: every step drawn before anyone reads it.
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) >= n, steps, { timeout: 10_000 });
}

/** Start a long pretraining run and return once it is running. */
export async function startPretraining(page: Page, steps: number, sampleEvery = 0): Promise<void> {
  await page.fill('[data-testid=pretrain-steps]', String(steps));
  await page.fill('[data-testid=pretrain-sample-every]', String(sampleEvery));
  await page.click('[data-testid=pretrain-start]');
  await page.waitForSelector('[data-testid=pretrain-pause]:not([disabled])', { timeout: 60_000 });
}

/** The step the pretraining progress line shows. */
export const progressStep = async (page: Page): Promise<number> =>
  Number((await page.textContent('[data-testid=pretrain-progress]'))?.match(/Step (\d+)/)?.[1] ?? NaN);

/** Wait until the autosave has stored a step ≥ n, and return that step. */
export async function autosavedAt(page: Page, n: number, timeout = 120_000): Promise<number> {
  const read = () => Number(document.querySelector('[data-testid=autosave-status]')?.textContent?.match(/step (\d+)/)?.[1] ?? 0);
  await page.waitForFunction(`(${read})() >= ${n}`, null, { timeout });
  return page.evaluate(read);
}

/** First and last logged train loss (means of the first and last fifth), from the chart's CSV export: the data the chart draws. */
export async function firstLastLoss(page: Page): Promise<[number, number]> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Export chart data (CSV)')]);
  const csv = readFileSync((await download.path())!, 'utf8')
    .trim()
    .split('\n');
  const steps = csv
    .slice(1)
    .map((l) => l.split(','))
    .filter((c) => c[2] === 'step')
    .map((c) => Number(c[5]));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const k = Math.max(1, Math.floor(steps.length / 5));
  return [mean(steps.slice(0, k)), mean(steps.slice(-k))];
}

/** One chat reply with a fixed seed; returns its text once the reply is complete. */
export async function sample(page: Page, prompt: string, seed: number): Promise<string> {
  await page.fill('[data-testid=chat-prompt]', prompt);
  await page.fill('[data-testid=chat-seed]', String(seed));
  const before = await page.locator('[data-testid=msg-model]').count();
  await page.click('[data-testid=chat-send]');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=msg-model]').length > n, before);
  await page.waitForSelector('[data-testid=chat-send]:not([disabled])', { timeout: 60_000 });
  return (await page.locator('[data-testid=msg-model] pre').last().textContent()) ?? '';
}

/** Click a control that downloads a file, and return the file's bytes. */
export async function download(page: Page, click: () => Promise<void>): Promise<Uint8Array> {
  const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
  return new Uint8Array(readFileSync((await dl.path())!));
}

/** Leave the page idle: a run left going by a failed test is stopped, so the next test on a shared page can start. */
export async function idle(page: Page): Promise<void> {
  const stop = page.locator('[data-testid=pretrain-stop]:not([disabled]), [data-testid=finetune-stop]:not([disabled])');
  if (await stop.count()) await stop.first().click();
  await runStopped(page).catch(() => undefined);
}
