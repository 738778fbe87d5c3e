/**
 * End-to-end harness: builds the app with Vite, serves the production build with `vite preview` on a
 * free local port, and drives Debian's Chromium (no browser download) through playwright-core.
 */
import { existsSync } from 'node:fs';
import { build, preview, type PreviewServer } from 'vite';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
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

export async function startApp(): Promise<App> {
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
  return serve(await preview({ preview: { port: 0, host: '127.0.0.1', strictPort: false }, logLevel: 'warn' }));
}

export async function newPage(app: App, query = ''): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await app.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, locale: 'en-US' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Count main-thread long tasks from the very start.
  await page.addInitScript(() => {
    const w = window as unknown as { __longTasks: number[] };
    w.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longTasks.push(Math.round(e.startTime), Math.round(e.duration));
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(`${app.url}${query}`);
  return { context, page, errors };
}

/** The app is ready: the corpus is described and a backend has started. */
export async function ready(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid=corpus-info]', { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid=backend-status]')?.getAttribute('data-backend'), null, { timeout: 120_000 });
}
