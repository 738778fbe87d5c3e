/// <reference lib="webworker" />
/**
 * The training worker: owns every tensor (through its ModelOwner), runs the engine on the chosen backend,
 * and talks to the page only through the protocol's messages.
 *
 *   owner.ts  the model and its tensors     data.ts  texts and their encodings
 *   run.ts    a training run                backend.ts, gpuGuard.ts  the device
 */
import { adapterBytes, exportAdapter, isAdapterFile, loadAdapter, readBackWeights } from '../engine/io/adapter';
import { LoraAdapters, LoraError } from '../engine/model/lora';
import * as tf from '../engine/tf';
import { GPT } from '../engine/model/gpt';
import { validateConfig, type GPTConfig } from '../engine/model/config';
import { generate } from '../engine/model/generate';
import { DEFAULT_TEMPLATE, renderPrompt } from '../engine/data/pairs';
import { checkpointBytes, modelFromCheckpoint, readCheckpoint } from '../engine/io/checkpoint';
import { readSession, saveSession } from '../engine/io/session';
import { EngineError } from '../engine/errors';
import { attentionMaps } from '../engine/model/probe';
import { CharTokenizer } from '../engine/tokenizer/char';
import { trainBpe } from '../engine/tokenizer/bpeTrain';
import { trainingText } from '../engine/data/corpus';
import type { Tokenizer } from '../engine/tokenizer/types';
import { chooseBackend } from './backend';
import { GpuErrorGuard } from './gpuGuard';
import { WorkerData } from './data';
import { ModelOwner } from './owner';
import { runTraining, type ActiveRun, type RunContext } from './run';
import { toWireError, type Event, type Request } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

function post(e: Event, transfer: Transferable[] = []): void {
  self.postMessage(e, transfer);
}

/** Everything the worker holds, in one place. */
const worker = {
  /** Set once the backend is chosen: reports programs the GPU rejected (a no-op off WebGPU). */
  gpuGuard: new GpuErrorGuard(null),
  owner: new ModelOwner((): Promise<void> => worker.gpuGuard.check()),
  data: new WorkerData(),
  run: null as ActiveRun | null,
  /** A BPE tokenizer being trained for a new model (cancelTokenizer aborts it). */
  tokenizerTraining: null as AbortController | null,
};

const ctx: RunContext = {
  owner: worker.owner,
  data: worker.data,
  post,
  fixedShape: () => tf.getBackend() === 'webgpu' || tf.getBackend() === 'webgl',
};

/** Re-encode the data for the current model and tell the page what it holds. */
function prepareData(): void {
  const loaded = worker.owner.model ? worker.owner.require() : null;
  const info = worker.data.prepare(loaded?.model ?? null, loaded?.tokenizer ?? null);
  if (info.corpus) post({ type: 'corpusInfo', info: info.corpus });
  if (info.pairs) post({ type: 'pairsInfo', info: info.pairs });
  post({ type: 'tokenizerInfo', info: worker.data.tokenizerInfo(loaded?.tokenizer ?? null) });
}

/** Progress messages at most this often: a 1,000-merge training reports a few dozen times, not a thousand. */
const PROGRESS_EVERY_MS = 100;

/**
 * The tokenizer a new model gets: characters of the corpus, or BPE trained here with its progress posted, on
 * the text's first 90 % as the CLI does (the validation tenth stays unseen by the tokenizer too). Null when
 * cancelled.
 */
async function newTokenizer(text: string, choice: Extract<Request, { type: 'createModel' }>['tokenizer']): Promise<Tokenizer | null> {
  if (!choice || choice.kind === 'char') return CharTokenizer.fromText(text);
  const ctl = new AbortController();
  worker.tokenizerTraining = ctl;
  let last = 0;
  try {
    return await trainBpe(trainingText(text), {
      vocabSize: choice.vocabSize ?? undefined,
      signal: ctl.signal,
      onProgress: (p) => {
        const now = performance.now();
        if (now - last < PROGRESS_EVERY_MS && p.done < p.total) return;
        last = now;
        post({ type: 'tokenizerProgress', progress: { phase: p.phase, done: p.done, total: p.total } });
      },
    });
  } catch (e) {
    // Cancelled: not an error, the current model simply stays (null).
    if (ctl.signal.aborted) return null;
    throw e;
  } finally {
    worker.tokenizerTraining = null;
  }
}

function replaceModel(...args: Parameters<ModelOwner['replace']>): void {
  worker.owner.replace(...args);
  post({ type: 'modelInfo', info: worker.owner.info() });
  try {
    prepareData();
  } catch (e) {
    post({ type: 'error', error: toWireError(e) });
  }
}

function refuseDuringRun(): void {
  if (worker.run) throw new EngineError('stop the current run first', 'runBusy');
}

async function train(msg: Extract<Request, { type: 'train' }>): Promise<void> {
  refuseDuringRun();
  // Claimed before the first await, so a second request cannot slip in while this one sets up.
  const active: ActiveRun = { ctl: new AbortController(), reason: null };
  worker.run = active;
  try {
    await runTraining(ctx, msg.run, msg.resume?.startStep ?? 0, active);
  } finally {
    worker.run = null;
    post({ type: 'modelInfo', info: worker.owner.info() });
  }
}

async function sample(req: Extract<Request, { type: 'sample' }>): Promise<void> {
  const { model, tokenizer } = worker.owner.require();
  const temp = req.from === 'snapshot' ? worker.owner.snapshotModel() : null;
  try {
    const prompt = req.chat ? renderPrompt(req.prompt) : req.prompt;
    const enc = tokenizer.encode(prompt);
    const res = await generate(temp ?? model, enc.ids.length ? enc.ids : [0], {
      ...req.settings,
      fixedShape: ctx.fixedShape(),
      stop: req.chat ? tokenizer.encode(DEFAULT_TEMPLATE.end).ids : undefined,
      explain: 5,
      onToken: (id, why) =>
        post({ type: 'token', requestId: req.requestId, text: tokenizer.decode([id]), why: why && { p: why.p, top: why.top.map((c) => ({ text: tokenizer.decode([c.id]), p: c.p })) } }),
    });
    await worker.gpuGuard.check();
    post({ type: 'sampleDone', requestId: req.requestId, text: tokenizer.decode(res.ids), reason: res.reason });
  } finally {
    temp?.dispose();
  }
}

async function handle(msg: Request): Promise<void> {
  const { owner, data } = worker;
  switch (msg.type) {
    case 'init': {
      const backend = await chooseBackend(msg.backend);
      worker.gpuGuard = new GpuErrorGuard();
      post({ type: 'ready', backend });
      // A lost GPU device (driver reset, tab in the background on some systems) cannot be recovered in place.
      const device = (tf.backend() as unknown as { device?: { lost?: Promise<{ message?: string }> } }).device;
      void device?.lost?.then((info) =>
        post({ type: 'error', error: { name: 'DeviceLost', message: `the GPU device was lost${info?.message ? ` (${info.message})` : ''}`, code: 'deviceLost', params: { detail: info?.message ?? '' } } }),
      );
      return;
    }
    case 'setCorpus':
      data.setCorpus(msg.name, msg.text);
      prepareData();
      return;
    case 'setPairs':
      data.pairs = { name: msg.name, pairs: msg.pairs, valFraction: msg.valFraction, responseOnly: msg.responseOnly, heldout: msg.heldout, quiz: msg.quiz };
      prepareData();
      return;
    case 'createModel': {
      try {
        refuseDuringRun();
        if (!data.corpus) throw new EngineError('choose a corpus first: the vocabulary is built from it', 'noCorpus');
        // Trained before anything changes: cancelled or failed, the current model stays as it was.
        const tokenizer = await newTokenizer(data.corpus.text, msg.tokenizer);
        if (!tokenizer) return;
        refuseDuringRun();
        const config: GPTConfig = validateConfig({ ...msg.config, vocabSize: tokenizer.vocabSize });
        replaceModel(GPT.create(config, msg.seed), tokenizer, { step: 0, phase: 'init', seed: msg.seed }, msg.seed);
      } finally {
        // However it ended, no tokenizer is being trained (the page shows one from the moment it asks).
        post({ type: 'tokenizerProgress', progress: null });
      }
      return;
    }
    case 'train':
      // A run that cannot start (no data, a run already going) still ends, so the page never waits on it.
      await train(msg).catch((e) =>
        post({ type: 'runEnded', runId: msg.run.runId, status: 'error', stepsDone: msg.resume?.startStep ?? 0, wallMs: 0, msPerStep: 0, error: toWireError(e) }),
      );
      return;
    case 'pause':
    case 'stop':
      if (worker.run) {
        worker.run.reason = msg.type;
        worker.run.ctl.abort();
      }
      return;
    case 'sample':
      await sample(msg);
      return;
    case 'export': {
      const { model, tokenizer, trainer } = owner.require();
      const kept = msg.from === 'run' ? owner.keptRun(msg.runId ?? '') : undefined;
      if (msg.from === 'run' && !kept) throw new EngineError('the weights of that run are no longer kept: only the last few runs can be exported', 'runNotKept');
      if (msg.adapter) {
        // LoRA's adapter-only file: a kept run's adapters, or the current model's.
        if (kept && !kept.adapters) throw new LoraError('this model has no LoRA adapters to export', 'loraMissing');
        const bytes = kept ? adapterBytes(model.config, kept.adapters!) : await exportAdapter(model);
        post({ type: 'file', requestId: msg.requestId, bytes: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
        return;
      }
      // With adapters attached, the model's file is the merged one (a plain nanoGPT model).
      const values = msg.from === 'snapshot' ? owner.snapshot : kept ? kept.values : (await readBackWeights(model)).merged;
      if (!values) throw new EngineError('there is no pretrained snapshot yet: it is kept when fine-tuning starts', 'noSnapshot');
      const training =
        msg.from === 'snapshot' ? { ...owner.training, phase: 'pretrain' as const, freezePlan: undefined, discriminative: undefined } : kept ? kept.training : { ...owner.training, step: trainer.globalStep };
      const bytes = checkpointBytes(model.config, values, tokenizer, { ...training, ...msg.meta });
      post({ type: 'file', requestId: msg.requestId, bytes: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
      return;
    }
    case 'import': {
      refuseDuringRun();
      const bytes = new Uint8Array(msg.bytes);
      if (isAdapterFile(bytes)) {
        // LoRA adapters onto the current model, which must be the base they were trained on (else refused,
        // the model as it was).
        const { model } = owner.require();
        await loadAdapter(model, bytes);
        // Adapters are a fine-tune: the chat now wraps prompts in the dialogue template, as after a LoRA run.
        owner.training = { ...owner.training, phase: 'finetune' };
        try {
          await owner.measureAdapters(); // for the diagram; a sync point
        } finally {
          post({ type: 'modelInfo', info: owner.info() }); // the adapters are attached even if measuring failed
        }
        post({ type: 'done', requestId: msg.requestId, adapters: true });
        return;
      }
      // Validated completely before anything changes: a bad file leaves the current model as it was.
      const ckpt = readCheckpoint(bytes);
      replaceModel(modelFromCheckpoint(ckpt), ckpt.tokenizer, { ...ckpt.training, step: ckpt.training.step ?? 0 }, 1337);
      post({ type: 'done', requestId: msg.requestId });
      return;
    }
    case 'saveSession': {
      const { model, tokenizer, trainer } = owner.require();
      const bytes = await saveSession(model, tokenizer, trainer, { ...owner.training, step: trainer.globalStep }, owner.snapshot);
      post({ type: 'file', requestId: msg.requestId, bytes: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
      return;
    }
    case 'loadSession': {
      refuseDuringRun();
      const { checkpoint, state } = readSession(new Uint8Array(msg.bytes));
      const restored = modelFromCheckpoint(checkpoint);
      try {
        // A LoRA run saved mid-way: its adapters go back on (checked against the config by LoraAdapters), before
        // the current model is replaced, so a bad file leaves it as it was.
        if (state.lora) restored.setLora(new LoraAdapters(restored.config, state.lora.config, state.lora.values));
      } catch (e) {
        restored.dispose();
        throw e;
      }
      replaceModel(restored, checkpoint.tokenizer, { ...checkpoint.training, step: state.globalStep }, 1337);
      const { model, trainer } = owner.require();
      trainer.optimizer.load(state.optimizer, new Map([...model.params, ...(model.lora?.params ?? [])].map(([n, p]) => [n, p.shape])));
      trainer.globalStep = state.globalStep;
      if (state.rng) trainer.rngState = state.rng;
      owner.snapshot = state.snapshot;
      post({ type: 'modelInfo', info: owner.info() });
      post({ type: 'done', requestId: msg.requestId });
      return;
    }
    case 'forgetRun':
      owner.forgetRun(msg.runId);
      return;
    case 'cancelTokenizer':
      worker.tokenizerTraining?.abort();
      return;
    case 'attention': {
      const { model, tokenizer } = owner.require();
      const temp = msg.from === 'snapshot' ? owner.snapshotModel() : null;
      try {
        const ids = tokenizer.encode(msg.chat ? renderPrompt(msg.prompt) : msg.prompt).ids;
        const maps = await attentionMaps(temp ?? model, ids.length ? ids : [0]);
        await worker.gpuGuard.check();
        const tokens = maps.ids.map((id) => tokenizer.decode([id]));
        post({ type: 'attentionMaps', requestId: msg.requestId, tokens, layers: maps.layers, heads: maps.heads, weights: maps.weights }, [maps.weights.buffer]);
      } finally {
        temp?.dispose();
      }
      return;
    }
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
  if (msg.type === 'pause' || msg.type === 'stop' || msg.type === 'forgetRun' || msg.type === 'cancelTokenizer') {
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
