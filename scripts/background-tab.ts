/**
 * `npm run bench:background`: how training speed holds when the app's tab is in the background. The
 * production build in a *windowed* Chromium (under a virtual display: `xvfb-run` is started for you where
 * there is no DISPLAY), two tabs in one window; the app pretrains `baby` on WebAssembly while the script
 * switches the other tab to the front and back, and prints steps per second visible and hidden. Figures only:
 * nothing passes or fails.
 *
 *   npm run bench:background                       20 s visible / 30 s hidden, three times
 *   npm run bench:background -- --hidden 360       hidden past the five minutes after which Chrome throttles harder
 *   npm run bench:background -- --backend webgl --preset tiny
 *
 * Why not Playwright: a page it drives is always "visible" (headless or not, its pages are focused and
 * shown), so the browser is driven here through the DevTools protocol on a pipe, which changes nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build, preview } from 'vite';
import { CHROMIUM } from '../test/e2e/harness';

const { values } = parseArgs({
  options: {
    visible: { type: 'string', default: '20' },
    hidden: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'wasm' },
    preset: { type: 'string', default: 'baby' },
  },
});

/** The DevTools protocol over Chromium's --remote-debugging-pipe: NUL-separated JSON on fds 3 (to) and 4 (from). */
class Cdp {
  private id = 0;
  private pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private buffer = '';
  constructor(private proc: ChildProcess) {
    const from = proc.stdio[4] as NodeJS.ReadableStream;
    from.setEncoding('utf8');
    from.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\0')) >= 0) {
        const msg = JSON.parse(this.buffer.slice(0, end)) as { id?: number; result?: unknown; error?: { message: string } };
        this.buffer = this.buffer.slice(end + 1);
        const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
        if (!p) continue;
        this.pending.delete(msg.id!);
        if (msg.error) p.reject(new Error(msg.error.message));
        else p.resolve(msg.result);
      }
    });
  }
  send<T = Record<string, unknown>>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    const id = ++this.id;
    (this.proc.stdio[3] as NodeJS.WritableStream).write(JSON.stringify({ id, method, params, sessionId }) + '\0');
    return new Promise((resolve, reject) => this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  // A tab is hidden only in a real window: re-run under a virtual display when there is none.
  if (!process.env.DISPLAY) {
    const xvfb = spawnSync('xvfb-run', ['-a', process.execPath, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
    if (xvfb.error) throw new Error('no DISPLAY and no xvfb-run: install Xvfb (apt-get install -y xvfb) or run in a desktop session');
    process.exit(xvfb.status ?? 1);
  }
  // What ships: React's production build (as the e2e harness builds it).
  process.env.NODE_ENV = 'production';
  await build({ logLevel: 'warn', mode: 'production' });
  const server = await preview({ preview: { port: 0, host: '127.0.0.1', strictPort: false }, logLevel: 'warn' });
  const url = server.resolvedUrls?.local[0] ?? '';
  const app = `${url}?mode=lab&backend=${values.backend}&preset=${values.preset}&steps=100000&eval=100000`;
  const profile = mkdtempSync(join(tmpdir(), 'small-gpt-background-'));
  const chromium = spawn(
    CHROMIUM,
    [
      '--no-sandbox',
      '--no-first-run',
      '--disable-sync',
      '--disable-component-update',
      // WebGL and WebGPU on the software renderer where the machine has no GPU (as in the e2e harness).
      '--enable-unsafe-swiftshader',
      '--enable-unsafe-webgpu',
      '--use-angle=swiftshader',
      '--remote-debugging-pipe',
      `--user-data-dir=${profile}`,
      '--window-size=1366,900',
      app,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
  );
  const cdp = new Cdp(chromium);
  try {
    // The two tabs of the one window (the command line opened them): the app's, and a blank one to bring in front of it.
    let targets: { targetId: string; type: string; url: string }[] = [];
    for (let i = 0; i < 100 && targets.filter((t) => t.type === 'page').length < 2; i++) {
      await sleep(200);
      targets = (await cdp.send<{ targetInfos: typeof targets }>('Target.getTargets')).targetInfos;
    }
    const appTab = targets.find((t) => t.type === 'page' && t.url.startsWith(url));
    const blankTab = targets.find((t) => t.type === 'page' && t.url === 'about:blank');
    if (!appTab || !blankTab) throw new Error(`the two tabs did not open: ${targets.map((t) => t.url).join(', ')}`);
    const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', { targetId: appTab.targetId, flatten: true });
    await cdp.send('Runtime.enable', {}, sessionId);
    const evaluate = async <T>(expression: string): Promise<T> =>
      (await cdp.send<{ result: { value: T } }>('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, sessionId)).result.value;
    const until = async (expression: string, timeoutMs: number, what: string) => {
      const end = Date.now() + timeoutMs;
      // A page still loading has no context to evaluate in yet: that is a 'not yet'.
      while (!(await evaluate<boolean>(expression).catch(() => false))) {
        if (Date.now() > end) {
          const seen = await evaluate<string>(`[...document.querySelectorAll('[role=alert]')].map((e) => e.textContent).join(' | ')`).catch(
            (e: Error) => e.message,
          );
          throw new Error(`timed out waiting for ${what} (the page: ${seen})`);
        }
        await sleep(100);
      }
    };
    const show = async (front: string) => cdp.send('Target.activateTarget', { targetId: front });
    const step = () => evaluate<number>(`Number(document.querySelector('[data-testid=pretrain-progress]')?.textContent?.match(/Step (\\d+)/)?.[1] ?? NaN)`);
    const visibility = () => evaluate<string>('document.visibilityState');
    // The step the page shows once it is visible again and has drawn (two animation frames).
    const stepWhenShown = async () => {
      await until(`document.visibilityState === 'visible'`, 10_000, 'the app tab to be shown');
      await evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
      return step();
    };

    await show(appTab.targetId);
    await until(`document.querySelector('[data-testid=backend-status]')?.getAttribute('data-backend')`, 120_000, 'a backend');
    const backend = await evaluate<string>(
      `(b => b.dataset.backend + (b.dataset.threads ? ' on ' + b.dataset.threads + ' thread(s)' : ''))(document.querySelector('[data-testid=backend-status]'))`,
    );
    if (!backend.startsWith(values.backend!)) {
      const why = await evaluate<string>(`document.querySelector('[data-testid=backend-status]')?.textContent ?? ''`);
      console.log(`asked for ${values.backend}, the page chose ${backend}: ${why}`);
    }
    const click = async (testId: string) => {
      const button = `document.querySelector('[data-testid=${testId}]:not([disabled])')`;
      await until(`!!${button}`, 20_000, testId);
      await evaluate(`${button}.click()`);
    };
    await click('create-model');
    await until(`!!document.querySelector('[data-testid=model-info]')`, 60_000, 'the model');
    await click('pretrain-start');
    await until(`Number(document.querySelector('[data-testid=pretrain-progress]')?.textContent?.match(/Step (\\d+)/)?.[1]) >= 3`, 300_000, 'three steps');
    console.log(`${values.preset} on ${backend}; ${values.visible} s visible, ${values.hidden} s hidden, ${values.rounds} rounds`);

    const rates = { visible: [] as number[], hidden: [] as number[] };
    for (let round = 0; round < Number(values.rounds); round++) {
      let t0 = Date.now();
      let s0 = await step();
      await sleep(Number(values.visible) * 1000);
      let s1 = await step();
      rates.visible.push(((s1 - s0) * 1000) / (Date.now() - t0));
      await show(blankTab.targetId);
      t0 = Date.now();
      s0 = s1;
      await sleep(500);
      const state = await visibility();
      await sleep(Number(values.hidden) * 1000 - 500);
      await show(appTab.targetId);
      s1 = await stepWhenShown();
      rates.hidden.push(((s1 - s0) * 1000) / (Date.now() - t0));
      const r = (k: 'visible' | 'hidden') => rates[k][round].toFixed(2).padStart(6);
      console.log(`round ${round + 1}: visible ${r('visible')} steps/s | hidden ("${state}") ${r('hidden')} steps/s`);
    }
    const v = median(rates.visible);
    const h = median(rates.hidden);
    console.log(`median: visible ${v.toFixed(2)} steps/s, hidden ${h.toFixed(2)} steps/s (${((h / v) * 100).toFixed(0)} % of visible)`);
  } finally {
    // Close the browser through the protocol (its helpers go with it), then the profile it wrote.
    const exited = new Promise((done) => chromium.once('exit', done));
    await Promise.race([cdp.send('Browser.close'), sleep(5000)]).catch(() => chromium.kill());
    await Promise.race([exited, sleep(5000)]);
    await new Promise<void>((done) => server.httpServer.close(() => done()));
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
