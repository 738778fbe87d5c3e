/// <reference lib="webworker" />
/**
 * The training worker: owns every tensor (model, optimizer, snapshot), runs the engine on the chosen
 * backend, and talks to the page only through the protocol's messages.
 */
import * as tf from '../engine/tf';
import { GPT } from '../engine/model/gpt';
import { countParams, validateConfig, type GPTConfig } from '../engine/model/config';
import { generate } from '../engine/model/generate';
import { groupIds, groupOf, type GroupId } from '../engine/model/params';
import { DEFAULT_TEMPLATE, renderPrompt, splitPairs, type Pair } from '../engine/data/pairs';
import { corpusWords, judgeReply, sampleReplies, scoreReplies } from '../engine/eval/dialogue';
import { PAIRS_SPLIT_SEED } from '../engine/train/lesson';
import { createRng } from '../engine/random';
import { prepareCorpus, preparePairs, type PreparedCorpus, type PreparedPairs } from '../engine/data/prepare';
import { checkpointBytes, modelFromCheckpoint, readCheckpoint, restoreParams, snapshotParams, type TrainingInfo } from '../engine/io/checkpoint';
import { readSession, saveSession } from '../engine/io/session';
import { CharTokenizer } from '../engine/tokenizer/char';
import type { Tokenizer } from '../engine/tokenizer/types';
import { scheduleFor, type Schedule } from '../engine/train/schedule';
import { trainableAt } from '../engine/train/freeze';
import { Trainer, type TrainSpec } from '../engine/train/trainer';
import { noisyPairSource, type DataSource } from '../engine/data/sources';
import { chooseBackend } from './backend';
import { GpuErrorGuard } from './gpuGuard';
import { toWireError, type DialogueScore, type SampleSettings, type Event, type ModelInfo, type Request, type RunRequest, type StepPoint } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

const MAX_KEPT_RUNS = 8;

/** GPU backends compile kernels per shape: sample with one fixed input shape there. */
const fixedShape = () => tf.getBackend() === 'webgpu' || tf.getBackend() === 'webgl';

/** Set once the backend is chosen: reports programs the GPU rejected (a no-op off WebGPU). */
let gpuGuard = new GpuErrorGuard(null);
const checkDevice = () => gpuGuard.check();

function post(e: Event, transfer: Transferable[] = []): void {
  self.postMessage(e, transfer);
}

interface Corpus {
  name: string;
  text: string;
}

interface RunState {
  request: RunRequest;
  ctl: AbortController;
  /** Why it was aborted: pause keeps the run resumable. */
  reason: 'pause' | 'stop' | null;
}

const s = {
  corpus: null as Corpus | null,
  corpusData: null as (PreparedCorpus & { tokenizer: Tokenizer }) | null,
  pairs: null as { name: string; pairs: Pair[]; valFraction: number; responseOnly: boolean; heldout: string[] } | null,
  /** Words of the corpus (for the word share of replies), built once per corpus. */
  corpusWords: null as Set<string> | null,
  /** The pretrained snapshot's score on the held-out prompts, computed once per snapshot and prompt set. */
  snapshotScore: null as { snapshot: Map<string, Float32Array>; key: string; score: DialogueScore } | null,
  pairsData: null as PreparedPairs | null,
  model: null as GPT | null,
  tokenizer: null as Tokenizer | null,
  trainer: null as Trainer | null,
  training: { step: 0, phase: 'init' } as TrainingInfo,
  snapshot: null as Map<string, Float32Array> | null,
  run: null as RunState | null,
  /** Final weights and plan of recent fine-tuning runs, so any compared run can be exported. */
  runWeights: new Map<string, { values: Map<string, Float32Array>; training: TrainingInfo }>(),
  samples: new Map<number, AbortController>(),
};

function modelInfo(): ModelInfo | null {
  if (!s.model) return null;
  const groupParams = Object.fromEntries(groupIds(s.model.config.nLayer).map((g) => [g, 0])) as Record<GroupId, number>;
  for (const [name, p] of s.model.params) groupParams[groupOf(name)] += p.size;
  return {
    config: s.model.config,
    params: countParams(s.model.config),
    vocabSize: s.model.config.vocabSize,
    groupParams,
    step: s.trainer?.globalStep ?? 0,
    phase: s.training.phase,
    hasSnapshot: s.snapshot !== null,
  };
}

function requireModel(): { model: GPT; tokenizer: Tokenizer; trainer: Trainer } {
  if (!s.model || !s.tokenizer || !s.trainer) throw new Error('there is no model yet: create one or load a file first');
  return { model: s.model, tokenizer: s.tokenizer, trainer: s.trainer };
}

/** Re-encode the corpus and pairs for the current model's vocabulary and context. */
function prepareData(): void {
  s.corpusData = null;
  s.pairsData = null;
  if (!s.model || !s.tokenizer) return;
  if (s.corpus) {
    s.corpusData = prepareCorpus(s.corpus.text, s.model.config.blockSize, s.tokenizer);
    const d = s.corpusData;
    post({ type: 'corpusInfo', info: { name: s.corpus.name, chars: [...s.corpus.text].length, distinct: new Set(s.corpus.text).size, trainTokens: d.trainTokens, valTokens: d.valTokens, unknownCount: d.unknownCount, unknownChars: d.unknownChars.slice(0, 50) } });
  }
  if (s.pairs) {
    s.pairsData = preparePairs(s.tokenizer, s.pairs.pairs, s.model.config.blockSize, { valFraction: s.pairs.valFraction, responseOnly: s.pairs.responseOnly, seed: PAIRS_SPLIT_SEED });
    const d = s.pairsData;
    post({ type: 'pairsInfo', info: { name: s.pairs.name, pairs: s.pairs.pairs.length, trainPairs: d.trainPairs, valPairs: d.valPairs, truncated: d.truncatedCount, longPairs: d.truncatedIndices, unknownChars: d.unknownChars.slice(0, 50), heldout: heldoutPrompts().length } });
  }
}

/**
 * Prompts for the format evaluation: the set's own held-out list, or else the prompts of the pairs held out
 * for validation (never trained on), at most 40.
 */
function heldoutPrompts(): string[] {
  if (!s.pairs) return [];
  if (s.pairs.heldout.length) return s.pairs.heldout.slice(0, 40);
  return splitPairs(s.pairs.pairs, s.pairs.valFraction, createRng(PAIRS_SPLIT_SEED)).val.map((p) => p.prompt).slice(0, 40);
}

/** Reply to every held-out prompt and score the replies. */
async function scoreDialogue(model: GPT, tokenizer: Tokenizer, prompts: string[], settings: SampleSettings): Promise<DialogueScore> {
  const replies = await sampleReplies(model, tokenizer, prompts, { ...settings, fixedShape: fixedShape() });
  if (s.corpus && !s.corpusWords) s.corpusWords = corpusWords(s.corpus.text);
  const score = scoreReplies(replies, s.corpusWords);
  return { format: score.format, words: score.words, sameLength: score.sameLength, prompts: replies.length, examples: replies.slice(0, 6).map((r) => ({ prompt: r.prompt, text: r.text, ok: judgeReply(r).ok })) };
}

/** A temporary model with the snapshot's weights (the caller disposes it). */
function snapshotModel(model: GPT, tokenizer: Tokenizer): GPT {
  return modelFromCheckpoint({ config: model.config, tokenizer, params: new Map([...s.snapshot!].map(([n, d]) => [n, { shape: model.params.get(n)!.shape, data: d }])), training: s.training });
}

function replaceModel(model: GPT, tokenizer: Tokenizer, training: TrainingInfo, seed: number): void {
  s.trainer?.dispose();
  s.model?.dispose();
  s.model = model;
  s.tokenizer = tokenizer;
  s.training = training;
  s.trainer = new Trainer(model, { seed, checkDevice });
  s.trainer.globalStep = training.step ?? 0;
  s.snapshot = null;
  s.runWeights.clear();
  post({ type: 'modelInfo', info: modelInfo() });
  try {
    prepareData();
  } catch (e) {
    post({ type: 'error', error: toWireError(e) });
  }
}

function freshOptimizer(model: GPT, seed: number): void {
  const globalStep = s.trainer?.globalStep ?? 0;
  s.trainer?.dispose();
  s.trainer = new Trainer(model, { seed, checkDevice });
  s.trainer.globalStep = globalStep;
}

function schedule(r: RunRequest): Schedule {
  return scheduleFor(r.schedule, r.steps, r.lr, r.warmupSteps);
}

async function train(r: RunRequest, startStep: number): Promise<void> {
  const { model, tokenizer } = requireModel();
  if (s.run) throw new Error('a run is already in progress');
  // Claimed before the first await, so a second request cannot slip in while this one sets up.
  const run: RunState = { request: r, ctl: new AbortController(), reason: null };
  s.run = run;
  try {
    await runClaimed(r, startStep, model, tokenizer, run);
  } finally {
    s.run = null;
    post({ type: 'modelInfo', info: modelInfo() });
  }
}

async function runClaimed(r: RunRequest, startStep: number, model: GPT, tokenizer: Tokenizer, run: RunState): Promise<void> {
  let source: DataSource;
  const evals: TrainSpec['evals'] = [];
  if (r.phase === 'pretrain') {
    if (!s.corpusData) throw new Error('choose a corpus to pretrain on first');
    source = s.corpusData.train;
    evals.push({ name: 'train', source: s.corpusData.train }, { name: 'val', source: s.corpusData.val });
  } else {
    if (!s.pairsData || !s.pairs) throw new Error('choose dialogue pairs to fine-tune on first');
    if (r.fromSnapshot && !s.snapshot) throw new Error('there is no pretrained snapshot to start from');
    if (r.fromSnapshot && startStep === 0) restoreParams(model, s.snapshot!);
    // A fine-tuning run starts with a fresh optimizer (as nanoGPT's init_from='gpt2'): moments from
    // pretraining would carry momentum from the old task, and compared strategies must start equal.
    if (startStep === 0) freshOptimizer(model, r.seed);
    // The pretrain → fine-tune boundary: keep the pretrained weights for comparisons and before/after chat.
    if (!s.snapshot) s.snapshot = await snapshotParams(model);
    const pairs = s.pairsData;
    // Noise replaces prompt characters with any ordinary token: never UNKNOWN or the template's own characters.
    const skip = new Set(tokenizer.encode(DEFAULT_TEMPLATE.separator + DEFAULT_TEMPLATE.end).ids);
    const replacements = Int32Array.from(Array.from({ length: tokenizer.vocabSize }, (_, i) => i).filter((i) => i !== tokenizer.unknownId && !skip.has(i)));
    source = r.promptNoise > 0 ? noisyPairSource(pairs.trainExamples, r.promptNoise, replacements) : pairs.train;
    evals.push({ name: 'pairs-train', source: pairs.train }, { name: 'pairs-val', source: pairs.val });
    if (r.forgetting && s.corpusData) evals.push({ name: 'corpus-val', source: s.corpusData.val });
  }
  const trainer = s.trainer!;
  // Same seed, same batches: compared strategies (all from the snapshot) see identical data; a run that
  // continues a model offsets the seed by the steps already taken, so it does not replay earlier batches.
  if (startStep === 0) trainer.reseed(r.fromSnapshot ? r.seed : r.seed + trainer.globalStep);
  const spec: TrainSpec = {
    steps: r.steps,
    batchSize: r.batchSize,
    schedule: schedule(r),
    freeze: r.freeze,
    freezeOptions: { discriminative: r.discriminative },
    train: source,
    evals,
    evalEvery: r.evalEvery,
    evalIters: r.evalIters,
    // Read statistics back about four times a second, not every step (a GPU→CPU sync stalls the GPU).
    logEvery: 1_000_000,
    readbackMs: 250,
  };
  const trainableNow = trainer.trainableParams(trainableAt(r.freeze, startStep, model.config.nLayer, spec.freezeOptions));
  post({ type: 'runStarted', runId: r.runId, phase: r.phase, steps: r.steps, startStep, trainableParams: trainableNow });
  s.training = { ...s.training, phase: r.phase, ...(r.phase === 'finetune' ? { freezePlan: r.freeze, discriminative: r.discriminative } : {}) };
  post({ type: 'modelInfo', info: modelInfo() });

  let buffer: StepPoint[] = [];
  let lastPost = 0;
  const flushMetrics = () => {
    if (buffer.length) post({ type: 'metrics', runId: r.runId, points: buffer });
    buffer = [];
    lastPost = performance.now();
  };
  const t0 = performance.now();
  let step = startStep;
  try {
    const end = Math.min(r.steps, r.pauseAt ?? r.steps);
    // Run in chunks that end where something must happen between steps: a sample for the strip, an autosave.
    const nextStop = (from: number) => Math.min(end, ...[r.sampleEvery, r.autosaveEvery].filter((k) => k > 0).map((k) => (Math.floor(from / k) + 1) * k));
    while (step < end) {
      const res = await trainer.run(
        { ...spec, startStep: step, stopAt: nextStop(step) },
        {
          onStep: (m) => {
            buffer.push({ step: m.step, globalStep: m.globalStep, loss: m.loss, lr: m.lr, gradNorm: m.gradNorm, tokensPerSec: m.tokensPerSec, msPerStep: m.msPerStep, updateNorms: m.updateNorms });
            if (performance.now() - lastPost > 250) flushMetrics();
          },
          onEval: (e) => {
            flushMetrics();
            post({ type: 'eval', runId: r.runId, step: e.step, globalStep: e.globalStep, losses: e.losses });
          },
          onFreezeChange: (e) => {
            flushMetrics();
            post({ type: 'freeze', runId: r.runId, step: e.step, globalStep: e.globalStep, trainable: e.trainable, trainableParams: e.trainableParams });
          },
        },
        run.ctl.signal,
      );
      step = res.stepsDone;
      flushMetrics();
      if (res.aborted) break;
      if (r.sampleEvery > 0 && (step % r.sampleEvery === 0 || step === r.steps)) {
        const prompt = r.phase === 'finetune' ? renderPrompt(r.samplePrompt) : r.samplePrompt || '\n';
        const out = await generate(model, tokenizer.encode(prompt).ids, { maxNewTokens: 60, temperature: 0.8, seed: r.seed, fixedShape: fixedShape(), stop: r.phase === 'finetune' ? tokenizer.encode(DEFAULT_TEMPLATE.end).ids : undefined });
        post({ type: 'sampleStrip', runId: r.runId, step, globalStep: trainer.globalStep, text: tokenizer.decode(out.ids) });
      }
      if (r.autosaveEvery > 0 && step % r.autosaveEvery === 0 && step < r.steps) {
        s.training = { ...s.training, step: trainer.globalStep };
        const bytes = await saveSession(model, tokenizer, trainer, s.training, s.snapshot);
        post({ type: 'autosave', runId: r.runId, step, bytes: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
      }
    }
    s.training = { ...s.training, step: trainer.globalStep };
    // Training time only: the scoring below is not part of the run's cost.
    const wallMs = performance.now() - t0;
    const status = step >= r.steps ? 'done' : run.reason === 'pause' || step === r.pauseAt ? 'paused' : 'stopped';
    const prompts = r.phase === 'finetune' && status !== 'paused' && r.dialogueEval ? heldoutPrompts() : [];
    if (r.dialogueEval && prompts.length) {
      post({ type: 'scoring', runId: r.runId, prompts: prompts.length });
      const settings = r.dialogueEval;
      const modelScore = await scoreDialogue(model, tokenizer, prompts, settings);
      const key = JSON.stringify([prompts, settings]);
      if (s.snapshot && (s.snapshotScore?.snapshot !== s.snapshot || s.snapshotScore.key !== key)) {
        const before = snapshotModel(model, tokenizer);
        try {
          s.snapshotScore = { snapshot: s.snapshot, key, score: await scoreDialogue(before, tokenizer, prompts, settings) };
        } finally {
          before.dispose();
        }
      }
      post({ type: 'dialogueScore', runId: r.runId, model: modelScore, snapshot: s.snapshotScore?.score ?? null });
    }
    if (r.phase === 'finetune' && status !== 'paused') {
      s.runWeights.set(r.runId, { values: await snapshotParams(model), training: { ...s.training, freezePlan: r.freeze, discriminative: r.discriminative, stepsInRun: step } });
      while (s.runWeights.size > MAX_KEPT_RUNS) s.runWeights.delete(s.runWeights.keys().next().value!);
    }
    post({ type: 'runEnded', runId: r.runId, status, stepsDone: step, wallMs, msPerStep: step > startStep ? wallMs / (step - startStep) : 0 });
  } catch (e) {
    flushMetrics();
    s.training = { ...s.training, step: trainer.globalStep };
    const wallMs = performance.now() - t0;
    post({ type: 'runEnded', runId: r.runId, status: 'error', stepsDone: step, wallMs, msPerStep: 0, error: toWireError(e) });
  }
}

async function sample(req: Extract<Request, { type: 'sample' }>): Promise<void> {
  const { model, tokenizer } = requireModel();
  let target = model;
  let temp: GPT | null = null;
  if (req.from === 'snapshot') {
    if (!s.snapshot) throw new Error('there is no pretrained snapshot yet: it is kept when fine-tuning starts');
    temp = snapshotModel(model, tokenizer);
    target = temp;
  }
  const ctl = new AbortController();
  s.samples.set(req.requestId, ctl);
  try {
    const prompt = req.chat ? renderPrompt(req.prompt) : req.prompt;
    const enc = tokenizer.encode(prompt);
    const ids: number[] = [];
    const res = await generate(target, enc.ids.length ? enc.ids : [0], {
      ...req.settings,
      fixedShape: fixedShape(),
      stop: req.chat ? tokenizer.encode(DEFAULT_TEMPLATE.end).ids : undefined,
      signal: ctl.signal,
      onToken: (id) => {
        ids.push(id);
        post({ type: 'token', requestId: req.requestId, text: tokenizer.decode([id]) });
      },
    });
    await gpuGuard.check();
    post({ type: 'sampleDone', requestId: req.requestId, text: tokenizer.decode(res.ids), reason: res.reason });
  } finally {
    s.samples.delete(req.requestId);
    temp?.dispose();
  }
}

async function handle(msg: Request): Promise<void> {
  switch (msg.type) {
    case 'init': {
      const backend = await chooseBackend(msg.backend);
      gpuGuard = new GpuErrorGuard();
      post({ type: 'ready', backend });
      // A lost GPU device (driver reset, tab in the background on some systems) cannot be recovered in place.
      const device = (tf.backend() as unknown as { device?: { lost?: Promise<{ message?: string }> } }).device;
      void device?.lost?.then((info) => post({ type: 'error', error: { name: 'DeviceLost', message: `the GPU device was lost${info?.message ? ` (${info.message})` : ''}` } }));
      return;
    }
    case 'setCorpus':
      s.corpus = { name: msg.name, text: msg.text };
      s.corpusWords = null;
      if (s.model) prepareData();
      else {
        // No model yet: describe the text with its own vocabulary.
        const d = prepareCorpus(msg.text, 1);
        post({ type: 'corpusInfo', info: { name: msg.name, chars: [...msg.text].length, distinct: new Set(msg.text).size, trainTokens: d.trainTokens, valTokens: d.valTokens, unknownCount: 0, unknownChars: [] } });
      }
      return;
    case 'setPairs':
      s.pairs = { name: msg.name, pairs: msg.pairs, valFraction: msg.valFraction, responseOnly: msg.responseOnly, heldout: msg.heldout };
      if (s.model) prepareData();
      return;
    case 'createModel': {
      if (s.run) throw new Error('stop the current run before creating a new model');
      if (!s.corpus) throw new Error('choose a corpus first: the vocabulary is built from it');
      const tokenizer = CharTokenizer.fromText(s.corpus.text);
      const config: GPTConfig = validateConfig({ ...msg.config, vocabSize: tokenizer.vocabSize });
      replaceModel(GPT.create(config, msg.seed), tokenizer, { step: 0, phase: 'init', seed: msg.seed }, msg.seed);
      return;
    }
    case 'train':
      // A run that cannot start (no data, a run already going) still ends, so the page never waits on it.
      await train(msg.run, msg.resume?.startStep ?? 0).catch((e) =>
        post({ type: 'runEnded', runId: msg.run.runId, status: 'error', stepsDone: msg.resume?.startStep ?? 0, wallMs: 0, msPerStep: 0, error: toWireError(e) }),
      );
      return;
    case 'pause':
    case 'stop':
      if (s.run) {
        s.run.reason = msg.type;
        s.run.ctl.abort();
      }
      return;
    case 'sample':
      await sample(msg);
      return;
    case 'cancelSample':
      s.samples.get(msg.requestId)?.abort();
      return;
    case 'export': {
      const { model, tokenizer } = requireModel();
      const kept = msg.from === 'run' ? s.runWeights.get(msg.runId ?? '') : undefined;
      if (msg.from === 'run' && !kept) throw new Error('the weights of that run are no longer kept: only the last few runs can be exported');
      const values = msg.from === 'snapshot' ? s.snapshot : kept ? kept.values : await snapshotParams(model);
      if (!values) throw new Error('there is no pretrained snapshot to export');
      const training =
        msg.from === 'snapshot' ? { ...s.training, phase: 'pretrain' as const, freezePlan: undefined, discriminative: undefined } : kept ? kept.training : { ...s.training, step: s.trainer!.globalStep };
      const bytes = checkpointBytes(model.config, values, tokenizer, { ...training, ...msg.meta });
      post({ type: 'file', requestId: msg.requestId, bytes: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
      return;
    }
    case 'import': {
      if (s.run) throw new Error('stop the current run before loading a model');
      // Validated completely before anything changes: a bad file leaves the current model as it was.
      const ckpt = readCheckpoint(new Uint8Array(msg.bytes));
      replaceModel(modelFromCheckpoint(ckpt), ckpt.tokenizer, { ...ckpt.training, step: ckpt.training.step ?? 0 }, 1337);
      post({ type: 'done', requestId: msg.requestId });
      return;
    }
    case 'saveSession': {
      const { model, tokenizer, trainer } = requireModel();
      const bytes = await saveSession(model, tokenizer, trainer, { ...s.training, step: trainer.globalStep }, s.snapshot);
      post({ type: 'file', requestId: msg.requestId, bytes: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
      return;
    }
    case 'loadSession': {
      if (s.run) throw new Error('stop the current run before restoring a session');
      const { checkpoint, state } = readSession(new Uint8Array(msg.bytes));
      replaceModel(modelFromCheckpoint(checkpoint), checkpoint.tokenizer, { ...checkpoint.training, step: state.globalStep }, 1337);
      const shapes = new Map([...s.model!.params].map(([n, p]) => [n, p.shape]));
      s.trainer!.optimizer.load(state.optimizer, shapes);
      s.trainer!.globalStep = state.globalStep;
      if (state.rng) s.trainer!.rngState = state.rng;
      s.snapshot = state.snapshot;
      post({ type: 'modelInfo', info: modelInfo() });
      post({ type: 'done', requestId: msg.requestId });
      return;
    }
    case 'forgetRun':
      s.runWeights.delete(msg.runId);
      return;
    default: {
      const never: never = msg;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Control messages act at once; the rest are handled one at a time, in order (so nothing runs before the
 * backend is chosen). A training run is started from the queue but not awaited by it: sampling and other
 * requests can be served between its steps.
 */
let queue: Promise<void> = Promise.resolve();

self.onmessage = (e: MessageEvent<Request>) => {
  const msg = e.data;
  const requestId = 'requestId' in msg ? msg.requestId : undefined;
  const fail = (err: unknown) => post({ type: 'error', requestId, error: toWireError(err) });
  if (msg.type === 'pause' || msg.type === 'stop' || msg.type === 'cancelSample' || msg.type === 'forgetRun') {
    handle(msg).catch(fail);
    return;
  }
  queue = queue.then(() => {
    if (msg.type === 'train') {
      handle(msg).catch(fail);
      return;
    }
    return handle(msg).catch(fail);
  });
};
