/**
 * The page's "Download for the web" button: a .zip of the Hugging Face folder (config.json, tokenizer.json,
 * onnx/model.onnx, model.safetensors, …) whose files are the ones the engine writes for the same model — the
 * folder test/e2e/transformersjs.e2e.test.ts runs in transformers.js — and a model the format cannot hold is
 * refused with the reason, in both languages, downloading nothing.
 */
import { unzipSync } from 'fflate';
import { expect, it } from 'vitest';
import { createModel, download, ready, withPage } from './harness';
import { appForFile } from './appForFile';
import { GPT } from '../../src/engine/model/gpt';
import { exportCheckpoint, readCheckpoint } from '../../src/engine/io/checkpoint';
import { hfFolderFiles } from '../../src/engine/io/hfFolder';
import { BpeTokenizer } from '../../src/engine/tokenizer/bpe';

const app = appForFile();

const TINY = '?backend=wasm&layers=2&heads=2&embd=32&block=32&batch=8&seed=5';

it('downloads a .zip of the Hugging Face folder, the same files the engine writes for the downloaded model', () =>
  withPage(app, TINY, async ({ page, errors }) => {
    await ready(page);
    await createModel(page);
    const zip = unzipSync(await download(page, () => page.click('[data-testid=export-web]')));
    expect(Object.keys(zip).sort()).toEqual([
      'README.md',
      'config.json',
      'generation_config.json',
      'model.safetensors',
      'onnx/model.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    // The same model as nanoGPT's file, through the engine's exporter in Node: every file byte for byte.
    const ckpt = readCheckpoint(await download(page, () => page.click('[data-testid=export-model]')));
    const folder = hfFolderFiles({
      config: ckpt.config,
      values: new Map([...ckpt.params].map(([n, t]) => [n, t.data])),
      tokenizer: ckpt.tokenizer,
      training: ckpt.training,
    });
    for (const [path, bytes] of folder) expect(zip[path], path).toEqual(bytes);
    expect(JSON.parse(new TextDecoder().decode(zip['config.json']))).toMatchObject({ model_type: 'gpt2', n_layer: 2, n_embd: 32, n_positions: 32 });
    expect(errors).toEqual([]);
  }));

it('refuses a tokenizer that tokenizer.json cannot express, saying why in English and Chinese, and downloads nothing', async () => {
  // A BPE tokenizer whose one merge joins two bytes of 世 (E4 B8 96) that have no token of their own.
  const tok = new BpeTokenizer({ chars: [], merges: [[0xe4, 0xb8]] });
  const model = GPT.create({ vocabSize: tok.vocabSize, blockSize: 16, nLayer: 1, nHead: 1, nEmbd: 8, dropout: 0, bias: false }, 3);
  const file = await exportCheckpoint(model, tok, { step: 0, phase: 'init' });
  model.dispose();
  await withPage(app, TINY, async ({ page, errors }) => {
    await ready(page);
    await page.setInputFiles('[data-testid=import-model]', { name: 'bytes.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(file) });
    await page.waitForSelector('[data-testid=notice]:has-text("Loaded bytes.safetensors")', { timeout: 60_000 });
    let downloads = 0;
    page.on('download', () => downloads++);
    await page.click('[data-testid=export-web]');
    const notice = page.locator('[data-testid=notice]:has-text("tokenizer.json")');
    await notice.waitFor({ timeout: 60_000 });
    expect(await notice.textContent()).toMatch(
      /merges bytes of characters that have no token of their own \(such tokens: 1; the first is 256, <E4 B8>\): tokenizer\.json cannot express that/,
    );
    await page.selectOption('[data-testid=lang-select]', 'zh');
    expect(await page.locator('[data-testid=notice]').textContent()).toMatch(
      /合并了没有独立词元的字符的字节（词元 256，即 <E4 B8>，共 1 个）：tokenizer\.json 无法表达/,
    );
    // The button is free again, the model still there, and no file came.
    await page.waitForSelector('[data-testid=export-web]:not([disabled])');
    await page.waitForSelector('[data-testid=export-model]:not([disabled])');
    expect(downloads).toBe(0);
    expect(errors).toEqual([]);
  });
});
