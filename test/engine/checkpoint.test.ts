import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { GPT } from '../../src/engine/model/gpt';
import {
  checkpointBytes,
  checkpointContents,
  CheckpointError,
  exportCheckpoint,
  modelFromCheckpoint,
  readCheckpoint,
  snapshotParams,
} from '../../src/engine/io/checkpoint';
import { f16ToF32, f32ToF16, readSafetensors, SafetensorsError, writeSafetensors } from '../../src/engine/io/safetensors';
import type { EngineError } from '../../src/engine/errors';
import { paramSpecs } from '../../src/engine/model/params';
import { CharTokenizer } from '../../src/engine/tokenizer/char';
import { BpeTokenizer } from '../../src/engine/tokenizer/bpe';
import { trainBpe } from '../../src/engine/tokenizer/bpeTrain';
import { errorText, render } from '../../src/i18n/i18n';

const tok = CharTokenizer.fromText('abcdefg hij');
const config = { vocabSize: tok.vocabSize, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, dropout: 0, bias: true };

async function exported() {
  const model = GPT.create(config, 1);
  const bytes = await exportCheckpoint(model, tok, { step: 42, phase: 'finetune', freezePlan: { kind: 'bottom', k: 1 } });
  return { model, bytes };
}

/**
 * A file's header as JSON, which the cases edit anywhere (a tensor's offsets, a metadata string): `any`, as
 * JSON.parse gives it, so each case can reach into the field it breaks.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

function header(bytes: Uint8Array): Json {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
}

function withHeader(bytes: Uint8Array, edit: (h: Json) => void): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const h = header(bytes);
  edit(h);
  const json = new TextEncoder().encode(JSON.stringify(h));
  const out = new Uint8Array(8 + json.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes.subarray(8 + n), 8 + json.length);
  return out;
}

describe('checkpoint files', () => {
  it('writes nanoGPT names, shapes and metadata, with lm_head equal to wte', async () => {
    const { model, bytes } = await exported();
    const h = header(bytes);
    expect(h['transformer.h.1.attn.c_attn.weight']).toMatchObject({ dtype: 'F32', shape: [24, 8] });
    expect(h['transformer.h.0.mlp.c_proj.weight'].shape).toEqual([8, 32]);
    expect(h['lm_head.weight'].shape).toEqual([tok.vocabSize, 8]);
    expect(JSON.parse(h.__metadata__.model_args)).toEqual({
      n_layer: 2,
      n_head: 2,
      n_embd: 8,
      block_size: 8,
      bias: true,
      vocab_size: tok.vocabSize,
      dropout: 0,
    });
    expect(JSON.parse(h.__metadata__.itos)).toEqual(tok.itos);
    expect(JSON.parse(h.__metadata__.training)).toMatchObject({ step: 42, phase: 'finetune', freezePlan: { kind: 'bottom', k: 1 } });
    expect((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8).toBe(0);
    const f = readSafetensors(bytes);
    expect(f.tensors.get('lm_head.weight')!.data).toEqual(f.tensors.get('transformer.wte.weight')!.data);
    model.dispose();
  });

  it('round-trips bit-identically', async () => {
    const { model, bytes } = await exported();
    const ckpt = readCheckpoint(bytes);
    expect(ckpt.config).toEqual(config);
    expect(ckpt.tokenizer).toBeInstanceOf(CharTokenizer);
    expect((ckpt.tokenizer as CharTokenizer).itos).toEqual(tok.itos);
    expect(ckpt.training.step).toBe(42);
    const back = modelFromCheckpoint(ckpt);
    const [a, b] = [await snapshotParams(model), await snapshotParams(back)];
    expect(b.size).toBe(a.size);
    for (const [n, v] of a) expect(Buffer.from(b.get(n)!.buffer).equals(Buffer.from(v.buffer))).toBe(true);
    expect(await exportCheckpoint(back, ckpt.tokenizer, ckpt.training)).toEqual(bytes);
    model.dispose();
    back.dispose();
  });

  it('rejects corrupt files with a specific message and creates no tensors', async () => {
    const { model, bytes } = await exported();
    const wteEnd = header(bytes)['transformer.wte.weight'].data_offsets[1];
    const cases: [string, Uint8Array, RegExp][] = [
      ['too short', bytes.subarray(0, 5), /shorter than the 8-byte header length/],
      ['truncated data', bytes.subarray(0, bytes.length - 10), /past the .* bytes of data/],
      [
        'header length past the end',
        (() => {
          const c = bytes.slice();
          new DataView(c.buffer).setBigUint64(0, 10n ** 12n, true);
          return c;
        })(),
        /header claims .* bytes but the file has only/,
      ],
      [
        'header not JSON',
        (() => {
          const c = bytes.slice();
          c[8] = 0x7b;
          c[9] = 0x7b;
          return c;
        })(),
        /not valid UTF-8 JSON/,
      ],
      ['wrong dtype', withHeader(bytes, (h) => (h['transformer.ln_f.weight'].dtype = 'I64')), /dtype "I64"/],
      ['shape disagrees with bytes', withHeader(bytes, (h) => (h['transformer.ln_f.weight'].shape = [9])), /needs 36 bytes, data_offsets span 32/],
      ['overlapping tensors', withHeader(bytes, (h) => (h['transformer.wpe.weight'].data_offsets = [wteEnd - 256, wteEnd - 256 + 256])), /overlap/],
      ['offsets out of range', withHeader(bytes, (h) => (h['transformer.ln_f.bias'].data_offsets = [10 ** 9, 10 ** 9 + 32])), /past the/],
      ['missing tensor', withHeader(bytes, (h) => delete h['transformer.h.1.mlp.c_fc.weight']), /transformer\.h\.1\.mlp\.c_fc\.weight is missing/],
      [
        'shape against config',
        withHeader(bytes, (h) => (h.__metadata__.model_args = JSON.stringify({ ...JSON.parse(h.__metadata__.model_args), n_embd: 16, n_head: 2 }))),
        /has shape \[.*\], model_args need/,
      ],
      [
        'impossible config',
        withHeader(bytes, (h) => (h.__metadata__.model_args = JSON.stringify({ ...JSON.parse(h.__metadata__.model_args), n_head: 3 }))),
        /impossible model: nEmbd \(8\) must be divisible by nHead \(3\)/,
      ],
      ['no vocabulary', withHeader(bytes, (h) => delete h.__metadata__.itos), /no "itos" in its metadata/],
      [
        'vocabulary size mismatch',
        withHeader(bytes, (h) => (h.__metadata__.itos = JSON.stringify(['a', 'b']))),
        /itos has 2 tokens but model_args.vocab_size is/,
      ],
      ['metadata not strings', withHeader(bytes, (h) => (h.__metadata__.step = 3)), /__metadata__\.step must be a string/],
      [
        'untied head',
        (() => {
          const c = bytes.slice();
          const n = Number(new DataView(c.buffer).getBigUint64(0, true));
          const off = header(c)['lm_head.weight'].data_offsets[0];
          new DataView(c.buffer).setFloat32(8 + n + off, 123, true);
          return c;
        })(),
        /lm_head\.weight differs/,
      ],
      [
        'NaN weights',
        (() => {
          const c = bytes.slice();
          const n = Number(new DataView(c.buffer).getBigUint64(0, true));
          const off = header(c)['transformer.ln_f.weight'].data_offsets[0];
          new DataView(c.buffer).setFloat32(8 + n + off, NaN, true);
          return c;
        })(),
        /non-finite value/,
      ],
      ['not safetensors at all', new TextEncoder().encode('hello, I am a text file that someone renamed'), /header claims/],
    ];
    const before = tf.memory().numTensors;
    for (const [what, file, message] of cases) {
      let err: unknown;
      try {
        readCheckpoint(file);
      } catch (e) {
        err = e;
      }
      // A file that is no safetensors file says so (SafetensorsError); one that is, but no model of ours, is a CheckpointError.
      expect(err, what).toSatisfy((e: unknown) => e instanceof CheckpointError || e instanceof SafetensorsError);
      expect((err as EngineError).code, what).toBeDefined();
      expect((err as Error).message, what).toMatch(message);
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('reads F16 and BF16 tensors and strips torch.compile prefixes', () => {
    const f16 = new Uint8Array([0x00, 0x3c, 0x00, 0xc0]); // 1.0, -2.0
    const bf16 = new Uint8Array([0x80, 0x3f, 0x40, 0x40]); // 1.0, 3.0
    const json = new TextEncoder().encode(
      JSON.stringify({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [2], data_offsets: [4, 8] } }),
    );
    const file = new Uint8Array(8 + json.length + 8);
    new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
    file.set(json, 8);
    file.set(f16, 8 + json.length);
    file.set(bf16, 12 + json.length);
    const r = readSafetensors(file);
    expect(Array.from(r.tensors.get('a')!.data)).toEqual([1, -2]);
    expect(Array.from(r.tensors.get('b')!.data)).toEqual([1, 3]);
    const w = writeSafetensors(new Map([['_orig_mod.x', { shape: [1], data: new Float32Array([5]) }]]), {});
    expect(readSafetensors(w).tensors.get('_orig_mod.x')!.data[0]).toBe(5);
  });
});

describe('half precision', () => {
  it('rounds float32 to the nearest half (ties to even) and reads it back exactly', () => {
    // Every half value converts to float32 and back to itself.
    for (let h = 0; h < 0x10000; h++) {
      const x = f16ToF32(h);
      if (Number.isNaN(x)) expect(Number.isNaN(f16ToF32(f32ToF16(x)))).toBe(true);
      else expect(f32ToF16(x), `half 0x${h.toString(16)}`).toBe(h);
    }
    // Rounding: 1 + 2^-11 is halfway between 1 and 1 + 2^-10 → even (1); just above it rounds up.
    expect(f16ToF32(f32ToF16(1 + 2 ** -11))).toBe(1);
    expect(f16ToF32(f32ToF16(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    expect(f16ToF32(f32ToF16(1 + 2 ** -11 + 2 ** -20))).toBe(1 + 2 ** -10);
    expect(f16ToF32(f32ToF16(70000))).toBe(Infinity);
    expect(f16ToF32(f32ToF16(2 ** -25 + 2 ** -30))).toBe(2 ** -24); // smallest subnormal
    // Relative error of a typical weight stays within half an ulp (2^-11).
    for (const x of [0.02, -0.0137, 0.9, 3.3e-4]) expect(Math.abs(f16ToF32(f32ToF16(x)) - x) / Math.abs(x)).toBeLessThanOrEqual(2 ** -11);
  });

  it('a checkpoint written in F16 loads as the rounded float32 weights', () => {
    const tok = CharTokenizer.fromText('abc\n');
    const config = { vocabSize: tok.vocabSize, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4, dropout: 0, bias: false };
    const values = new Map(
      paramSpecs(config).map((s) => [s.name, Float32Array.from({ length: s.shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i + 1) * 0.1)]),
    );
    const half = readCheckpoint(checkpointBytes(config, values, tok, { step: 1, phase: 'pretrain' }, 'F16'));
    const full = readCheckpoint(checkpointBytes(config, values, tok, { step: 1, phase: 'pretrain' }));
    for (const [name, v] of values) {
      expect(Array.from(half.params.get(name)!.data)).toEqual(Array.from(v, (x) => f16ToF32(f32ToF16(x))));
      expect(Array.from(full.params.get(name)!.data)).toEqual(Array.from(v));
    }
  });
});

describe('the tokenizer in the file', () => {
  it('a BPE model round-trips with its merges, and a damaged or mismatched tokenizer is refused', async () => {
    const bpe = await trainBpe('Call me Ishmael. Some years ago, never mind how long, 床前明月光。\n'.repeat(4), { vocabSize: 300 });
    const cfg = { ...config, vocabSize: bpe.vocabSize };
    const model = GPT.create(cfg, 1);
    const bytes = await exportCheckpoint(model, bpe, { step: 3, phase: 'pretrain' });
    const meta = header(bytes).__metadata__;
    expect(Object.keys(meta)).toEqual(['format', 'model_args', 'tokenizer', 'vocab', 'training']);
    const ckpt = readCheckpoint(bytes);
    expect(ckpt.tokenizer).toBeInstanceOf(BpeTokenizer);
    expect((ckpt.tokenizer as BpeTokenizer).toJSON()).toEqual(bpe.toJSON());
    const text = 'Call me 床前明月光 😀';
    expect(ckpt.tokenizer.encode(text).ids).toEqual(bpe.encode(text).ids);
    expect(ckpt.tokenizer.decode(bpe.encode(text).ids)).toBe(text);
    const back = modelFromCheckpoint(ckpt);
    expect(await exportCheckpoint(back, ckpt.tokenizer, ckpt.training)).toEqual(bytes);

    const cases: [Uint8Array, RegExp][] = [
      [
        withHeader(
          bytes,
          (h) =>
            (h.__metadata__.tokenizer = JSON.stringify({
              ...JSON.parse(h.__metadata__.tokenizer),
              merges: [
                [1, 2],
                [1, 2],
              ],
            })),
        ),
        /not a usable BPE tokenizer: merges\[1\] \[1,2\] repeats merge 0/,
      ],
      // `vocab` is optional (derived): without it, the size check speaks.
      [
        withHeader(bytes, (h) => {
          h.__metadata__.tokenizer = JSON.stringify({ ...JSON.parse(h.__metadata__.tokenizer), merges: [] });
          delete h.__metadata__.vocab;
        }),
        /the BPE tokenizer has \d+ tokens but model_args.vocab_size is 300/,
      ],
      [withHeader(bytes, (h) => (h.__metadata__.vocab = JSON.stringify(['41']))), /"vocab" disagrees with the merges/],
      [withHeader(bytes, (h) => (h.__metadata__.tokenizer = '{"kind":"sentencepiece"}')), /kind "sentencepiece"/],
    ];
    for (const [file, message] of cases) expect(() => readCheckpoint(file)).toThrow(message);
    model.dispose();
    back.dispose();
  });

  it('a character model is written as before BPE: the committed starter files load and give back their metadata unchanged', () => {
    const file = readSafetensors(new Uint8Array(readFileSync('public/starters/en.safetensors')));
    const ckpt = readCheckpoint(new Uint8Array(readFileSync('public/starters/en.safetensors')));
    expect(ckpt.tokenizer).toBeInstanceOf(CharTokenizer);
    const values = new Map([...ckpt.params].map(([n, t]) => [n, t.data]));
    const again = checkpointContents(ckpt.config, values, ckpt.tokenizer, ckpt.training).metadata;
    expect(Object.keys(again)).toEqual(['format', 'model_args', 'itos', 'training']);
    expect(again).toEqual(file.metadata);
  });
});

describe('the metadata, field by field', () => {
  const training = (edit: (t: Json) => void) => (h: Json) => {
    const t = JSON.parse(h.__metadata__.training);
    edit(t);
    h.__metadata__.training = JSON.stringify(t);
  };
  const args = (edit: (a: Json) => void) => (h: Json) => {
    const a = JSON.parse(h.__metadata__.model_args);
    edit(a);
    h.__metadata__.model_args = JSON.stringify(a);
  };
  const refusal = (file: Uint8Array) => {
    try {
      readCheckpoint(file);
    } catch (e) {
      return e as CheckpointError;
    }
    throw new Error('the file was accepted');
  };

  it('refuses a value of the wrong type or out of range in one error naming the field, with its code for the page', async () => {
    const { model, bytes } = await exported();
    const cases: [string, (h: Json) => void, RegExp, string?][] = [
      // Crashed with "Cannot read properties of null (reading 'step')".
      ['training null', (h) => (h.__metadata__.training = 'null'), /^metadata training must be a JSON object \(got null\)$/, 'checkpointObject'],
      ['training a list', (h) => (h.__metadata__.training = '[1]'), /^metadata training must be a JSON object \(got \[1\]\)$/, 'checkpointObject'],
      // Was kept, and "5" + 2 steps later gave step "52".
      ['step a string', training((t) => (t.step = '5')), /^metadata training\.step must be a whole number from 0 to 1000000000 \(got "5"\)$/, 'checkpointInt'],
      [
        'step -1e300',
        training((t) => (t.step = -1e300)),
        /^metadata training\.step must be a whole number from 0 to 1000000000 \(got -1e\+300\)$/,
        'checkpointInt',
      ],
      ['step a fraction', training((t) => (t.step = 1.5)), /training\.step must be a whole number .* \(got 1\.5\)$/],
      ['step past 1e9', training((t) => (t.step = 2e9)), /training\.step must be a whole number .* \(got 2000000000\)$/],
      [
        'phase unknown',
        training((t) => (t.phase = 'banana')),
        /^metadata training\.phase must be one of "init", "pretrain", "finetune" \(got "banana"\)$/,
        'checkpointChoice',
      ],
      ['seed negative', training((t) => (t.seed = -1)), /^metadata training\.seed must be a whole number from 0 to 4294967295 \(got -1\)$/],
      ['lr a string', training((t) => (t.lr = '0.1')), /^metadata training\.lr must be a number from 0 to 1000 \(got "0\.1"\)$/, 'checkpointNumber'],
      ['batch 0', training((t) => (t.batch = 0)), /^metadata training\.batch must be a whole number from 1 to 1000000 \(got 0\)$/],
      [
        'a loss not a number',
        training((t) => (t.losses = { train: 'low' })),
        /^metadata training\.losses\.train must be a number from 0 to 1000000 \(got "low"\)$/,
      ],
      ['losses not an object', training((t) => (t.losses = 3)), /^metadata training\.losses must be a JSON object \(got 3\)$/],
      [
        'dataset not text',
        training((t) => (t.dataset = { id: 1 })),
        /^metadata training\.dataset must be text of at most 4096 characters \(got \{"id":1\}\)$/,
        'checkpointText',
      ],
      [
        'discriminative below 1',
        training((t) => (t.discriminative = 0.5)),
        /^metadata training\.discriminative must be a number from 1 to 1000000 \(got 0\.5\)$/,
      ],
      [
        'freeze plan past the model',
        training((t) => (t.freezePlan = { kind: 'bottom', k: 9 })),
        /^metadata training\.freezePlan: bottom:K needs 0 ≤ K ≤ 2 \(the model has 2 blocks\), got 9$/,
      ],
      ['freeze plan kind', training((t) => (t.freezePlan = { kind: 'all' })), /^metadata training\.freezePlan\.kind must be one of .* \(got "all"\)$/],
      [
        'freeze plan stages not a list',
        training((t) => (t.freezePlan = { kind: 'stages', stages: null })),
        /^metadata training\.freezePlan\.stages must be a list \(got null\)$/,
      ],
      [
        'lora rank',
        training((t) => (t.lora = { rank: 0, alpha: 1, targets: 'attn' })),
        /^metadata training\.lora: LoRA rank must be a whole number from 1 to 64, got 0$/,
      ],
      ['model_args null', (h) => (h.__metadata__.model_args = 'null'), /^metadata model_args must be a JSON object \(got null\)$/],
      ['n_layer a string', args((a) => (a.n_layer = '2')), /^metadata model_args\.n_layer must be a whole number from 1 to 24 \(got "2"\)$/, 'checkpointInt'],
      ['n_embd huge', args((a) => (a.n_embd = 1e9)), /^metadata model_args\.n_embd must be a whole number from 1 to 1024 \(got 1000000000\)$/],
      ['block_size negative', args((a) => (a.block_size = -8)), /^metadata model_args\.block_size must be a whole number from 1 to 1024 \(got -8\)$/],
      ['vocab_size missing', args((a) => delete a.vocab_size), /^metadata model_args\.vocab_size must be a whole number from 2 to 1048576 \(got undefined\)$/],
      ['bias a string', args((a) => (a.bias = 'yes')), /^metadata model_args\.bias must be one of true, false \(got "yes"\)$/],
      ['dropout negative', args((a) => (a.dropout = -0.5)), /^metadata model_args\.dropout must be a number from 0 to 1 \(got -0\.5\)$/],
      ['itos not a list', (h) => (h.__metadata__.itos = 'null'), /metadata "itos" is not a usable vocabulary: itos must be an array/],
    ];
    for (const [what, edit, message, code] of cases) {
      const e = refusal(withHeader(bytes, edit));
      expect(e, what).toBeInstanceOf(CheckpointError);
      expect(e.message, what).toMatch(message);
      if (code) {
        expect(e.code, what).toBe(code);
        // The page's words for it, in both languages, with every parameter filled in.
        for (const lang of ['en', 'zh'] as const) {
          const text = render(lang, errorText(e));
          expect(text, `${what} (${lang})`).toContain(String(e.params.field));
          expect(text, `${what} (${lang})`).not.toMatch(/\{\w+\}/);
        }
      }
    }
    model.dispose();
  });

  it('takes what a run could have written: no training at all, no step, a null loss (a diverged run), fields of a later version', async () => {
    const { model, bytes } = await exported();
    expect(readCheckpoint(withHeader(bytes, (h) => delete h.__metadata__.training)).training).toEqual({ step: 0, phase: 'init' });
    expect(
      readCheckpoint(
        withHeader(
          bytes,
          training((t) => delete t.step),
        ),
      ).training,
    ).toMatchObject({ step: 0, phase: 'finetune' });
    const t = readCheckpoint(
      withHeader(
        bytes,
        training((t) =>
          Object.assign(t, { losses: { train: 2.5, val: null }, futureField: { any: ['thing'] }, run: 'B', stepsInRun: 7, lr: 3e-3, seed: 4294967295 }),
        ),
      ),
    ).training;
    expect(t).toMatchObject({ losses: { train: 2.5, val: null }, futureField: { any: ['thing'] }, run: 'B', stepsInRun: 7, step: 42 });
    // Older exporters leave bias and dropout out: defaulted as nanoGPT's GPTConfig does.
    expect(
      readCheckpoint(
        withHeader(
          bytes,
          args((a) => {
            delete a.bias;
            delete a.dropout;
          }),
        ),
      ).config,
    ).toMatchObject({ bias: true, dropout: 0 });
    model.dispose();
  });

  it('refuses non-finite or absurdly large weights, naming the tensor, instead of a NaN loss later', async () => {
    const { model, bytes } = await exported();
    const poke = (name: string, index: number, value: number) => {
      const c = bytes.slice();
      const n = Number(new DataView(c.buffer).getBigUint64(0, true));
      const off = header(c)[name].data_offsets[0];
      new DataView(c.buffer).setFloat32(8 + n + off + 4 * index, value, true);
      return c;
    };
    const cases: [Uint8Array, RegExp, string][] = [
      [
        poke('transformer.h.1.mlp.c_fc.weight', 3, Infinity),
        /^tensor transformer\.h\.1\.mlp\.c_fc\.weight holds a non-finite value \(Infinity\) at index 3$/,
        'checkpointNonFinite',
      ],
      [
        poke('transformer.ln_f.weight', 2, -1e5),
        /^tensor transformer\.ln_f\.weight holds -100000 at index 2, beyond ±10000: the file is damaged$/,
        'checkpointHugeWeight',
      ],
      [poke('transformer.wpe.weight', 0, 3e38), /^tensor transformer\.wpe\.weight holds 3\.\d+e\+38 at index 0, beyond ±10000/, 'checkpointHugeWeight'],
    ];
    for (const [file, message, code] of cases) {
      const e = refusal(file);
      expect(e.message).toMatch(message);
      expect(e.code).toBe(code);
      expect(render('zh', errorText(e))).toContain(String(e.params.tensor));
    }
    // At the bound itself a weight is taken.
    expect(() => readCheckpoint(poke('transformer.ln_f.weight', 2, 1e4))).not.toThrow();
    model.dispose();
  });
});
