/**
 * `npm run cli -- export`: an ONNX file and a Hugging Face folder from a model file (a LoRA adapter merged in
 * with --adapter), run by ONNX Runtime; refusals leave nothing behind.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeEach, describe, expect, it } from 'vitest';
import { main } from '../cli/main';
import type { Sink } from '../cli/sink';
import * as tf from '../src/engine/tf';
import { GPT } from '../src/engine/model/gpt';
import { LoraAdapters, adapterSpecs } from '../src/engine/model/lora';
import { exportCheckpoint } from '../src/engine/io/checkpoint';
import { exportAdapter } from '../src/engine/io/adapter';
import { ONNX_IO } from '../src/engine/io/onnx';
import { CharTokenizer } from '../src/engine/tokenizer/char';
import { BpeTokenizer } from '../src/engine/tokenizer/bpe';
import { createRng } from '../src/engine/random';
import { TEXT } from './engine/helpers';
import { tempDir } from './tempDir';

ort.env.wasm.numThreads = 1;

let dir: string;
let out: string[];
let err: string[];
beforeEach(() => {
  dir = tempDir('cli-export-');
  out = [];
  err = [];
});

/** What the CLI writes, kept for the tests: stdout's lines and raw writes in `out`, stderr's lines in `err`. */
const sink: Sink = { out: (line) => void out.push(line), err: (line) => void err.push(line), write: (text) => void out.push(text), tty: false };

const cli = (...args: string[]) => main(args, sink);

async function lastLogits(session: ort.InferenceSession, ids: number[], nLayer: number, nHead: number, hs: number): Promise<Float32Array> {
  const i64 = (xs: number[]) => new ort.Tensor('int64', BigInt64Array.from(xs.map(BigInt)), [1, xs.length]);
  const feeds: Record<string, ort.Tensor> = { input_ids: i64(ids), attention_mask: i64(ids.map(() => 1)), position_ids: i64(ids.map((_, i) => i)) };
  for (let i = 0; i < nLayer; i++) {
    feeds[ONNX_IO.pastKey(i)] = new ort.Tensor('float32', new Float32Array(0), [1, nHead, 0, hs]);
    feeds[ONNX_IO.pastValue(i)] = new ort.Tensor('float32', new Float32Array(0), [1, nHead, 0, hs]);
  }
  return (await session.run(feeds)).logits.data as Float32Array;
}

describe('cli export', () => {
  it('writes an ONNX file and a Hugging Face folder, LoRA merged, equal to the model with its adapters', async () => {
    const tok = CharTokenizer.fromText(TEXT);
    const config = { vocabSize: tok.vocabSize, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 8, dropout: 0, bias: false };
    const model = GPT.create(config, 3);
    const ckpt = join(dir, 'm.safetensors');
    writeFileSync(ckpt, await exportCheckpoint(model, tok, { step: 5, phase: 'pretrain', dataset: 'corpus' }));
    const lora = { rank: 2, alpha: 4, targets: 'attn' } as const;
    const rng = createRng(4);
    const values = new Map<string, Float32Array>();
    for (const s of adapterSpecs(config, lora))
      for (const t of [s.a, s.b])
        values.set(
          t.name,
          Float32Array.from({ length: t.shape[0] * t.shape[1] }, () => rng.next() - 0.5),
        );
    model.setLora(new LoraAdapters(config, lora, values));
    const adapter = join(dir, 'a.safetensors');
    writeFileSync(adapter, await exportAdapter(model));

    const onnxFile = join(dir, 'm.onnx');
    expect(await cli('export', '--ckpt', ckpt, '--adapter', adapter, '--format', 'onnx', '--out', onnxFile)).toBe(0);
    const folder = join(dir, 'hf');
    expect(await cli('export', '--ckpt', ckpt, '--adapter', adapter, '--format', 'hf', '--out', folder)).toBe(0);
    expect(readdirSync(folder).sort()).toEqual([
      'README.md',
      'config.json',
      'generation_config.json',
      'model.safetensors',
      'onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(readFileSync(join(folder, 'README.md'), 'utf8')).toMatch(/LoRA adapters, merged into the weights/);

    const ids = Array.from(tok.encode(TEXT.slice(0, 16)).ids);
    const x = tf.tensor2d([ids], [1, 16], 'int32');
    const y = model.forward(x);
    const expected = (await y.data()) as Float32Array;
    tf.dispose([x, y]);
    for (const file of [onnxFile, join(folder, 'onnx', 'model.onnx')]) {
      const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(file)));
      const got = await lastLogits(session, ids, 2, 2, 4);
      let diff = 0;
      for (let i = 0; i < got.length; i++) diff = Math.max(diff, Math.abs(got[i] - expected[i]));
      expect(diff).toBeLessThan(1e-4);
    }
    model.dispose();
  });

  it('refuses a folder that is not empty, an unknown format, and a missing --format, writing nothing', async () => {
    const tok = CharTokenizer.fromText(TEXT);
    const model = GPT.create({ vocabSize: tok.vocabSize, blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 4, dropout: 0, bias: false }, 1);
    const ckpt = join(dir, 'm.safetensors');
    writeFileSync(ckpt, await exportCheckpoint(model, tok, { step: 0, phase: 'init' }));
    model.dispose();
    const full = join(dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'notes.txt'), 'mine');
    expect(await cli('export', '--ckpt', ckpt, '--format', 'hf', '--out', full)).toBe(1);
    expect(err.pop()).toMatch(/--out .*full is not empty \(notes\.txt\): choose a new or empty folder/);
    expect(readdirSync(full)).toEqual(['notes.txt']);
    expect(await cli('export', '--ckpt', ckpt, '--format', 'zip', '--out', join(dir, 'x'))).toBe(2);
    expect(err.pop()).toMatch(/--format must be onnx or hf, got "zip"/);
    expect(await cli('export', '--ckpt', ckpt, '--out', join(dir, 'x'))).toBe(2);
    expect(err.pop()).toMatch(/export needs --format/);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  it('refuses a tokenizer tokenizer.json cannot hold in one line, creating no folder', async () => {
    // One merge, of two bytes of 世 (E4 B8 96), which has no token of its own.
    const tok = new BpeTokenizer({ chars: [], merges: [[0xe4, 0xb8]] });
    const model = GPT.create({ vocabSize: tok.vocabSize, blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 4, dropout: 0, bias: false }, 1);
    const ckpt = join(dir, 'bytes.safetensors');
    writeFileSync(ckpt, await exportCheckpoint(model, tok, { step: 0, phase: 'init' }));
    model.dispose();
    const folder = join(dir, 'web');
    expect(await cli('export', '--ckpt', ckpt, '--format', 'hf', '--out', folder)).toBe(1);
    expect(err.pop()).toMatch(
      /^error: this BPE tokenizer merges bytes of characters that have no token of their own \(1 token, the first 256: <E4 B8>\).*export --format onnx alone$/,
    );
    expect(existsSync(folder)).toBe(false);
    // The graph alone has no tokenizer.json: it exports.
    expect(await cli('export', '--ckpt', ckpt, '--format', 'onnx', '--out', join(dir, 'bytes.onnx'))).toBe(0);
  });
});
