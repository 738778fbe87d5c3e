/**
 * The exported Hugging Face folder in transformers.js (@huggingface/transformers), in headless Chromium. A small
 * static server lays out the README's site — docs/chat.html as it is, transformers.js and ONNX Runtime's
 * WebAssembly from node_modules, the folder as ./models/my-gpt/ — and every request must be one of its files:
 * nothing comes from a CDN or the Hub. For a char model and a BPE model (random weights, fixed seeds):
 *   - transformers.js's tokenizer gives our ids (English, Chinese, characters outside the vocabulary);
 *   - its greedy generation of 100 tokens (the key/value cache, position_ids, attention_mask as it feeds them)
 *     equals the engine's `generate`, token for token, and decodes to our text;
 *   - the chat page's own button answers with our greedy reply (up to the context, cut at the end marker).
 */
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import type { GPT } from '../../src/engine/model/gpt';
import { generate } from '../../src/engine/model/generate';
import { snapshotParams } from '../../src/engine/io/checkpoint';
import { hfFolderFiles, STOP_STRING } from '../../src/engine/io/hfFolder';
import { CharTokenizer } from '../../src/engine/tokenizer/char';
import { trainBpe } from '../../src/engine/tokenizer/bpeTrain';
import type { Tokenizer } from '../../src/engine/tokenizer/types';
import { randomModel } from '../engine/helpers';
import { CHROMIUM } from './harness';

const require = createRequire(import.meta.url);
const transformersMain = require.resolve('@huggingface/transformers');
const transformersJs = transformersMain.replace(/[^/]+$/, 'transformers.min.js'); // the browser bundle, ONNX Runtime inside
// ONNX Runtime's WebAssembly of the version transformers.js bundles (its own dependency, not the one our tests use).
const ortWasm = createRequire(transformersMain).resolve('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm');

const EN = 'Call me Ishmael. Some years ago, never mind how long precisely, I went to sea.\nWhat is a whale?\nA fish that spouts.\n\n';
const ZH = '床前明月光，疑是地上霜。举头望明月，低头思故乡。\n春眠不觉晓，处处闻啼鸟。\n\n';
/** Texts both tokenizers must split alike: the training texts, and characters neither has seen. */
const PROBES = [EN, ZH, 'unseen: 丁丂 Ωμέγα 😀 ﬁ\tx\u00a0y', '鲸鱼是什么？Whale 鲸\n\n\nend'];
const NEW_TOKENS = 100;

let site = new Map<string, Uint8Array>();
let server: Server;
let origin: string;
let browser: Browser;
const missing: string[] = [];
const report: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const body = site.get(path);
    if (body === undefined) {
      missing.push(path);
      res.writeHead(404).end();
      return;
    }
    const type = /\.html$/.test(path)
      ? 'text/html'
      : /\.m?js$/.test(path)
        ? 'text/javascript'
        : /\.wasm$/.test(path)
          ? 'application/wasm'
          : /\.json$/.test(path)
            ? 'application/json'
            : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  console.log(`transformers.js in Chromium, measured:\n  ${report.join('\n  ')}`);
});

/** The README's site: the page, transformers.js's two files, and the exported folder as models/my-gpt/. */
function layOut(folder: Map<string, Uint8Array>): void {
  site = new Map([
    ['/chat.html', readFileSync('docs/chat.html')],
    ['/transformers/transformers.min.js', readFileSync(transformersJs)],
    ['/transformers/ort-wasm-simd-threaded.asyncify.mjs', readFileSync(ortWasm.replace(/wasm$/, 'mjs'))],
    ['/transformers/ort-wasm-simd-threaded.asyncify.wasm', readFileSync(ortWasm)],
  ]);
  for (const [path, bytes] of folder) site.set(`/models/my-gpt/${path}`, bytes);
}

/**
 * Bytes that are no character decode to U+FFFD in both, but ours writes one per byte (utf8.ts) and
 * transformers.js's TextDecoder one per maximal invalid sequence, as the WHATWG decoder does: random weights
 * emit such bytes. Text compares equal with each run of U+FFFD counted as one; everything else exactly.
 */
const collapse = (s: string): string => s.replace(/\uFFFD+/g, '\uFFFD');
const sameText = (a: string, b: string): boolean => collapse(a) === collapse(b);

interface Theirs {
  ids: number[][];
  generated: number[];
  text: string;
  loadMs: number;
  generateMs: number;
}

/** The engine's greedy continuation of `prompt` to the end of the context, and the smallest logit gap between its top two choices. */
async function ours(model: GPT, tok: Tokenizer, prompt: string): Promise<{ ids: number[]; minGap: number }> {
  const promptIds = tok.encode(prompt).ids;
  let minGap = Infinity;
  const { ids } = await generate(model, promptIds, {
    maxNewTokens: model.config.blockSize - promptIds.length,
    temperature: 0,
    explain: 2,
    onToken: (_, why) => void (minGap = Math.min(minGap, Math.log(why!.top[0].p / why!.top[1].p))),
  });
  return { ids, minGap };
}

async function check(name: string, model: GPT, tok: Tokenizer, question: string): Promise<void> {
  layOut(hfFolderFiles({ config: model.config, values: await snapshotParams(model), tokenizer: tok }));
  missing.length = 0;
  const prompt = `${question}\n`;
  const promptIds = Array.from(tok.encode(prompt).ids);
  const mine = await ours(model, tok, prompt);
  expect(mine.ids.length).toBeGreaterThanOrEqual(NEW_TOKENS);
  // Greedy decoding is only comparable where the top two logits are further apart than two float32
  // implementations differ: ≤ 1.1e-6 against ONNX Runtime (test/engine/onnx.test.ts), so 100 times that.
  expect(mine.minGap).toBeGreaterThan(1e-4);
  const reply = tok.decode(mine.ids).split(STOP_STRING)[0];
  expect(reply.length).toBeGreaterThan(0);

  const context = await browser.newContext();
  const outside: string[] = [];
  await context.route('**/*', (route) => {
    if (route.request().url().startsWith(`${origin}/`)) return route.continue();
    outside.push(route.request().url());
    return route.abort();
  });
  try {
    const page = await context.newPage();
    const failed = new Promise<never>((_, reject) => page.on('pageerror', (e) => reject(new Error(`the chat page failed: ${e.message}`))));
    const started = Date.now();
    await page.goto(`${origin}/chat.html`);
    await Promise.race([page.waitForSelector('#ask:not([disabled])', { timeout: 120_000 }), failed]);
    const pageReadyMs = Date.now() - started;

    // A string, not a function: Vitest would rewrite a function's import() into its own loader. The same URL
    // as the page's import, so the same module, with the page's env settings.
    const theirs = (await page.evaluate(`(async ({ probes, prompt, newTokens }) => {
      const t = await import('./transformers/transformers.min.js');
      const t0 = performance.now();
      const tokenizer = await t.AutoTokenizer.from_pretrained('my-gpt');
      const lm = await t.AutoModelForCausalLM.from_pretrained('my-gpt');
      const t1 = performance.now();
      const out = await lm.generate({ ...tokenizer(prompt), max_new_tokens: newTokens, do_sample: false });
      const generated = Array.from(out.data, Number);
      return {
        ids: probes.map((p) => Array.from(tokenizer.encode(p))),
        generated,
        text: tokenizer.decode(generated),
        loadMs: t1 - t0,
        generateMs: performance.now() - t1,
      };
    })(${JSON.stringify({ probes: PROBES, prompt, newTokens: NEW_TOKENS })})`)) as Theirs;

    for (const [i, probe] of PROBES.entries()) expect(theirs.ids[i], JSON.stringify(probe)).toEqual(Array.from(tok.encode(probe).ids));
    const expected = [...promptIds, ...mine.ids.slice(0, NEW_TOKENS)];
    expect(theirs.generated).toEqual(expected);
    expect(sameText(theirs.text, tok.decode(expected))).toBe(true);

    // The page itself: its question, its button, its reply.
    await page.fill('#question', question);
    await page.click('#ask');
    const shown = page.waitForFunction((want) => document.getElementById('reply')?.textContent?.replace(/\uFFFD+/g, '\uFFFD') === want, collapse(reply), {
      timeout: 120_000,
    });
    await Promise.race([shown, failed]).catch(async (e) => {
      throw new Error(`${(e as Error).message}\nthe page shows ${JSON.stringify(await page.textContent('#reply'))}, the engine ${JSON.stringify(reply)}`);
    });

    expect(outside, 'requests that left the test server').toEqual([]);
    expect(missing, 'files transformers.js asked for that the folder lacks').toEqual([]);
    report.push(
      `${name}: ${PROBES.length} texts tokenized alike; greedy ${NEW_TOKENS} tokens identical (smallest top-2 logit gap ${mine.minGap.toExponential(1)}); ` +
        `page ready in ${(pageReadyMs / 1000).toFixed(1)} s, model and tokenizer loaded in ${theirs.loadMs.toFixed(0)} ms, ${NEW_TOKENS} tokens in ${theirs.generateMs.toFixed(0)} ms; ` +
        `the page's reply (${reply.length} characters) equal`,
    );
  } finally {
    await context.close();
  }
}

it('a char model: transformers.js tokenizes to our ids and generates our greedy 100 tokens; the chat page answers as we do', async () => {
  const tok = CharTokenizer.fromText(EN + ZH);
  const tensors = tf.memory().numTensors;
  const model = await randomModel({ vocabSize: tok.vocabSize, blockSize: 128, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0, bias: false }, 21);
  try {
    expect(tok.unknownId).not.toBeNull();
    await check(`char (${tok.vocabSize} tokens, no bias)`, model, tok, 'What is a whale?');
  } finally {
    model.dispose();
  }
  expect(tf.memory().numTensors).toBe(tensors);
});

it('a BPE model (byte fallback, Chinese merges): the same', async () => {
  const tok = await trainBpe((EN + ZH).repeat(4), { vocabSize: 400 });
  const tensors = tf.memory().numTensors;
  const model = await randomModel({ vocabSize: tok.vocabSize, blockSize: 128, nLayer: 3, nHead: 4, nEmbd: 32, dropout: 0, bias: true }, 22);
  try {
    await check(`BPE (${tok.vocabSize} tokens, bias)`, model, tok, '举头望明月');
  } finally {
    model.dispose();
  }
  expect(tf.memory().numTensors).toBe(tensors);
});
