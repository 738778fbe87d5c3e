/**
 * The ONNX export (src/engine/io/onnx.ts), run by ONNX Runtime's WebAssembly build: its logits must equal the
 * engine's forward pass, for char and BPE models, with and without bias, and with LoRA merged; the key/value
 * cache and padding must give the same logits as one pass over the whole text.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { GPT } from '../../src/engine/model/gpt';
import type { GPTConfig } from '../../src/engine/model/config';
import { adapterSpecs, LoraAdapters } from '../../src/engine/model/lora';
import { snapshotParams } from '../../src/engine/io/checkpoint';
import { readBackWeights } from '../../src/engine/io/adapter';
import { checkOnnxSize, onnxModelBytes, ONNX_IO } from '../../src/engine/io/onnx';
import { OnnxGraph } from '../../src/engine/io/onnxGraph';
import { CharTokenizer } from '../../src/engine/tokenizer/char';
import { trainBpe } from '../../src/engine/tokenizer/bpeTrain';
import { createRng } from '../../src/engine/random';
import type { Tokenizer } from '../../src/engine/tokenizer/types';
import { randomModel } from './helpers';
import { tempDir } from '../tempDir';

ort.env.wasm.numThreads = 1;

const TEXT = 'Call me Ishmael. Some years ago, never mind how long precisely, I went to sea.\nWhat is a whale?\nA fish that spouts.\n\n';

interface OrtRun {
  logits: Float32Array;
  present: { k: ort.Tensor; v: ort.Tensor }[];
}

/** One call of the exported graph: ids (B, T), the positions they sit at, an optional cache and padding mask. */
async function run(
  session: ort.InferenceSession,
  config: GPTConfig,
  ids: number[][],
  opts: { past?: OrtRun['present']; positions?: number[][]; mask?: number[][] } = {},
): Promise<OrtRun> {
  const [B, T] = [ids.length, ids[0].length];
  const hs = config.nEmbd / config.nHead;
  const P = opts.past ? opts.past[0].k.dims[2] : 0;
  const i64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);
  const feeds: Record<string, ort.Tensor> = {
    [ONNX_IO.inputIds]: i64(ids),
    [ONNX_IO.positionIds]: i64(opts.positions ?? ids.map(() => Array.from({ length: T }, (_, t) => P + t))),
    [ONNX_IO.attentionMask]: i64(opts.mask ?? ids.map(() => Array(P + T).fill(1))),
  };
  for (let i = 0; i < config.nLayer; i++) {
    const empty = () => new ort.Tensor('float32', new Float32Array(0), [B, config.nHead, 0, hs]);
    feeds[ONNX_IO.pastKey(i)] = opts.past?.[i].k ?? empty();
    feeds[ONNX_IO.pastValue(i)] = opts.past?.[i].v ?? empty();
  }
  const out = await session.run(feeds);
  expect(out[ONNX_IO.logits].dims).toEqual([B, T, config.vocabSize]);
  return {
    logits: out[ONNX_IO.logits].data as Float32Array,
    present: Array.from({ length: config.nLayer }, (_, i) => ({ k: out[ONNX_IO.presentKey(i)], v: out[ONNX_IO.presentValue(i)] })),
  };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function engineLogits(model: GPT, ids: number[][]): Promise<Float32Array> {
  const x = tf.tensor2d(ids, [ids.length, ids[0].length], 'int32');
  const y = model.forward(x);
  const data = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return data;
}

/** Exports, loads in ONNX Runtime, and returns the largest |logit difference| from the engine on `ids`. */
async function compare(
  model: GPT,
  tok: Tokenizer | undefined,
  ids: number[][],
  values?: Map<string, Float32Array>,
): Promise<{ diff: number; session: ort.InferenceSession; bytes: Uint8Array }> {
  const bytes = onnxModelBytes(model.config, values ?? (await snapshotParams(model)), { tokenizer: tok });
  const session = await ort.InferenceSession.create(bytes);
  const { logits } = await run(session, model.config, ids);
  return { diff: maxDiff(logits, await engineLogits(model, ids)), session, bytes };
}

const report: string[] = [];

describe('ONNX export', () => {
  const charTok = CharTokenizer.fromText(TEXT);
  const charConfig: GPTConfig = { vocabSize: charTok.vocabSize, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: false };
  const charIds = [Array.from(charTok.encode(TEXT.slice(0, 32)).ids), Array.from(charTok.encode(TEXT.slice(40, 72)).ids)];

  afterAll(() => console.log(`ONNX export, measured:\n  ${report.join('\n  ')}`));

  it('char model without bias: ONNX Runtime gives the engine’s logits', async () => {
    const model = await randomModel(charConfig, 1);
    const { diff } = await compare(model, charTok, charIds);
    report.push(`char, no bias: max |Δlogit| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
    model.dispose();
  });

  it('BPE model with bias: the same', async () => {
    const tok = await trainBpe(TEXT.repeat(3), { vocabSize: 300 });
    const config: GPTConfig = { vocabSize: tok.vocabSize, blockSize: 24, nLayer: 3, nHead: 4, nEmbd: 16, dropout: 0.1, bias: true };
    const ids = Array.from(tok.encode(TEXT).ids).slice(0, 24);
    expect(ids.length).toBe(24);
    const model = await randomModel(config, 2);
    const { diff } = await compare(model, tok, [ids]);
    report.push(`BPE (${tok.vocabSize} tokens), bias: max |Δlogit| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
    model.dispose();
  });

  it('a LoRA model, merged: the graph gives the logits of the model with its adapters attached', async () => {
    const config = { ...charConfig, bias: true };
    const model = await randomModel(config, 3);
    const lora = { rank: 2, alpha: 4, targets: 'attn,mlp' } as const;
    const rng = createRng(9);
    const values = new Map<string, Float32Array>();
    // B non-zero, so the adapters change every adapted weight.
    for (const s of adapterSpecs(config, lora))
      for (const t of [s.a, s.b])
        values.set(
          t.name,
          Float32Array.from({ length: t.shape[0] * t.shape[1] }, () => (rng.next() - 0.5) * 0.5),
        );
    model.setLora(new LoraAdapters(config, lora, values));
    const { merged } = await readBackWeights(model);
    const plain = await snapshotParams(model);
    expect(maxDiff(merged.get('transformer.h.0.attn.c_attn.weight')!, plain.get('transformer.h.0.attn.c_attn.weight')!)).toBeGreaterThan(1e-3);
    const { diff } = await compare(model, charTok, charIds, merged);
    report.push(`char, bias, LoRA rank 2 on attn+mlp merged: max |Δlogit| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
    model.dispose();
  });

  it('the key/value cache: the second half fed after the first gives the logits of one pass over the whole', async () => {
    const model = await randomModel(charConfig, 4);
    const { session } = await compare(model, charTok, charIds);
    const full = await run(session, charConfig, charIds);
    const first = await run(
      session,
      charConfig,
      charIds.map((r) => r.slice(0, 20)),
    );
    const second = await run(
      session,
      charConfig,
      charIds.map((r) => r.slice(20)),
      { past: first.present },
    );
    expect(second.present[0].k.dims).toEqual([2, charConfig.nHead, 32, charConfig.nEmbd / charConfig.nHead]);
    // The full pass's logits at positions 20…31, row by row.
    const V = charConfig.vocabSize;
    const tail = new Float32Array(2 * 12 * V);
    for (let b = 0; b < 2; b++) tail.set(full.logits.subarray((b * 32 + 20) * V, (b * 32 + 32) * V), b * 12 * V);
    const diff = maxDiff(second.logits, tail);
    // One token at a time too, as a sampler feeds it.
    let past = first.present;
    let stepDiff = 0;
    for (let t = 20; t < 23; t++) {
      const step = await run(
        session,
        charConfig,
        charIds.map((r) => [r[t]]),
        { past },
      );
      for (let b = 0; b < 2; b++)
        stepDiff = Math.max(stepDiff, maxDiff(step.logits.subarray(b * V, (b + 1) * V), full.logits.subarray((b * 32 + t) * V, (b * 32 + t + 1) * V)));
      past = step.present;
    }
    report.push(`key/value cache (20 positions, then 12; then one at a time): max |Δlogit| ${Math.max(diff, stepDiff).toExponential(2)} against one pass`);
    expect(diff).toBeLessThan(1e-5);
    expect(stepDiff).toBeLessThan(1e-5);
    model.dispose();
  });

  it('attention_mask: a left-padded row gives, on its real tokens, the logits of the row alone', async () => {
    const model = await randomModel(charConfig, 5);
    const { session } = await compare(model, charTok, charIds);
    const short = charIds[0].slice(0, 10);
    const alone = await run(session, charConfig, [short]);
    const pad = 6;
    const padded = await run(session, charConfig, [[...Array(pad).fill(3), ...short], charIds[1].slice(0, 16)], {
      positions: [[...Array(pad).fill(0), ...short.map((_, t) => t)], Array.from({ length: 16 }, (_, t) => t)],
      mask: [[...Array(pad).fill(0), ...Array(10).fill(1)], Array(16).fill(1)],
    });
    const V = charConfig.vocabSize;
    const diff = maxDiff(padded.logits.subarray(pad * V, 16 * V), alone.logits);
    report.push(`left padding (6 of 16) with attention_mask: max |Δlogit| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-5);
    model.dispose();
  });

  it('refuses a model over protobuf’s 2 GiB before reading a weight, saying why and what to do instead', () => {
    const huge: GPTConfig = { vocabSize: 600_000, blockSize: 1024, nLayer: 1, nHead: 16, nEmbd: 1024, dropout: 0, bias: false };
    expect(() => checkOnnxSize(huge)).toThrow(/2\.\d\d GiB as float32 .*at most 2 GiB \(protobuf's limit\).*the model file itself/);
    // With a code and its values, so the page says it in its language.
    expect(() => checkOnnxSize(huge)).toThrow(expect.objectContaining({ code: 'exportTooLarge', params: { gib: '2.34', params: '628,034,560' } }));
    expect(() => onnxModelBytes(huge, new Map())).toThrow(/at most 2 GiB/);
    expect(() => checkOnnxSize(charConfig)).not.toThrow();
  });

  it('refuses a graph that defines a name twice, and a weight that is missing', () => {
    const g = new OnnxGraph('g');
    g.input('x', 1, [1]);
    expect(() => g.node('Relu', ['x'], ['x'])).toThrow(/the name "x" is defined twice/);
    expect(() => g.node('Relu', ['y'], ['z'])).toThrow(/reads "y", which nothing defines/);
    expect(() => onnxModelBytes(charConfig, new Map())).toThrow(/no values for transformer\.wte\.weight/);
  });

  const hasOnnx = (() => {
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasOnnx)('passes the onnx package’s full checker (Debian python3-onnx), shapes inferred', async () => {
    const dir = tempDir('onnx-');
    for (const bias of [false, true]) {
      const model = await randomModel({ ...charConfig, bias }, 6);
      const file = join(dir, `m${bias}.onnx`);
      writeFileSync(file, onnxModelBytes(model.config, await snapshotParams(model), { tokenizer: charTok }));
      const out = execFileSync(
        '/usr/bin/python3',
        [
          '-c',
          'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print(m.opset_import[0].version, len(m.graph.node))',
          file,
        ],
        { encoding: 'utf8' },
      );
      expect(out.trim()).toMatch(/^17 \d+$/);
      model.dispose();
    }
  });
});
