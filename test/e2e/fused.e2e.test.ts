/**
 * The fused WebGPU programs (src/worker/webgpu/) against the stock ops they replace, on the same backend
 * (here the software adapter; the programs are the ones a real GPU runs): LayerNorm, the causal softmax,
 * GELU, cross-entropy, attention's head split and AdamW, forward and gradients, random inputs, odd sizes, to 1e-5 of the values' scale. AdamW's NaN
 * guard: a step whose loss is NaN leaves parameters and moments bit-identical and reports a zero update.
 * The whole training step with the programs is checked against WebAssembly by backends.e2e.test.ts.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startTestPage, type App } from './harness';
import type { FusedDiff } from './backends-page/main';

let app: App;
let page: Page;

beforeAll(async () => {
  app = await startTestPage(resolve('test/e2e/backends-page'), resolve('test-results/fused-page'));
  const context = await app.browser.newContext();
  page = await context.newPage();
  await page.goto(app.url);
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
}, 300_000);

afterAll(async () => {
  await app?.close();
});

type Check = { backend: string; available: Record<string, boolean>; diffs: FusedDiff[]; tensorsBefore: number; tensorsAfter: number };
const check = (kind: string): Promise<Check> =>
  page.evaluate((k) => (window as unknown as { equivalence: { fusedCheck(k: string): Promise<Check> } }).equivalence.fusedCheck(k), kind);

const TOL = 1e-5;

describe.each(['layerNorm', 'softmax', 'gelu', 'crossEntropy', 'heads', 'adamw'])('fused %s on WebGPU', (kind) => {
  it('matches the stock ops to 1e-5 (forward and gradients), leaks nothing, and the GPU accepts every program', async () => {
    const r = await check(kind);
    expect(r.backend).toBe('webgpu');
    // Every program is registered for webgpu: the comparison is not stock against stock.
    for (const [name, on] of Object.entries(r.available)) expect(on, `${name} registered`).toBe(true);
    expect(r.tensorsAfter).toBe(r.tensorsBefore);
    expect(r.diffs.length).toBeGreaterThan(3);
    for (const d of r.diffs) {
      expect(d.size, d.name).toBeGreaterThan(0);
      if (d.name.startsWith('NaN step') || d.name.startsWith('heads')) {
        expect(d.identical, `${d.name}: max |Δ| ${d.maxAbs}`).toBe(true);
      } else {
        expect(d.maxAbs, `${d.name}: max |Δ| ${d.maxAbs} (scale ${d.refMax})`).toBeLessThanOrEqual(TOL * Math.max(1, d.refMax));
      }
    }
    const worst = r.diffs.filter((d) => !d.name.startsWith('NaN')).reduce((a, d) => Math.max(a, d.maxAbs / Math.max(1, d.refMax)), 0);
    console.info(`fused ${kind}: ${r.diffs.length} comparisons, worst |Δ| / scale ${worst.toExponential(1)}`);
  }, 300_000);
});
