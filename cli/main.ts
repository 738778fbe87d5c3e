/**
 * The Node CLI over the same engine the browser runs: `npm run cli -- <command> [options]`.
 * Bad arguments and bad files give one clear line on stderr and exit code 1 (2 for usage errors).
 * Output files are checked before any work and written atomically (cli/output.ts). Ctrl-C stops training at
 * the end of the step and saves what was trained (exit code 130); a second Ctrl-C quits at once.
 */
import { parseArgs } from 'node:util';
import * as tf from '../src/engine/tf';
import { ARCH_LIMITS, countParams, isPresetName, PRESET_NAMES, PRESETS, validateConfig, type GPTConfig } from '../src/engine/model/config';
import { GPT } from '../src/engine/model/gpt';
import { generate } from '../src/engine/model/generate';
import { checkText, sequentialWindows, splitIds, trainingText } from '../src/engine/data/corpus';
import { DEFAULT_TEMPLATE, parsePairsStrict, renderPrompt } from '../src/engine/data/pairs';
import { prepareCorpus, preparePairs } from '../src/engine/data/prepare';
import { checkpointBytes, exportCheckpoint, modelFromCheckpoint, readCheckpoint, type TrainingInfo } from '../src/engine/io/checkpoint';
import { exportAdapter, exportMerged, loadAdapter } from '../src/engine/io/adapter';
import { LORA_MAX_RANK, LoraAdapters, parseLoraTargets, type LoraConfig, type LoraTargets } from '../src/engine/model/lora';
import { describePlan, parsePlan, validatePlan } from '../src/engine/train/freeze';
import type { Schedule, ScheduleKind } from '../src/engine/train/schedule';
import { finetuneSpec, pretrainSpec, runSeed, type RunSettings } from '../src/engine/train/specs';
import { LESSON_FINETUNE, LESSON_FREEZE, LESSON_PRETRAIN, LESSON_SAMPLING, NANOGPT_RECIPES, PAIRS_SPLIT_SEED, PAIRS_VAL_FRACTION, type LessonRun } from '../src/engine/train/lesson';
import { Trainer, type TrainSpec } from '../src/engine/train/trainer';
import { evaluateLoss } from '../src/engine/train/evaluate';
import { corpusWords, judgeReply, sampleReplies, scoreReplies } from '../src/engine/eval/dialogue';
import { bitsPerChar, scoredTargets } from '../src/engine/eval/bits';
import { BpeTokenizer, BYTE_TOKENS } from '../src/engine/tokenizer/bpe';
import { MAX_VOCAB, MIN_VOCAB, trainBpe, type BpeProgress } from '../src/engine/tokenizer/bpeTrain';
import type { Tokenizer } from '../src/engine/tokenizer/types';
import { isNodeBackend, NODE_BACKENDS, useNodeBackend } from './backend';
import { readBytes, readInput } from './inputs';
import { checkWritable, writeAtomic } from './output';
import { Progress } from './progress';

class UsageError extends Error {
  override name = 'UsageError';
}

const USAGE = `usage: npm run cli -- <command> [options]

commands:
  pretrain  --text FILE|DATASET --out FILE.safetensors [--preset tiny|baby|small] [--recipe lesson|nanogpt]
            [--steps N] [--batch B]
            [--lr X] [--seed S] [--layers L] [--heads H] [--embd C] [--block T] [--dropout P] [--bias]
            [--warmup N] [--schedule cosine|constant|slanted] [--eval-every N] [--eval-iters N] [--grad-accum N]
            [--tokenizer char|bpe|bpe:N (N tokens, ${MIN_VOCAB}–${MAX_VOCAB}; bpe alone sizes it to the text)]
  finetune  --init FILE --pairs FILE|DATASET --out FILE [--freeze none|embeddings|bottom:K|top:K|progressive:K]
            [--warmup N] [--schedule cosine|constant|slanted]
            [--discriminative F] [--text FILE|DATASET (forgetting curve)] [--steps N] [--batch B] [--lr X] [--seed S]
            [--eval-every N] [--eval-iters N]
            [--lora R (1–64: train rank-R adapters only) [--lora-alpha A (default 2R)] [--lora-targets attn|attn,mlp]
             [--export merged|adapter (merged: a plain model file, default; adapter: only the adapters)]]
  eval      --ckpt FILE --text FILE|DATASET [--split all|train|val] [--batch B] [--adapter FILE]
            lines: bits-per-char <number>, last loss <number> (per token)
  eval      --ckpt FILE --pairs FILE|DATASET [--text CORPUS] [--verbose] [--adapter FILE]
            lines: loss <number> (responses), words <percent>, format <percent> (replies to held-out prompts)
  sample    --ckpt FILE [--prompt TEXT] [--chat] [--tokens N] [--temperature T] [--top-k K] [--top-p P] [--seed S]
  info      --ckpt FILE
  convert   --ckpt FILE --out FILE [--dtype f16|f32]

common:     --backend ${NODE_BACKENDS.join('|')} (default wasm)`;

const OPTIONS = {
  text: { type: 'string' },
  tokenizer: { type: 'string' },
  pairs: { type: 'string' },
  out: { type: 'string' },
  init: { type: 'string' },
  ckpt: { type: 'string' },
  prompt: { type: 'string' },
  chat: { type: 'boolean' },
  preset: { type: 'string' },
  recipe: { type: 'string' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  'grad-accum': { type: 'string' },
  lr: { type: 'string' },
  seed: { type: 'string' },
  layers: { type: 'string' },
  heads: { type: 'string' },
  embd: { type: 'string' },
  block: { type: 'string' },
  dropout: { type: 'string' },
  bias: { type: 'boolean' },
  'eval-every': { type: 'string' },
  warmup: { type: 'string' },
  schedule: { type: 'string' },
  'eval-iters': { type: 'string' },
  freeze: { type: 'string' },
  discriminative: { type: 'string' },
  lora: { type: 'string' },
  'lora-alpha': { type: 'string' },
  'lora-targets': { type: 'string' },
  export: { type: 'string' },
  adapter: { type: 'string' },
  tokens: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  split: { type: 'string' },
  dtype: { type: 'string' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  backend: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** Exit code of a run stopped by Ctrl-C (128 + SIGINT), as a shell reports a process killed by it. */
export const INTERRUPTED = 130;

/** A number option: `min` / `max` are inclusive bounds, `above` an exclusive lower bound (--lr must be > 0). */
function num(v: Values, key: keyof Values, fallback: number, opts: { int?: boolean; min?: number; max?: number; above?: number } = {}): number {
  const raw = v[key];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  const bad =
    typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || (opts.int && !Number.isInteger(n)) ||
    (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max) || (opts.above !== undefined && !(n > opts.above));
  if (bad) {
    const bounds = [opts.above !== undefined ? `> ${opts.above}` : '', opts.min !== undefined ? `≥ ${opts.min}` : '', opts.max !== undefined ? `≤ ${opts.max}` : ''];
    const range = bounds.filter(Boolean).join(' and ');
    throw new UsageError(`--${String(key)} must be ${opts.int ? 'a whole number' : 'a number'}${range ? ` ${range}` : ''}, got "${String(raw)}"`);
  }
  return n;
}

function need(v: Values, key: keyof Values, command: string): string {
  const s = v[key];
  if (typeof s !== 'string' || s === '') throw new UsageError(`${command} needs --${String(key)}`);
  return s;
}

/**
 * A run's settings from the flags: the lesson's defaults, each overridable. The same RunSettings the page's
 * requests are, turned into a TrainSpec by the same builder (engine/train/specs.ts).
 */
export function settingsFromFlags(v: Values, phase: 'pretrain' | 'finetune', lesson: LessonRun = phase === 'pretrain' ? LESSON_PRETRAIN : LESSON_FINETUNE): RunSettings {
  const steps = num(v, 'steps', lesson.steps, { int: true, min: 1 });
  const kind = v.schedule ?? lesson.schedule;
  if (!['cosine', 'constant', 'slanted'].includes(kind)) throw new UsageError(`--schedule must be one of cosine, constant, slanted, got "${kind}"`);
  return {
    phase,
    steps,
    lr: num(v, 'lr', lesson.lr, { above: 0 }),
    batchSize: num(v, 'batch', lesson.batchSize, { int: true, min: 1 }),
    warmupSteps: num(v, 'warmup', lesson.warmupSteps, { int: true, min: 0 }),
    schedule: kind as ScheduleKind,
    evalEvery: num(v, 'eval-every', lesson.evalEvery, { int: true, min: 0 }),
    evalIters: num(v, 'eval-iters', lesson.evalIters, { int: true, min: 1 }),
    gradAccum: num(v, 'grad-accum', 1, { int: true, min: 1 }),
    seed: num(v, 'seed', 1337, { int: true, min: 0 }),
    freeze: phase === 'pretrain' ? { kind: 'none' } : v.freeze === undefined ? LESSON_FREEZE : parsePlan(v.freeze),
    discriminative: phase === 'finetune' && v.discriminative !== undefined ? num(v, 'discriminative', 2.6, { min: 1 }) : undefined,
    promptNoise: 0,
    lora: loraFromFlags(v, phase),
  };
}

/** `--lora R [--lora-alpha A] [--lora-targets attn|attn,mlp]`: LoRA settings, or undefined without --lora. */
function loraFromFlags(v: Values, phase: 'pretrain' | 'finetune'): LoraConfig | undefined {
  if (v.lora === undefined) {
    for (const k of ['lora-alpha', 'lora-targets', 'export'] as const) if (v[k] !== undefined) throw new UsageError(`--${k} needs --lora R`);
    return undefined;
  }
  if (phase === 'pretrain') throw new UsageError('--lora is for finetune: adapters sit on a trained model');
  if (v.freeze !== undefined || v.discriminative !== undefined) throw new UsageError('--lora trains the adapters only: --freeze and --discriminative do not apply');
  const rank = num(v, 'lora', 8, { int: true, min: 1, max: LORA_MAX_RANK });
  let targets: LoraTargets;
  try {
    targets = parseLoraTargets(v['lora-targets'] ?? 'attn');
  } catch (e) {
    throw new UsageError(`--lora-targets: ${(e as Error).message}`);
  }
  if (v.export !== undefined && v.export !== 'merged' && v.export !== 'adapter') throw new UsageError(`--export must be merged or adapter, got "${v.export}"`);
  return { rank, alpha: num(v, 'lora-alpha', 2 * rank, { above: 0 }), targets };
}

/** Parse CLI flags (for tests: the settings a command line gives). */
export function parseFlags(argv: string[]): Values {
  return parseArgs({ args: joinNegativeValues(argv), options: OPTIONS, allowPositionals: true, strict: true }).values;
}

async function train(trainer: Trainer, spec: TrainSpec, ctl: AbortController) {
  const progress = new Progress(spec.steps);
  const result = await trainer.run(spec, { onStep: (m) => progress.step(m), onEval: (e) => progress.eval(e), onFreezeChange: (e) => {
    if (spec.freeze && spec.freeze.kind !== 'none') progress.line(`step ${e.step}: training ${Object.keys(e.trainable).join(', ')} (${e.trainableParams.toLocaleString('en')} parameters)`);
  } }, ctl.signal);
  progress.end();
  return result;
}

function describeSchedule(s: Schedule): string {
  switch (s.kind) {
    case 'cosine':
      return `lr ${s.lr} warmup ${s.warmupSteps} then cosine to ${s.minLr} at step ${s.decaySteps}`;
    case 'constant':
      return `lr ${s.lr} constant${s.warmupSteps ? ` after warmup ${s.warmupSteps}` : ''}`;
    case 'slanted':
      return `lr ${s.lr} slanted (rise ${s.cutFrac}, ratio ${s.ratio})`;
  }
}

const kib = (bytes: Uint8Array) => `${(bytes.length / 1024).toFixed(1)} KiB`;

function write(path: string, bytes: Uint8Array) {
  writeAtomic(path, bytes);
  console.log(`wrote ${path} (${kib(bytes)})`);
}

/**
 * The end of a training run: the model is written (atomically) whether the run finished or was interrupted;
 * an interrupted run says so in one line and exits with INTERRUPTED. Interrupted before its first step, it
 * writes nothing (the previous file, if any, stays).
 */
async function saveRun(out: string, r: { stepsDone: number; aborted: boolean }, bytes: () => Promise<Uint8Array>, total?: number): Promise<number> {
  if (!r.aborted) {
    write(out, await bytes());
    return 0;
  }
  if (r.stepsDone === 0) {
    console.log(`interrupted before the first step: nothing was written`);
    return INTERRUPTED;
  }
  const b = await bytes();
  writeAtomic(out, b);
  const inAll = total !== undefined && total !== r.stepsDone ? ` (step ${total} in all)` : '';
  console.log(`interrupted at step ${r.stepsDone}${inAll}: saved what was trained to ${out} (${kib(b)})`);
  return INTERRUPTED;
}

/** Warns when some characters of an input are outside the model's vocabulary (they become the unknown token). */
function warnUnknown(what: string, unknownChars: [string, number][]) {
  if (!unknownChars.length) return;
  const n = unknownChars.reduce((a, [, c]) => a + c, 0);
  console.log(`warning: ${n} character(s) of ${what} are not in the model's vocabulary and map to the unknown token: ${unknownChars.slice(0, 20).map(([c]) => JSON.stringify(c)).join(' ')}`);
}

/** `--tokenizer char|bpe|bpe:N`: the kind, and for BPE the vocabulary size (undefined: sized to the text). */
function tokenizerArg(v: Values): { kind: 'char' } | { kind: 'bpe'; size?: number } {
  const raw = v.tokenizer ?? 'char';
  if (raw === 'char') return { kind: 'char' };
  if (raw === 'bpe') return { kind: 'bpe' };
  const m = /^bpe:(\d+)$/.exec(raw);
  const size = m ? Number(m[1]) : NaN;
  if (!(size >= MIN_VOCAB && size <= MAX_VOCAB)) {
    throw new UsageError(`--tokenizer must be char, bpe or bpe:N with N a whole number from ${MIN_VOCAB} to ${MAX_VOCAB}, got "${raw}"`);
  }
  return { kind: 'bpe', size };
}

/**
 * Train the BPE tokenizer on the text's first 90 % (the part the model trains on: the validation tenth
 * stays unseen by the tokenizer too), with a progress bar on a terminal. Null when Ctrl-C stopped it.
 */
async function trainTokenizer(text: string, size: number | undefined, ctl: AbortController): Promise<BpeTokenizer | null> {
  const part = trainingText(text);
  const started = performance.now();
  const tty = process.stdout.isTTY;
  let shown = 0;
  const onProgress = (p: BpeProgress) => {
    if (!tty || performance.now() - shown < 100) return;
    shown = performance.now();
    const what = p.phase === 'counting' ? 'counting' : `merge ${p.done.toLocaleString('en')}/${p.total.toLocaleString('en')}`;
    process.stdout.write(`\r\x1b[2Ktraining the tokenizer: ${what}`);
  };
  let tok: BpeTokenizer;
  try {
    tok = await trainBpe(part, { vocabSize: size, onProgress, signal: ctl.signal });
  } catch (e) {
    if (ctl.signal.aborted) return null;
    throw e;
  } finally {
    if (tty) process.stdout.write('\r\x1b[2K');
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`tokenizer BPE: ${tok.vocabSize.toLocaleString('en')} tokens (${BYTE_TOKENS} bytes, ${tok.chars.length.toLocaleString('en')} characters, ${tok.merges.length.toLocaleString('en')} merges), trained in ${seconds} s on ${part.length.toLocaleString('en')} characters`);
  if (size !== undefined && tok.vocabSize < size) console.log(`note: no pair of tokens occurs twice any more, so the vocabulary stopped at ${tok.vocabSize} of the ${size} asked for`);
  return tok;
}

const archNum = (v: Values, key: keyof Values, field: keyof typeof ARCH_LIMITS, fallback: number) =>
  num(v, key, fallback, { int: true, min: ARCH_LIMITS[field].min, max: ARCH_LIMITS[field].max });

/**
 * The run's defaults: the lesson's (a short run that shows a falling loss within a minute), or with
 * `--recipe nanogpt` nanoGPT's own recipe for the preset, so the run is nanoGPT's. Explicit flags win either way.
 */
function pretrainRecipe(v: Values, preset: string): LessonRun {
  const name = v.recipe ?? 'lesson';
  if (name === 'lesson') return LESSON_PRETRAIN;
  if (name !== 'nanogpt') throw new UsageError(`--recipe must be lesson or nanogpt, got "${name}"`);
  const recipe = isPresetName(preset) ? NANOGPT_RECIPES[preset] : undefined;
  if (!recipe) throw new UsageError(`--recipe nanogpt needs --preset ${Object.keys(NANOGPT_RECIPES).join(' or ')} (nanoGPT has no recipe for ${preset})`);
  return recipe;
}

async function pretrain(v: Values, ctl: AbortController): Promise<number> {
  const textArg = need(v, 'text', 'pretrain');
  const out = need(v, 'out', 'pretrain');
  const presetName = v.preset ?? 'tiny';
  if (!isPresetName(presetName)) throw new UsageError(`--preset must be one of ${PRESET_NAMES.join(', ')}, got "${presetName}"`);
  const p = PRESETS[presetName];
  const arch = {
    nLayer: archNum(v, 'layers', 'nLayer', p.nLayer),
    nHead: archNum(v, 'heads', 'nHead', p.nHead),
    nEmbd: archNum(v, 'embd', 'nEmbd', p.nEmbd),
    blockSize: archNum(v, 'block', 'blockSize', p.blockSize),
    dropout: num(v, 'dropout', p.dropout, { min: 0, max: 0.99 }),
    bias: v.bias ?? p.bias,
  };
  const settings = settingsFromFlags(v, 'pretrain', pretrainRecipe(v, presetName));
  const { seed, lr, batchSize: batch } = settings;
  const tokArg = tokenizerArg(v);
  checkWritable(out);
  const input = readInput(textArg, 'corpus');
  let tokenizer: Tokenizer | undefined;
  if (tokArg.kind === 'bpe') {
    checkText(input.text);
    const trained = await trainTokenizer(input.text, tokArg.size, ctl);
    if (!trained) {
      console.log('interrupted while training the tokenizer: nothing was written');
      return INTERRUPTED;
    }
    tokenizer = trained;
  }
  const data = prepareCorpus(input.text, arch.blockSize, tokenizer);
  const config: GPTConfig = validateConfig({ ...arch, vocabSize: data.tokenizer.vocabSize });
  const perToken = tokArg.kind === 'bpe' ? `, ${((data.trainChars + data.valChars) / (data.trainTokens + data.valTokens)).toFixed(2)} characters per token` : '';
  console.log(`pretrain ${input.name}: ${data.trainTokens.toLocaleString('en')} train / ${data.valTokens.toLocaleString('en')} val tokens, vocabulary ${config.vocabSize}${perToken}`);
  console.log(`model ${presetName}: ${config.nLayer} layers, ${config.nHead} heads, width ${config.nEmbd}, context ${config.blockSize}, ${countParams(config).toLocaleString('en')} parameters, backend ${tf.getBackend()}`);
  const spec = pretrainSpec(settings, data);
  console.log(`run (recipe ${v.recipe ?? 'lesson'}): ${spec.steps} steps, batch ${batch}${(spec.gradAccum ?? 1) > 1 ? ` × ${spec.gradAccum}` : ''}, ${describeSchedule(spec.schedule)}, seed ${seed}`);
  const model = GPT.create(config, seed);
  const trainer = new Trainer(model, { seed });
  try {
    const r = await train(trainer, spec, ctl);
    const info: TrainingInfo = { step: r.stepsDone, phase: 'pretrain', dataset: input.entry?.id ?? input.name, seed, lr, batch, losses: r.lastEval?.losses ?? { train: r.lastLoss } };
    if (tokArg.kind === 'bpe') info.tokenizer = `bpe:${data.tokenizer.vocabSize}`;
    return await saveRun(out, r, () => exportCheckpoint(model, data.tokenizer, info));
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

async function finetune(v: Values, ctl: AbortController): Promise<number> {
  const initPath = need(v, 'init', 'finetune');
  const pairsArg = need(v, 'pairs', 'finetune');
  const out = need(v, 'out', 'finetune');
  const settings = settingsFromFlags(v, 'finetune');
  const { seed, lr, batchSize: batch, discriminative } = settings;
  const ckpt = readCheckpoint(readBytes(initPath));
  const plan = validatePlan(settings.freeze, ckpt.config.nLayer);
  checkWritable(out);
  const input = readInput(pairsArg, 'pairs');
  const pairs = parsePairsStrict(input.text, input.name);
  const data = preparePairs(ckpt.tokenizer, pairs, ckpt.config.blockSize, { seed: PAIRS_SPLIT_SEED, valFraction: PAIRS_VAL_FRACTION });
  console.log(`finetune ${initPath} on ${input.name}: ${data.trainPairs} train / ${data.valPairs} val pairs, ${settings.lora ? 'LoRA (every weight frozen)' : `freeze ${describePlan(plan)}`}${discriminative ? `, discriminative ×1/${discriminative}` : ''}`);
  if (data.valPairs === 0) console.log(`warning: ${input.name} has a single pair: none is held out, so the pairs-val loss is the training loss`);
  if (data.truncatedCount) console.log(`warning: ${data.truncatedCount} pair(s) are longer than the context (${ckpt.config.blockSize}) and were truncated`);
  warnUnknown(input.name, data.unknownChars);
  let forgetting = null;
  if (v.text) {
    const text = readInput(v.text, 'corpus');
    forgetting = prepareCorpus(text.text, ckpt.config.blockSize, ckpt.tokenizer);
    warnUnknown(`${text.name} (the forgetting curve's text)`, forgetting.unknownChars);
  }
  const model = modelFromCheckpoint(ckpt);
  if (settings.lora) {
    model.setLora(LoraAdapters.create(ckpt.config, settings.lora, seed));
    console.log(`LoRA rank ${settings.lora.rank}, alpha ${settings.lora.alpha} on ${settings.lora.targets}: ${model.lora!.size.toLocaleString('en')} trainable parameters (${((100 * model.lora!.size) / countParams(ckpt.config)).toFixed(2)} % of the model's ${countParams(ckpt.config).toLocaleString('en')})`);
  }
  const trainer = new Trainer(model, { seed });
  // As the page does (a model continued, not restarted from a snapshot): the CLI and the page draw the same batches.
  trainer.reseed(runSeed(seed, false, ckpt.training.step ?? 0));
  try {
    const r = await train(trainer, finetuneSpec({ ...settings, freeze: plan }, data, ckpt.tokenizer, forgetting), ctl);
    const info: TrainingInfo = { ...ckpt.training, step: (ckpt.training.step ?? 0) + r.stepsDone, phase: 'finetune', freezePlan: plan, discriminative, pairs: input.entry?.id ?? input.name, seed, lr, batch, losses: r.lastEval?.losses ?? { 'pairs-train': r.lastLoss } };
    if (settings.lora) info.lora = settings.lora;
    const bytes = !settings.lora ? () => exportCheckpoint(model, ckpt.tokenizer, info) : v.export === 'adapter' ? () => exportAdapter(model) : () => exportMerged(model, ckpt.tokenizer, info);
    return await saveRun(out, r, bytes, info.step);
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

/** The checkpoint's model, with the adapters of `--adapter FILE` attached (refused unless it is their base). */
async function modelWithAdapter(v: Values, ckpt: ReturnType<typeof readCheckpoint>): Promise<GPT> {
  const model = modelFromCheckpoint(ckpt);
  if (v.adapter === undefined) return model;
  try {
    await loadAdapter(model, readBytes(v.adapter));
    const l = model.lora!.lora;
    console.log(`adapter ${v.adapter}: LoRA rank ${l.rank}, alpha ${l.alpha} on ${l.targets}`);
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

async function evaluate(v: Values) {
  const ckpt = readCheckpoint(readBytes(need(v, 'ckpt', 'eval')));
  if (v.pairs !== undefined) return evaluatePairs(v, ckpt);
  const input = readInput(need(v, 'text', 'eval'), 'corpus');
  const split = v.split ?? 'all';
  if (!['all', 'train', 'val'].includes(split)) throw new UsageError(`--split must be all, train or val, got "${split}"`);
  const enc = ckpt.tokenizer.encode(input.text);
  // The same 90/10 split as pretraining: --split val scores only the held-out tenth.
  if (split !== 'all') enc.ids = splitIds(enc.ids)[split as 'train' | 'val'];
  const T = ckpt.config.blockSize;
  if (enc.ids.length < T + 1) throw new UsageError(`${input.name} has ${enc.ids.length} tokens, fewer than one window of ${T + 1}`);
  if (enc.unknownCount) console.log(`note: ${enc.unknownCount} character(s) are outside the checkpoint's vocabulary and count as the unknown token`);
  const model = await modelWithAdapter(v, ckpt);
  try {
    const batches = [...sequentialWindows(enc.ids, T, num(v, 'batch', 32, { int: true, min: 1 }))];
    const windows = batches.reduce((a, b) => a + b.batchSize, 0);
    const loss = await evaluateLoss(model, batches);
    // Bits per character count the characters the scored targets spell, whatever the tokenizer.
    const { tokens, chars } = scoredTargets(ckpt.tokenizer, batches);
    console.log(`windows ${windows} of ${T} tokens (${tokens} targets, ${chars} characters, ${(chars / tokens).toFixed(3)} per token)`);
    console.log(`bits-per-char ${bitsPerChar(loss, tokens, chars).toFixed(6)}`);
    console.log(`loss ${loss.toFixed(6)}`);
  } finally {
    model.dispose();
  }
}

/**
 * Dialogue evaluation: loss on every pair's response, then one sampled reply (the chat's settings) to each
 * held-out prompt: the share of words found in the pretraining corpus, and last the share of replies in
 * the dialogue format.
 */
async function evaluatePairs(v: Values, ckpt: ReturnType<typeof readCheckpoint>) {
  const input = readInput(need(v, 'pairs', 'eval'), 'pairs');
  const pairs = parsePairsStrict(input.text, input.name);
  let prompts = input.entry?.heldout ?? [];
  if (!prompts.length) {
    prompts = pairs.map((p) => p.prompt).slice(0, 40);
    console.log(`note: ${input.name} has no held-out prompts: replying to its first ${prompts.length} prompts (seen in training, if the model was tuned on them)`);
  }
  const data = preparePairs(ckpt.tokenizer, pairs, ckpt.config.blockSize, { valFraction: 0 });
  if (data.truncatedCount) console.log(`warning: ${data.truncatedCount} pair(s) are longer than the context (${ckpt.config.blockSize}) and were truncated`);
  const corpusArg = v.text ?? (typeof ckpt.training.dataset === 'string' ? ckpt.training.dataset : input.entry?.corpus);
  const corpusText = corpusArg ? readInput(corpusArg, 'corpus').text : null;
  const model = await modelWithAdapter(v, ckpt);
  try {
    const loss = await evaluateLoss(model, data.train.evalBatches(16, Math.ceil(pairs.length / 16)));
    const replies = await sampleReplies(model, ckpt.tokenizer, prompts, {
      maxNewTokens: num(v, 'tokens', LESSON_SAMPLING.maxNewTokens, { int: true, min: 1 }),
      temperature: num(v, 'temperature', LESSON_SAMPLING.temperature, { min: 0 }),
      topK: num(v, 'top-k', LESSON_SAMPLING.topK, { int: true, min: 0 }),
      topP: num(v, 'top-p', LESSON_SAMPLING.topP, { min: 0, max: 1 }),
      seed: num(v, 'seed', LESSON_SAMPLING.seed, { int: true, min: 0 }),
    });
    const score = scoreReplies(replies, corpusText ? corpusWords(corpusText) : null);
    if (v.verbose) for (const r of replies) console.log(`${judgeReply(r).ok ? 'ok ' : 'bad'} ${JSON.stringify(r.prompt)} → ${JSON.stringify(r.text)}`);
    console.log(`pairs ${pairs.length}, held-out prompts ${prompts.length}${corpusArg ? `, words checked against ${corpusArg}` : ''}`);
    console.log(`loss ${loss.toFixed(6)}`);
    console.log(`words ${score.words === null ? 'n/a' : (100 * score.words).toFixed(1)}`);
    if (score.sameLength !== null) console.log(`same-length ${(100 * score.sameLength).toFixed(1)}`);
    console.log(`format ${(100 * score.format).toFixed(1)}`);
  } finally {
    model.dispose();
  }
}

async function sample(v: Values, ctl: AbortController): Promise<number> {
  const ckpt = readCheckpoint(readBytes(need(v, 'ckpt', 'sample')));
  const model = await modelWithAdapter(v, ckpt);
  const tok = ckpt.tokenizer;
  try {
    const prompt = v.chat ? renderPrompt(v.prompt ?? '') : (v.prompt ?? '\n');
    const enc = tok.encode(prompt);
    if (enc.unknownCount) console.error(`note: ${enc.unknownCount} prompt character(s) are outside the vocabulary`);
    const stop = v.chat ? tok.encode(DEFAULT_TEMPLATE.end).ids : undefined;
    if (!v.chat) process.stdout.write(v.prompt ?? '');
    const stream = tok.decoder();
    await generate(model, enc.ids, {
      maxNewTokens: num(v, 'tokens', 500, { int: true, min: 0 }),
      temperature: num(v, 'temperature', 0.8, { min: 0 }),
      topK: num(v, 'top-k', 0, { int: true, min: 0 }),
      topP: num(v, 'top-p', 1, { min: 0, max: 1 }),
      seed: num(v, 'seed', 1337, { int: true, min: 0 }),
      stop,
      signal: ctl.signal,
      // A stream: under BPE a character spelled in byte tokens is written once all its bytes are out.
      onToken: (id) => void process.stdout.write(stream.push(id)),
    });
    process.stdout.write(stream.flush() + '\n');
    return ctl.signal.aborted ? INTERRUPTED : 0;
  } finally {
    model.dispose();
  }
}

/** Rewrite a checkpoint in another storage type (F16 halves the file; loading converts back exactly). */
function convert(v: Values) {
  const ckpt = readCheckpoint(readBytes(need(v, 'ckpt', 'convert')));
  const dtype = (v.dtype ?? 'f16').toUpperCase();
  if (dtype !== 'F16' && dtype !== 'F32') throw new UsageError(`--dtype must be f16 or f32, got "${v.dtype}"`);
  const out = need(v, 'out', 'convert');
  checkWritable(out);
  const values = new Map([...ckpt.params].map(([n, t]) => [n, t.data]));
  write(out, checkpointBytes(ckpt.config, values, ckpt.tokenizer, ckpt.training, dtype));
}

function info(v: Values) {
  const path = need(v, 'ckpt', 'info');
  const bytes = readBytes(path);
  const ckpt = readCheckpoint(bytes);
  const c = ckpt.config;
  console.log(`${path}: ${(bytes.length / 1024).toFixed(1)} KiB`);
  console.log(`model: ${c.nLayer} layers, ${c.nHead} heads, width ${c.nEmbd}, context ${c.blockSize}, dropout ${c.dropout}, bias ${c.bias}`);
  console.log(`parameters: ${countParams(c).toLocaleString('en')}`);
  const tok = ckpt.tokenizer;
  // A BPE vocabulary starts with 256 byte tokens: show its base characters and first merges instead.
  const first = tok.kind === 'char' ? 0 : Math.min(BYTE_TOKENS, tok.vocabSize - 1);
  const shown = Array.from({ length: Math.min(40, tok.vocabSize - first) }, (_, i) => JSON.stringify(tok.tokenText(first + i))).join(' ');
  const kind = tok instanceof BpeTokenizer ? `BPE (${BYTE_TOKENS} bytes, ${tok.chars.length} characters, ${tok.merges.length} merges)` : 'characters';
  console.log(`vocabulary: ${c.vocabSize} tokens, ${kind}: ${first ? '… ' : ''}${shown}${c.vocabSize > first + 40 ? ' …' : ''}`);
  console.log(`training: ${JSON.stringify(ckpt.training)}`);
}

/**
 * The SIGINT handler of a run that can stop early (training, sampling): the first Ctrl-C asks it to stop at
 * the end of the step (it then saves what was trained); a later one quits at once. Wrappers (npm, a shell,
 * a terminal sending to the process group) can deliver one Ctrl-C twice within milliseconds, or both at
 * once after a long step: a repeat within `sameWithinMs` of the first counts as the same Ctrl-C.
 */
export function interruptHandler(ctl: AbortController, quit: () => void, now: () => number = () => performance.now(), sameWithinMs = 250): () => void {
  let first = 0;
  return () => {
    if (!ctl.signal.aborted) {
      first = now();
      ctl.abort();
    } else if (now() - first >= sameWithinMs) {
      quit();
    }
  };
}

/**
 * `--steps -5` is a number option given a negative number, which parseArgs takes for an option and refuses
 * in three lines; joined as `--steps=-5` it reaches the range check and its one-line message.
 */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : '';
    const opt = (OPTIONS as Record<string, { type: string }>)[name];
    if (opt?.type === 'string' && i + 1 < argv.length && /^-(\d|\.\d|Infinity)/.test(argv[i + 1])) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

/** Commands whose work stops at a Ctrl-C and ends properly (the others are simply killed by it). */
const INTERRUPTIBLE = new Set(['pretrain', 'finetune', 'sample']);

export async function main(argv: string[]): Promise<number> {
  const ctl = new AbortController();
  const onInt = interruptHandler(ctl, () => process.exit(INTERRUPTED));
  try {
    const { values: v, positionals } = parseArgs({ args: joinNegativeValues(argv), options: OPTIONS, allowPositionals: true, strict: true });
    const command = positionals[0];
    if (v.help || !command) {
      console.log(USAGE);
      return v.help ? 0 : 2;
    }
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    if (INTERRUPTIBLE.has(command)) process.on('SIGINT', onInt);
    const backend = v.backend ?? 'wasm';
    if (!isNodeBackend(backend)) throw new UsageError(`--backend must be one of ${NODE_BACKENDS.join(', ')}, got "${backend}"`);
    await useNodeBackend(backend);
    switch (command) {
      case 'pretrain':
        return await pretrain(v, ctl);
      case 'finetune':
        return await finetune(v, ctl);
      case 'eval':
        await evaluate(v);
        return 0;
      case 'sample':
        return await sample(v, ctl);
      case 'info':
        info(v);
        return 0;
      case 'convert':
        convert(v);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}" (commands: pretrain, finetune, eval, sample, info, convert)`);
    }
  } catch (e) {
    const err = e as Error;
    // parseArgs throws TypeErrors with codes for unknown or malformed options: usage errors too.
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    // One line, whatever the message (parseArgs explains some mistakes over several).
    console.error(`error: ${err.message.replace(/\s*\n\s*/g, ' ')}`);
    return usage ? 2 : 1;
  } finally {
    process.off('SIGINT', onInt);
  }
}

// Run when executed directly (not when imported by tests).
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!)) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
