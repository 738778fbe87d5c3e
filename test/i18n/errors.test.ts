/**
 * Errors as data, complete in both languages: every code the engine, the documents and a pairs file can give
 * is produced here by the code that gives it (not built by hand), and said in English and Chinese with every
 * value in its place; the dictionary itself has every key in both languages, the same placeholders, and no
 * English left in the Chinese table.
 */
import { JSDOM } from 'jsdom';
import { describe, expect, it } from 'vitest';
import { DICTIONARIES, errorText, render, type Key, type Text } from '../../src/i18n/i18n';
import { ENGINE_ERROR_CODES } from '../../src/engine/errors';
import { DOCUMENT_ERROR_CODES } from '../../src/documents/errors';
import { PAIR_PROBLEM_CODES, parsePairs, problemsMessage } from '../../src/documents/pairsFile';
import { checkDocumentText, checkTextSize, decodeUtf8 } from '../../src/documents/text';
import { detectFormat } from '../../src/documents/detect';
import { docxToText } from '../../src/documents/docx';
import { pdfToText } from '../../src/documents/pdf';
import { extractDocument, extractDocuments, MAX_DOCUMENT_BYTES, type ExtractOptions } from '../../src/documents/extract';
import { MAX_UPLOAD_BYTES } from '../../src/engine/data/limits';
import { validateConfig, type GPTConfig } from '../../src/engine/model/config';
import { parseLoraTargets, validateLora } from '../../src/engine/model/loraConfig';
import { checkText, sampleWindows } from '../../src/engine/data/corpus';
import { checkTemplate, DEFAULT_TEMPLATE, pairBatch } from '../../src/engine/data/pairs';
import { parsePlan, validatePlan } from '../../src/engine/train/freeze';
import { NonFiniteError } from '../../src/engine/train/trainer';
import { memoryError } from '../../src/engine/model/memory';
import { ADAPTER_FORMAT, checkpointContents, checkpointFromFile, readCheckpoint } from '../../src/engine/io/checkpoint';
import { checkModelArgs, checkTraining } from '../../src/engine/io/metadata';
import { exportAdapter, readAdapter } from '../../src/engine/io/adapter';
import { readSession } from '../../src/engine/io/session';
import { readSafetensors, writeSafetensors } from '../../src/engine/io/safetensors';
import { paramSpecs } from '../../src/engine/model/params';
import { CharTokenizer } from '../../src/engine/tokenizer/char';
import { GPT } from '../../src/engine/model/gpt';
import { checkOnnxSize } from '../../src/engine/io/onnx';
import { hfTokenizerJson } from '../../src/engine/io/hfTokenizer';
import { BpeTokenizer } from '../../src/engine/tokenizer/bpe';
import { createRng } from '../../src/engine/random';
import { GpuProgramError } from '../../src/worker/gpuGuard';
import { prescoreError } from '../../src/worker/run/scoring';
import type { Tokenizer } from '../../src/engine/tokenizer/types';
import { makePdf } from '../documents/documents';

const en = DICTIONARIES.en as Record<string, string>;
const zh = DICTIONARIES.zh as Record<string, string>;
const placeholders = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
const CJK = /[\u3000-\u9fff\uff00-\uffef]/;

/** Keys whose text is the same in every language: names, units, symbols. */
const NEUTRAL: Key[] = ['chat.topP', 'ft.k', 'diagram.lora', 'diag.megabytes', 'badge.webgpu', 'badge.webgl', 'badge.cpu'];

describe('the dictionary', () => {
  it('has every key in both languages, with the same placeholders', () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const k of Object.keys(en)) {
      expect(zh[k], k).toBeTruthy();
      expect(placeholders(zh[k]), k).toEqual(placeholders(en[k]));
    }
  });

  it('leaves no English in the Chinese table: every text has Chinese in it, and no run of three English words', () => {
    for (const [k, v] of Object.entries(zh)) {
      if (NEUTRAL.includes(k as Key)) continue;
      expect(v, k).toMatch(CJK);
      // Placeholders, product and file names (WebGPU, .safetensors, bottom:K) and a quoted title (the README's
      // “Use your model in nanoGPT”) may stay; a sentence may not.
      expect(v.replace(/\{\w+\}|“[^”]*”/g, ''), k).not.toMatch(/[A-Za-z][A-Za-z'’-]*( [A-Za-z][A-Za-z'’-]*){2,}/);
    }
    for (const k of NEUTRAL) expect(zh[k], k).toBe(en[k]);
  });

  it('has a sentence for every code, and a code for every error sentence', () => {
    const codes = [...ENGINE_ERROR_CODES, ...DOCUMENT_ERROR_CODES].map((c) => `error.${c}`);
    const problems = PAIR_PROBLEM_CODES.map((c) => `pairProblem.${c}`);
    for (const k of [...codes, ...problems]) expect(en[k] && zh[k], k).toBeTruthy();
    expect(
      Object.keys(en)
        .filter((k) => k.startsWith('error.'))
        .sort(),
    ).toEqual([...new Set(codes)].sort());
    expect(
      Object.keys(en)
        .filter((k) => k.startsWith('pairProblem.'))
        .sort(),
    ).toEqual(problems.sort());
  });
});

/** The error `f` throws (or returns, for an error a caller throws as it is built), awaited. */
async function caught(f: () => unknown): Promise<unknown> {
  try {
    const r = await f();
    if (r instanceof Error) return r;
  } catch (e) {
    return e;
  }
  throw new Error('nothing was thrown');
}

const tok = CharTokenizer.fromText('abc');
const config: GPTConfig = { vocabSize: tok.vocabSize, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, dropout: 0, bias: true };
const modelArgs = (patch: Record<string, unknown> = {}) => JSON.stringify({ n_layer: 1, n_head: 2, n_embd: 8, block_size: 8, vocab_size: 5, ...patch });

/** A model file of `config`, every weight `value` except the first of ln_f's weight (`first`). */
function modelFile(first = 0.01) {
  const values = new Map(paramSpecs(config).map((s) => [s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1)).fill(0.01)]));
  values.get('transformer.ln_f.weight')![0] = first;
  return checkpointContents(config, values, tok, { step: 1, phase: 'pretrain' });
}
const modelBytes = () => {
  const f = modelFile();
  return writeSafetensors(f.tensors, f.metadata);
};

const docOpts: ExtractOptions = { loadPdfjs: () => import('pdfjs-dist/legacy/build/pdf.mjs'), domParser: new new JSDOM('').window.DOMParser() };
const bytes = (s: string) => new TextEncoder().encode(s);

/** A safetensors file of this header (JSON, or text as it is) and `data` bytes of tensor data; `claim` overrides the length field. */
function stFile(header: unknown, data = 0, claim?: number): Uint8Array {
  const h = typeof header === 'string' ? bytes(header) : bytes(JSON.stringify(header));
  const file = new Uint8Array(8 + h.length + data);
  new DataView(file.buffer).setBigUint64(0, BigInt(claim ?? h.length), true);
  file.set(h, 8);
  return file;
}

/** The coded reason an error wraps (said inside its sentence), checked to be wrapped by an error of code `outer`. */
const reasonOf = (outer: string, produce: () => unknown) => () => {
  try {
    produce();
  } catch (e) {
    expect((e as { code?: string }).code).toBe(outer);
    throw (e as { cause?: unknown }).cause;
  }
};
/** What readSafetensors says is wrong with a file. */
const stReason = (file: Uint8Array) => reasonOf('notSafetensors', () => readSafetensors(file));
/**
 * What readSession says is wrong inside a saved session: the model file of `modelFile` with `tensors` and `metadata`
 * added (its "session" metadata {} unless given).
 */
const sessionReason = (tensors: Record<string, Float32Array>, metadata: Record<string, string> = {}) =>
  reasonOf('sessionDamaged', () => {
    const f = modelFile();
    for (const [name, data] of Object.entries(tensors)) f.tensors.set(name, { shape: [data.length], data });
    readSession(writeSafetensors(f.tensors, { ...f.metadata, session: '{}', ...metadata }));
  });
/** The model file of `modelFile`, changed by `edit`, read as a checkpoint. */
const editedModel = (edit: (f: ReturnType<typeof modelFile>) => void) => () => {
  const f = modelFile();
  edit(f);
  return checkpointFromFile(f);
};
const withTokenizer = (metadata: Record<string, string>) => () =>
  checkpointFromFile({ tensors: new Map(), metadata: { model_args: modelArgs(), ...metadata } });
const bpeSpec = (patch: Record<string, unknown>) => JSON.stringify({ ...new BpeTokenizer({ chars: [], merges: [] }).toJSON(), ...patch });
const f32 = (shape: unknown, offsets: unknown) => ({ dtype: 'F32', shape, data_offsets: offsets });
const noText = { extractRawText: async () => ({ value: '', messages: [] }) };
const failing = {
  extractRawText: async () => {
    throw new Error('End of data reached');
  },
};
const passworded = { getDocument: () => ({ promise: Promise.reject(Object.assign(new Error('No password given'), { name: 'PasswordException' })) }) };
const plan = (stages: { steps: number; trainable: string[]; lrScale?: number }[]) => () => validatePlan({ kind: 'stages', stages } as never, 2);

/** Each code, produced by the code that gives it. */
const PRODUCERS: Record<string, () => unknown> = {
  exportTooLarge: () => checkOnnxSize({ vocabSize: 600_000, blockSize: 1024, nLayer: 1, nHead: 16, nEmbd: 1024, dropout: 0, bias: false }),
  exportTokenizerBytes: () => hfTokenizerJson(new BpeTokenizer({ chars: [], merges: [[0xe4, 0xb8]] })),
  exportTokenizerClash: () =>
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
  configRange: () => validateConfig({ ...config, nLayer: 0 }),
  configHeads: () => validateConfig({ ...config, nHead: 3 }),
  configDropout: () => validateConfig({ ...config, dropout: 1 }),
  configBias: () => validateConfig({ ...config, bias: 'yes' as never }),
  loraTargets: () => parseLoraTargets('mlp'),
  loraRank: () => validateLora({ rank: 0, alpha: 1, targets: 'attn' }),
  loraAlpha: () => validateLora({ rank: 1, alpha: 0, targets: 'attn' }),
  loraMissing: async () => {
    const model = GPT.create(config, 1);
    try {
      await exportAdapter(model);
    } finally {
      model.dispose();
    }
  },
  loraNotAdapter: () => readAdapter(modelBytes()),
  loraAdapterFile: () => checkpointFromFile({ tensors: new Map(), metadata: { format: ADAPTER_FORMAT } }),
  loraAdapterDamaged: () => readAdapter(writeSafetensors(new Map(), { format: ADAPTER_FORMAT, lora: '{' })),
  adapterLoraJson: reasonOf('loraAdapterDamaged', () => readAdapter(writeSafetensors(new Map(), { format: ADAPTER_FORMAT, lora: '{' }))),
  adapterNoFingerprint: reasonOf('loraAdapterDamaged', () =>
    readAdapter(writeSafetensors(new Map(), { format: ADAPTER_FORMAT, lora: JSON.stringify({ rank: 4, alpha: 8, targets: 'attn' }) })),
  ),
  loraAdapterUnreadable: () => readAdapter(stFile({ __metadata__: { format: ADAPTER_FORMAT }, w: f32([1], [0, 4]) })),
  textEmpty: () => checkText(' \n', 'notes.txt'),
  textNul: () => checkText('a\u0000b', 'notes.txt'),
  textControl: () => checkText('\u0001'.repeat(50) + 'x'.repeat(100), 'notes.txt'),
  textNotUtf8: () => checkText('\ufffd'.repeat(50) + 'x'.repeat(100), 'notes.txt'),
  textTooShortForContext: () => sampleWindows(new Int32Array(3), 8, 1, createRng(1)),
  templateToken: () => checkTemplate({ has: () => false } as unknown as Tokenizer, DEFAULT_TEMPLATE),
  pairsEmpty: () => pairBatch([], []),
  planBottom: () => validatePlan({ kind: 'bottom', k: 5 }, 2),
  planTop: () => validatePlan({ kind: 'top', k: 0 }, 2),
  planProgressive: () => validatePlan({ kind: 'progressive', every: 0 }, 2),
  planNoStages: plan([]),
  planStageSteps: plan([{ steps: 0, trainable: ['ln_f'] }]),
  planStageEmpty: plan([{ steps: 1, trainable: [] }]),
  planStageGroup: plan([{ steps: 1, trainable: ['block.7'] }]),
  planStageLr: plan([{ steps: 1, trainable: ['ln_f'], lrScale: 0 }]),
  planUnknown: () => parsePlan('everything'),
  nonFiniteLoss: () => new NonFiniteError(3, NaN, 1),
  nonFiniteGrad: () => new NonFiniteError(3, 2.5, Infinity),
  memoryBatch: () => memoryError({ needed: 5e9, budget: 3.5e9, advice: { setting: 'batch', fits: 4 } }, 'WebAssembly'),
  memoryVocab: () => memoryError({ needed: 5e9, budget: 3.5e9, advice: { setting: 'vocab', fits: 2048 } }, 'WebAssembly'),
  memoryContext: () => memoryError({ needed: 5e9, budget: 3.5e9, advice: { setting: 'blockSize', fits: 64 } }, 'WebAssembly'),
  memoryWidth: () => memoryError({ needed: 5e9, budget: 3.5e9, advice: { setting: 'width' } }, 'WebAssembly'),
  bufferBatch: () => memoryError({ needed: 3e8, budget: 1.3e8, advice: { setting: 'batch', fits: 4 }, tensor: 'logits' }, 'WebGPU'),
  bufferVocab: () => memoryError({ needed: 3e8, budget: 1.3e8, advice: { setting: 'vocab', fits: 2048 }, tensor: 'embedding' }, 'WebGPU'),
  bufferContext: () => memoryError({ needed: 3e8, budget: 1.3e8, advice: { setting: 'blockSize', fits: 64 }, tensor: 'attention' }, 'WebGL'),
  bufferWidth: () => memoryError({ needed: 3e8, budget: 1.3e8, advice: { setting: 'width' }, tensor: 'mlp' }, 'WebGPU'),
  notSafetensors: () => readCheckpoint(bytes('hello, I am a text file that someone renamed')),
  stTooShort: stReason(new Uint8Array(3)),
  stHeaderEmpty: stReason(stFile('', 4)),
  stHeaderTruncated: stReason(stFile('{}', 0, 1000)),
  stHeaderTooLarge: () => stReason(stFile('{}', 100_000_000, 100_000_001))(),
  stHeaderJson: stReason(stFile('{oops')),
  stHeaderNotObject: stReason(stFile('[1]')),
  stMetadataNotObject: stReason(stFile({ __metadata__: 5 })),
  stMetadataNotString: stReason(stFile({ __metadata__: { steps: 5 } })),
  stEntryNotObject: stReason(stFile({ w: 5 })),
  stDtype: stReason(stFile({ w: { dtype: 'I8', shape: [1], data_offsets: [0, 1] } }, 1)),
  stShape: stReason(stFile({ w: f32([-1], [0, 4]) }, 4)),
  stOffsets: stReason(stFile({ w: f32([1], [0]) }, 4)),
  stOffsetsReversed: stReason(stFile({ w: f32([1], [4, 0]) }, 4)),
  stSize: stReason(stFile({ w: f32([2], [0, 4]) }, 4)),
  stPastEnd: stReason(stFile({ w: f32([1], [0, 4]) })),
  stOverlap: stReason(stFile({ a: f32([1], [0, 4]), b: f32([1], [0, 4]) }, 4)),
  checkpointInt: () => checkModelArgs({}),
  checkpointNumber: () => checkTraining({ lr: -1 }, 2),
  checkpointChoice: () => checkTraining({ phase: 'resting' }, 2),
  checkpointText: () => checkTraining({ dataset: 5 }, 2),
  checkpointObject: () => checkModelArgs(5),
  checkpointNested: () => checkTraining({ freezePlan: { kind: 'bottom', k: 9 } }, 2),
  checkpointNonFinite: () => checkpointFromFile(modelFile(NaN)),
  checkpointHugeWeight: () => checkpointFromFile(modelFile(1e6)),
  checkpointNoMetadata: () => checkpointFromFile({ tensors: new Map(), metadata: {} }),
  checkpointJson: () => checkpointFromFile({ tensors: new Map(), metadata: { model_args: '{' } }),
  checkpointModelArgs: () => checkpointFromFile({ tensors: new Map(), metadata: { model_args: modelArgs({ n_head: 3 }) } }),
  checkpointTokenizer: () => checkpointFromFile({ tensors: new Map(), metadata: { model_args: modelArgs(), itos: '["a", "a"]' } }),
  checkpointDamaged: () => checkpointFromFile({ tensors: new Map(), metadata: { model_args: modelArgs(), itos: '["a", "b"]' } }),
  tokJson: reasonOf('checkpointTokenizer', withTokenizer({ tokenizer: '{' })),
  tokKind: reasonOf('checkpointTokenizer', withTokenizer({ tokenizer: '{"kind": "wordpiece"}' })),
  tokBpe: reasonOf('checkpointTokenizer', withTokenizer({ tokenizer: bpeSpec({ version: 99 }) })),
  tokVocab: reasonOf('checkpointTokenizer', withTokenizer({ tokenizer: bpeSpec({}), vocab: '["00"]' })),
  tokItos: reasonOf('checkpointTokenizer', withTokenizer({ itos: '["a", "a"]' })),
  bpeChars: () => BpeTokenizer.fromJSON(JSON.parse(bpeSpec({ chars: 'é' }))),
  bpeMerges: () => BpeTokenizer.fromJSON(JSON.parse(bpeSpec({ merges: 5 }))),
  bpeTooLarge: () => BpeTokenizer.fromJSON(JSON.parse(bpeSpec({ merges: Array.from({ length: 70_000 }, () => [0, 1]) }))),
  bpeCharNotOne: () => BpeTokenizer.fromJSON(JSON.parse(bpeSpec({ chars: ['éé'] }))),
  bpeCharAscii: () => BpeTokenizer.fromJSON(JSON.parse(bpeSpec({ chars: ['a'] }))),
  bpeCharSurrogate: () => BpeTokenizer.fromJSON(JSON.parse(bpeSpec({ chars: ['\ud800'] }))),
  bpeCharTwice: () => BpeTokenizer.fromJSON(JSON.parse(bpeSpec({ chars: ['é', 'é'] }))),
  bpeMergeIds: () => BpeTokenizer.fromJSON(JSON.parse(bpeSpec({ merges: [[0, 999]] }))),
  bpeMergeRepeat: () =>
    BpeTokenizer.fromJSON(
      JSON.parse(
        bpeSpec({
          merges: [
            [104, 105],
            [104, 105],
          ],
        }),
      ),
    ),
  bpeNotObject: () => BpeTokenizer.fromJSON(5),
  bpeKind: () => BpeTokenizer.fromJSON({ kind: 'char' }),
  bpeVersion: () => BpeTokenizer.fromJSON(JSON.parse(bpeSpec({ version: 99 }))),
  itosList: () => CharTokenizer.fromItos(['a']),
  itosNotOne: () => CharTokenizer.fromItos(['a', 'bc']),
  itosTwice: () => CharTokenizer.fromItos(['a', 'a']),
  ckItosVocab: reasonOf('checkpointDamaged', withTokenizer({ itos: '["a", "b"]' })),
  ckBpeVocab: reasonOf('checkpointDamaged', withTokenizer({ tokenizer: bpeSpec({}) })),
  ckMissing: reasonOf(
    'checkpointDamaged',
    editedModel((f) => f.tensors.delete('transformer.ln_f.weight')),
  ),
  ckShape: reasonOf(
    'checkpointDamaged',
    editedModel((f) => f.tensors.set('transformer.ln_f.weight', { shape: [2, 4], data: new Float32Array(8) })),
  ),
  ckUntied: reasonOf(
    'checkpointDamaged',
    editedModel((f) => f.tensors.set('lm_head.weight', { shape: [1], data: new Float32Array(1) })),
  ),
  ckUnexpected: reasonOf(
    'checkpointDamaged',
    editedModel((f) => f.tensors.set('transformer.h.9.mlp.c_fc.weight', { shape: [1], data: new Float32Array(1) })),
  ),
  ckStagesList: reasonOf('checkpointDamaged', () => checkTraining({ freezePlan: { kind: 'stages', stages: 5 } }, 2)),
  ckStageTrainable: reasonOf('checkpointDamaged', () => checkTraining({ freezePlan: { kind: 'stages', stages: [{ trainable: 5 }] } }, 2)),
  sessionNotSession: () => readSession(modelBytes()),
  sessionDamaged: () => readSession(writeSafetensors(new Map(), { session: '{' })),
  sessionMetaJson: sessionReason({}, { session: '{' }),
  sessionMomentsUnpaired: sessionReason({ 'optimizer.m.transformer.ln_f.weight': new Float32Array(8) }),
  sessionLoraSettings: sessionReason({ 'lora.transformer.h.0.attn.c_attn.lora_A': new Float32Array(8) }),
  sessionLoraJson: sessionReason({ 'lora.transformer.h.0.attn.c_attn.lora_A': new Float32Array(8) }, { lora: '{' }),
  sessionUnknownParam: sessionReason({
    'optimizer.m.transformer.h.7.mlp.c_fc.weight': new Float32Array(2),
    'optimizer.v.transformer.h.7.mlp.c_fc.weight': new Float32Array(2),
  }),
  gpuRejected: () => new GpuProgramError('Binding size 8 is too small\nmore'),
  prescoreFailed: () => prescoreError(new GpuProgramError('Binding size 8 is too small')),
  // the documents'
  tooLarge: () => checkTextSize('big.txt', MAX_UPLOAD_BYTES + 1),
  documentTooLarge: () => extractDocument({ name: 'huge.pdf', bytes: new ArrayBuffer(MAX_DOCUMENT_BYTES + 1) }, docOpts),
  corpusTooLarge: async () => {
    const half = 'a'.repeat(MAX_UPLOAD_BYTES / 2 + 10);
    const r = await extractDocuments(
      [
        { name: 'one.txt', bytes: bytes(half) },
        { name: 'two.txt', bytes: bytes(half) },
      ],
      docOpts,
    );
    throw r.errors[0];
  },
  notText: () => decodeUtf8('photo.txt', new Uint8Array([0xff, 0xfe, 0x00])),
  noText: () => docxToText('empty.docx', new Uint8Array(4), noText),
  noTextLayer: () => extractDocument({ name: 'scan.pdf', bytes: makePdf(['0 0 100 100 re f']) }, docOpts),
  encrypted: () => pdfToText('secret.pdf', new Uint8Array(4), passworded as never),
  unreadable: () => docxToText('broken.docx', new Uint8Array(4), failing),
  notPdf: () => detectFormat('report.pdf', bytes('hello')),
  notDocx: () => detectFormat('letter.docx', bytes('hello')),
  oldOffice: () => detectFormat('letter.doc', new Uint8Array([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0])),
  unsupported: () => detectFormat('photo.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10])),
};

/**
 * Codes only the worker gives (its requests refused, a lost GPU device) or that need two trained models (an
 * adapter on the wrong base): their sentences are checked above; the browser tests meet them.
 */
const ELSEWHERE = ['noModel', 'noCorpus', 'noPairs', 'noSnapshot', 'runBusy', 'runNotKept', 'deviceLost', 'loraWrongBase'];

/** Text as both languages show it: every placeholder filled, the Chinese in Chinese. */
function expectSaid(text: Text, what: string): void {
  expect(typeof text, `${what}: a Message, not English words`).toBe('object');
  const [e, z] = [render('en', text), render('zh', text)];
  expect(e, what).not.toMatch(/\{\w+\}/);
  expect(z, what).not.toMatch(/\{\w+\}/);
  expect(z, what).toMatch(CJK);
  expect(z, what).not.toBe(e);
}

describe('every code, as it is thrown', () => {
  it('covers every code but those only the worker gives', () => {
    const all = [...ENGINE_ERROR_CODES, ...DOCUMENT_ERROR_CODES];
    expect([...Object.keys(PRODUCERS), ...ELSEWHERE].sort()).toEqual([...new Set(all)].sort());
  });

  for (const [code, produce] of Object.entries(PRODUCERS)) {
    it(`${code}: said in both languages with its values`, async () => {
      const e = (await caught(produce)) as { code?: string; message: string };
      expect(e.code).toBe(code);
      expectSaid(errorText(e), code);
    });
  }

  it('a file that is not safetensors says what is wrong with it in the page’s language, not in the reader’s English', async () => {
    const text = errorText(await caught(() => readCheckpoint(bytes('hello, I am a text file that someone renamed'))));
    expect(render('zh', text)).toMatch(/^不是有效的 safetensors 文件：头部声明有 \d+ 字节，但长度字段之后只剩 \d+ 字节/);
    expect(render('en', text)).toMatch(/^not a valid safetensors file: the header claims \d+ bytes but the file has only \d+ after the length field/);
    // The JSON parser's own words stay out of the page's sentence (they are English in every language).
    const json = errorText(await caught(() => readCheckpoint(stFile('{oops'))));
    expect(render('zh', json)).toBe('不是有效的 safetensors 文件：头部不是有效的 UTF-8 JSON');
  });

  it('a model file whose tensors do not fit its model says which, in the page’s language, the tensor’s name as it is', async () => {
    const text = errorText(await caught(editedModel((f) => f.tensors.delete('transformer.ln_f.weight'))));
    expect(render('zh', text)).toBe('模型文件已损坏：缺少张量 transformer.ln_f.weight（model_args 写的是 2 层，bias 为 true）');
    expect(render('en', text)).toBe('the model file is damaged: tensor transformer.ln_f.weight is missing (model_args say 2 layers, bias true)');
  });

  it('a model file’s unusable BPE tokenizer says why two levels deep, every level in the page’s language', async () => {
    const text = errorText(await caught(withTokenizer({ tokenizer: bpeSpec({ chars: ['é', 'é'] }) })));
    expect(render('zh', text)).toBe('模型文件中的分词器无法使用：其元数据“tokenizer”不是可用的 BPE 分词器：chars[1] "é" 出现了两次');
    expect(render('en', text)).toBe(
      'the model file’s tokenizer is not usable: its metadata “tokenizer” is not a usable BPE tokenizer: chars[1] "é" appears twice',
    );
  });

  it('a damaged session says what is wrong inside it in the page’s language, the parameter’s name as it is', async () => {
    const text = errorText(
      await caught(() => readSession(writeSafetensors(new Map([['optimizer.m.wte', { shape: [1], data: new Float32Array(1) }]]), { session: '{}' }))),
    );
    expect(render('zh', text)).toBe('保存的会话已损坏：其中有 wte 的 AdamW 一阶矩，却没有二阶矩');
    expect(render('en', text)).toBe('the saved session is damaged: it holds AdamW’s first moment of wte but not its second');
    // The JSON parser's own words stay out of the page's sentence.
    expect(render('zh', errorText(await caught(PRODUCERS.sessionDamaged)))).toBe('保存的会话已损坏：其“session”元数据不是有效的 JSON');
  });

  it('a wrapped error is said inside the one that wraps it, in the same language', async () => {
    const text = errorText(await caught(PRODUCERS.checkpointModelArgs));
    expect(render('zh', text)).toContain('宽度（8）必须能被注意力头数（3）整除');
    expect(render('en', text)).toContain('the width (8) must be divisible by the number of heads (3)');
  });

  it('a document error keeps the engine’s own code for text that is empty or binary', async () => {
    const e = (await caught(() => checkDocumentText('notes.md', '\u0000'))) as { code: string; params: Record<string, unknown> };
    expect(e.code).toBe('textNul');
    expect(e.params).toMatchObject({ name: 'notes.md', what: 'notes.md', at: 1 });
  });
});

describe('a pairs file’s unreadable lines', () => {
  const files: [string, string][] = [
    [
      'a.jsonl',
      '{"prompt": "x"\n[1]\n{"q": 1}\n{"prompt": "p"}\n{"prompt": 1, "response": "r"}\n{"prompt": "p", "response": 2}\n{"prompt": " ", "response": "r"}\n{"prompt": "p", "response": ""}\n{"prompt": "a\\n\\nb", "response": "r"}',
    ],
    ['b.json', '{"prompt": "p"}'],
    ['c.csv', 'prompt,response\nonly\n"x,"y"z\n'],
  ];
  const problems = files.flatMap(([name, text]) => parsePairs(text, name).problems);

  it('gives every problem code, each said in both languages', () => {
    expect([...new Set(problems.map((p) => p.code))].sort()).toEqual([...PAIR_PROBLEM_CODES].filter((c) => c !== 'csvFields').sort());
    for (const p of problems) expectSaid(problemsMessage([p]), p.code);
  });

  it('lists the first lines, each once, and says how many more', () => {
    const many = parsePairs(files[0][1], 'a.jsonl').problems;
    const text = problemsMessage(many, 3);
    expect(render('en', text)).toMatch(
      /^9 unreadable lines: line 1: not valid JSON: “\{"prompt": "x"”; line 2: expected an object .*; line 3: no prompt field .*; and 6 more$/,
    );
    expect(render('zh', text)).toMatch(/^有 9 行无法读取：第 1 行：不是有效的 JSON：“\{"prompt": "x"”；第 2 行：.*；第 3 行：没有提问字段.*；另外还有 6 行$/);
  });
});
