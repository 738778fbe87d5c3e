/**
 * The Hugging Face folder (src/engine/io/hfFolder.ts, hfTokenizer.ts): its tokenizer.json gives our ids and
 * text back in Hugging Face's own JavaScript tokenizers (the library transformers.js uses), its
 * model.safetensors loads back into the engine with identical logits, and what the format cannot hold is
 * refused with a specific message.
 */
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { GPT } from '../../src/engine/model/gpt';
import type { GPTConfig } from '../../src/engine/model/config';
import { paramSpecs } from '../../src/engine/model/params';
import { modelFromCheckpoint, snapshotParams } from '../../src/engine/io/checkpoint';
import { hfConfigJson, hfFolderFiles, readHfModel, STOP_STRING } from '../../src/engine/io/hfFolder';
import { hfTokenizerConfig, hfTokenizerJson } from '../../src/engine/io/hfTokenizer';
import { readSafetensors } from '../../src/engine/io/safetensors';
import { checkOnnxSize } from '../../src/engine/io/onnx';
import { errorText, translate, type Key } from '../../src/i18n/i18n';
import { CharTokenizer } from '../../src/engine/tokenizer/char';
import { BpeTokenizer } from '../../src/engine/tokenizer/bpe';
import { trainBpe } from '../../src/engine/tokenizer/bpeTrain';
import type { Tokenizer } from '../../src/engine/tokenizer/types';
import { randomModel } from './helpers';

const EN =
  'Call me Ishmael. Some years ago, never mind how long precisely, I went to sea.\nWhat is a whale?\nA fish that spouts — “thar she blows!” Café naïve.\n\n';
const ZH = '床前明月光，疑是地上霜。举头望明月，低头思故乡。\n春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。\n\n';
/** Texts the tokenizers must agree on: rare and unseen characters, whitespace JavaScript and Oniguruma disagree on, long words, emoji. */
const PROBES = [
  EN,
  ZH,
  'What is a whale?\n\nA fish.\n\n\n  indented\ttab\r\nline',
  'unseen: 丁丂 Ωμέγα 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀👍🏽 \u0085nel \ufeffbom \u00a0nbsp \u2028ls \u3000ideographic',
  `${'a'.repeat(150)} ${'鲸'.repeat(70)} ${'9'.repeat(65)} ${'!'.repeat(130)}`,
  'numbers 1851, 3.14 and punctuation...!? «quotes» ¿qué?',
];

function hf(tok: Tokenizer, blockSize = 64): HfTokenizer {
  // Through JSON text, as a file would be read.
  return new HfTokenizer(JSON.parse(JSON.stringify(hfTokenizerJson(tok))), JSON.parse(JSON.stringify(hfTokenizerConfig(tok, blockSize))));
}

describe('tokenizer.json', () => {
  it('a char tokenizer: the same ids (unknown characters → \\uFFFD, one each) and the same text back', () => {
    const tok = CharTokenizer.fromText(EN);
    const h = hf(tok);
    for (const text of PROBES) {
      const ours = Array.from(tok.encode(text).ids);
      expect(h.encode(text).ids, JSON.stringify(text.slice(0, 30))).toEqual(ours);
      expect(h.decode(ours)).toBe(tok.decode(ours));
    }
  });

  it('a BPE tokenizer (English and Chinese, bytes for unseen characters): the same ids and the same text back', async () => {
    const tok = await trainBpe((EN + ZH).repeat(4), { vocabSize: 400 });
    expect(tok.chars.length).toBeGreaterThan(10);
    expect(tok.merges.length).toBeGreaterThan(50);
    const h = hf(tok);
    for (const text of PROBES) {
      const ours = Array.from(tok.encode(text).ids);
      expect(h.encode(text).ids, JSON.stringify(text.slice(0, 30))).toEqual(ours);
      expect(tok.decode(ours)).toBe(text);
      // tokenizers.js's ByteFallback decodes byte runs with TextDecoder, which drops a byte-order mark (U+FEFF)
      // at a run's start; everything else comes back exactly.
      expect(h.decode(ours)).toBe(text.replace(/\ufeff/g, ''));
    }
  });

  it('refuses merges of a character’s bytes and two tokens with one string, saying why', () => {
    const bytes = new BpeTokenizer({ chars: [], merges: [[0xe4, 0xb8]] });
    expect(() => hfTokenizerJson(bytes)).toThrow(
      /merges bytes of characters that have no token of their own \(1 token, the first 256: <E4 B8>\).*--format onnx alone/,
    );
    // "ab"+"c" and "a"+"bc" both spell "abc".
    const twice = new BpeTokenizer({
      chars: [],
      merges: [
        [97, 98],
        [98, 99],
        [256, 99],
        [97, 257],
      ],
    });
    expect(() => hfTokenizerJson(twice)).toThrow(/tokens 258 and 259 are both abc/);
    // Codes and values, so the page says which in its language.
    expect(() => hfTokenizerJson(bytes)).toThrow(expect.objectContaining({ code: 'exportTokenizerBytes', params: { count: 1, id: 256, token: '<E4 B8>' } }));
    expect(() => hfTokenizerJson(twice)).toThrow(expect.objectContaining({ code: 'exportTokenizerClash', params: { a: 258, b: 259, token: 'abc' } }));
  });

  it('each refusal (these two, and a model past 2 GiB) reads in both of the page’s languages, every value filled in', () => {
    const huge: GPTConfig = { vocabSize: 600_000, blockSize: 1024, nLayer: 1, nHead: 16, nEmbd: 1024, dropout: 0, bias: false };
    const refusals = [
      () => hfTokenizerJson(new BpeTokenizer({ chars: [], merges: [[0xe4, 0xb8]] })),
      () =>
        hfTokenizerJson(
          new BpeTokenizer({
            chars: [],
            merges: [
              [97, 98],
              [98, 99],
              [256, 99],
              [97, 257],
            ],
          }),
        ),
      () => checkOnnxSize(huge),
    ];
    for (const refuse of refusals) {
      let caught: unknown;
      try {
        refuse();
      } catch (e) {
        caught = e;
      }
      const text = errorText(caught);
      expect(typeof text, String(caught)).toBe('object'); // a dictionary key, not the English fallback
      const { key, params } = text as { key: Key; params?: Record<string, string | number> };
      for (const lang of ['en', 'zh'] as const) expect(translate(lang, key, params), `${lang} ${key}`).not.toMatch(/\{\w+\}/);
    }
    expect(translate('zh', 'error.exportTooLarge', { gib: '2.34', params: '628,034,560' })).toMatch(/2\.34 GiB（628,034,560 个参数）/);
  });
});

async function logits(model: GPT, ids: number[]): Promise<Float32Array> {
  const x = tf.tensor2d([ids], [1, ids.length], 'int32');
  const y = model.forward(x);
  const out = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return out;
}

describe('the Hugging Face folder', () => {
  const tok = CharTokenizer.fromText(EN);
  const ids = Array.from(tok.encode(EN.slice(0, 24)).ids);

  for (const bias of [false, true]) {
    it(`model.safetensors is GPT-2's layout and loads back with identical logits (bias ${bias})`, async () => {
      const config: GPTConfig = { vocabSize: tok.vocabSize, blockSize: 24, nLayer: 2, nHead: 2, nEmbd: 8, dropout: 0, bias };
      const model = await randomModel(config, 11);
      const files = hfFolderFiles({
        config,
        values: await snapshotParams(model),
        tokenizer: tok,
        training: { step: 7, phase: 'pretrain', dataset: 'moby-dick' },
      });
      expect([...files.keys()].sort()).toEqual([
        'README.md',
        'config.json',
        'generation_config.json',
        'model.safetensors',
        'onnx/model.onnx',
        'tokenizer.json',
        'tokenizer_config.json',
      ]);
      const st = readSafetensors(files.get('model.safetensors')!);
      expect(st.metadata.format).toBe('pt');
      expect(st.tensors.get('transformer.h.0.attn.c_attn.weight')!.shape).toEqual([8, 24]); // Conv1D: [in, out]
      expect(st.tensors.get('transformer.h.1.mlp.c_proj.weight')!.shape).toEqual([32, 8]);
      expect(st.tensors.has('lm_head.weight')).toBe(false); // tied, as transformers saves it
      // Every GPT-2 bias is there; zeros when the model has none.
      expect(st.tensors.get('transformer.h.0.mlp.c_fc.bias')!.data.some((v) => v !== 0)).toBe(bias);
      const configJson = JSON.parse(new TextDecoder().decode(files.get('config.json')));
      expect(configJson).toMatchObject({
        model_type: 'gpt2',
        n_layer: 2,
        n_head: 2,
        n_embd: 8,
        n_positions: 24,
        n_ctx: 24,
        vocab_size: tok.vocabSize,
        activation_function: 'gelu',
        layer_norm_epsilon: 1e-5,
        'transformers.js_config': { dtype: 'fp32' },
      });
      expect(JSON.parse(new TextDecoder().decode(files.get('generation_config.json'))).stop_strings).toEqual([STOP_STRING]);
      expect(new TextDecoder().decode(files.get('README.md'))).toMatch(/pretrained on: `moby-dick`/);

      const back = readHfModel(configJson, files.get('model.safetensors')!);
      expect(back.config).toEqual(config);
      const again = modelFromCheckpoint({
        config: back.config,
        tokenizer: tok,
        params: new Map([...back.values].map(([n, d]) => [n, { shape: paramSpecs(config).find((s) => s.name === n)!.shape, data: d }])),
        training: { step: 0, phase: 'init' },
      });
      const [a, b] = [await logits(model, ids), await logits(again, ids)];
      expect(b).toEqual(a); // bit-identical: a transpose there and back is exact
      model.dispose();
      again.dispose();
    });
  }

  it('refuses a model past ONNX’s 2 GiB from its config, before a weight is copied', () => {
    const huge: GPTConfig = { vocabSize: 600_000, blockSize: 1024, nLayer: 1, nHead: 16, nEmbd: 1024, dropout: 0, bias: false };
    const hugeTok = { ...tok, vocabSize: huge.vocabSize } as unknown as Tokenizer;
    // No values at all: a size check after the first copy would fail on the missing weights instead.
    expect(() => hfFolderFiles({ config: huge, values: new Map(), tokenizer: hugeTok })).toThrow(
      expect.objectContaining({ code: 'exportTooLarge', message: expect.stringMatching(/2\.34 GiB as float32/) }),
    );
  });

  it('readHfModel refuses what nanoGPT cannot be', async () => {
    const config: GPTConfig = { vocabSize: tok.vocabSize, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, dropout: 0, bias: false };
    const model = await randomModel(config, 12);
    const files = hfFolderFiles({ config, values: await snapshotParams(model), tokenizer: tok });
    const st = files.get('model.safetensors')!;
    const c = hfConfigJson(config);
    expect(() => readHfModel({ ...c, activation_function: 'gelu_new' }, st)).toThrow(/not nanoGPT's exact GELU/);
    expect(() => readHfModel({ ...c, tie_word_embeddings: false }, st)).toThrow(/ties the head/);
    const withBias = hfFolderFiles({
      config: { ...config, bias: true },
      values: await snapshotParams(await randomModel({ ...config, bias: true }, 13)),
      tokenizer: tok,
    });
    expect(() => readHfModel(c, withBias.get('model.safetensors')!)).toThrow(
      /transformer\.h\.0\.ln_1\.bias is not zero, but nanogpt_model_args say the model has no biases/,
    );
    model.dispose();
  });
});
