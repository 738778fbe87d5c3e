/**
 * What the training worker does, one method per request of the protocol, with no worker or DOM globals: it
 * speaks to the page only through the injected `post` and computes only through the engine's TF.js, so it
 * runs the same in the browser's worker (training.worker.ts feeds it messages) and under Node in tests.
 *
 * It holds, through its ModelOwner (owner.ts), the model, its tokenizer and trainer (optimizer moments), the
 * pretrained snapshot and the weights of recent runs; through WorkerData (data.ts), the texts and their
 * encodings; and the run in progress (run/), which Pause and Stop abort between steps.
 */
import { adapterBytes, exportAdapter, isAdapterFile, loadAdapter, readBackWeights } from '../../engine/io/adapter';
import { LoraAdapters, LoraError } from '../../engine/model/lora';
import * as tf from '../../engine/tf';
import { GPT } from '../../engine/model/gpt';
import { validateConfig, type GPTConfig } from '../../engine/model/config';
import { compilesPerShape, generate } from '../../engine/model/generate';
import { DEFAULT_TEMPLATE, renderPrompt } from '../../engine/data/pairs';
import { checkpointBytes, modelFromCheckpoint, readCheckpoint } from '../../engine/io/checkpoint';
import { readSession } from '../../engine/io/session';
import { hfFolderFiles } from '../../engine/io/hfFolder';
import { EngineError } from '../../engine/errors';
import { attentionMaps } from '../../engine/model/probe';
import { GpuErrorGuard, GpuProgramError, webgpuDevice, type GpuDeviceLike } from '../gpuGuard';
import { WorkerData } from '../data';
import { ModelOwner } from '../owner';
import { zipFolder } from '../zipFolder';
import type { ActiveRun, RunContext } from '../run/context';
import { runTraining } from '../run/runTraining';
import { prescore, prescoreError } from '../run/scoring';
import { toWireError, type BackendName, type BackendReport, type PostEvent, type Request, type RequestOf } from '../protocol';
import { newTokenizer } from './tokenizer';

/** What the session needs from the runtime it lives in. */
export interface SessionHost {
  post: PostEvent;
  /**
   * Register the backend to train on and say why it was chosen: the browser's choice (worker/backend.ts, the
   * one place a browser backend is chosen), or a test's Node backend.
   */
  chooseBackend(requested?: BackendName, threads?: number): Promise<BackendReport>;
  /**
   * The WebGPU device whose rejected programs stop a run (gpuGuard.ts); by default TF.js's, none off WebGPU.
   * Called once the backend is chosen.
   */
  gpuDevice?(): GpuDeviceLike | null;
}

/**
 * One method per request type: a request the session cannot handle does not compile. A prescore is background
 * work, which the pump interrupts: its method takes the pump's signal and says whether it finished.
 */
type Handlers = { [T in Exclude<Request['type'], 'prescore'>]: (msg: RequestOf<T>) => Promise<void> | void } & {
  prescore(msg: RequestOf<'prescore'>, signal: AbortSignal): Promise<boolean>;
};

export class WorkerSession implements Handlers {
  /** Set once the backend is chosen: reports programs the GPU rejected (a no-op off WebGPU). */
  private gpuGuard = new GpuErrorGuard(null);
  private readonly owner = new ModelOwner(() => this.gpuGuard.check());
  private readonly data = new WorkerData();
  private active: ActiveRun | null = null;
  /** A BPE tokenizer being trained for a new model (cancelTokenizer aborts it). */
  private tokenizerTraining: AbortController | null = null;
  private readonly ctx: RunContext;

  constructor(private readonly host: SessionHost) {
    this.ctx = {
      owner: this.owner,
      data: this.data,
      post: host.post,
      fixedShape: compilesPerShape,
    };
  }

  private get post(): PostEvent {
    return this.host.post;
  }

  /** A training run is under way. */
  get running(): boolean {
    return this.active !== null;
  }

  async init(msg: RequestOf<'init'>): Promise<void> {
    const backend = await this.host.chooseBackend(msg.backend, msg.threads);
    this.gpuGuard = new GpuErrorGuard(this.host.gpuDevice ? this.host.gpuDevice() : webgpuDevice());
    this.post({ type: 'ready', backend });
    // A lost GPU device (driver reset, tab in the background on some systems) cannot be recovered in place.
    const device = (tf.backend() as unknown as { device?: { lost?: Promise<{ message?: string }> } }).device;
    void device?.lost?.then((info) =>
      this.post({
        type: 'error',
        error: {
          name: 'DeviceLost',
          message: `the GPU device was lost${info?.message ? ` (${info.message})` : ''}`,
          code: 'deviceLost',
          params: { detail: info?.message ?? '' },
        },
      }),
    );
  }

  setCorpus(msg: RequestOf<'setCorpus'>): void {
    this.data.setCorpus(msg.name, msg.text);
    this.prepareData();
  }

  setPairs(msg: RequestOf<'setPairs'>): void {
    this.data.pairs = { name: msg.name, pairs: msg.pairs, valFraction: msg.valFraction, responseOnly: msg.responseOnly, heldout: msg.heldout, quiz: msg.quiz };
    this.prepareData();
  }

  async createModel(msg: RequestOf<'createModel'>): Promise<void> {
    try {
      this.refuseDuringRun();
      if (!this.data.corpus) throw new EngineError('choose a corpus first: the vocabulary is built from it', 'noCorpus');
      // Trained before anything changes: cancelled or failed, the current model stays as it was.
      const ctl = new AbortController();
      this.tokenizerTraining = ctl;
      const tokenizer = await newTokenizer(this.data.corpus.text, msg.tokenizer, ctl.signal, this.post).finally(() => {
        this.tokenizerTraining = null;
      });
      if (!tokenizer) return;
      this.refuseDuringRun();
      const config: GPTConfig = validateConfig({ ...msg.config, vocabSize: tokenizer.vocabSize });
      this.replaceModel(GPT.create(config, msg.seed), tokenizer, { step: 0, phase: 'init', seed: msg.seed }, msg.seed);
    } finally {
      // However it ended, no tokenizer is being trained (the page shows one from the moment it asks).
      this.post({ type: 'tokenizerProgress', progress: null });
    }
  }

  cancelTokenizer(): void {
    this.tokenizerTraining?.abort();
  }

  /** A run, to its end: one that cannot start (no data, a run already going) still ends, so the page never waits on it. */
  async train(msg: RequestOf<'train'>): Promise<void> {
    const startStep = msg.resume?.startStep ?? 0;
    try {
      this.refuseDuringRun();
      // Claimed before the first await, so a second request cannot slip in while this one sets up.
      const active: ActiveRun = { ctl: new AbortController(), reason: null };
      this.active = active;
      try {
        await runTraining(this.ctx, msg.run, startStep, active);
      } finally {
        this.active = null;
        this.post({ type: 'modelInfo', info: this.owner.info() });
      }
    } catch (e) {
      this.post({ type: 'runEnded', runId: msg.run.runId, status: 'error', stepsDone: startStep, wallMs: 0, msPerStep: 0, error: toWireError(e) });
    }
  }

  /**
   * Score ahead the model the next fine-tune compares against (run/scoring.ts). Nothing while a run goes (it
   * scores for itself). False when `signal` interrupted it: the pump runs it again, and it goes on from the replies
   * it had sampled. A failure says what failed (background work, which no button of the page asked for) and that
   * the fine-tune will score the model itself; the model is untouched.
   */
  async prescore(msg: RequestOf<'prescore'>, signal: AbortSignal): Promise<boolean> {
    if (this.active || !this.owner.model) return true;
    try {
      return await prescore(this.ctx, msg.settings, signal, msg.evaluation);
    } catch (e) {
      // Replies sampled since the GPU was last checked may be work it skipped: none is kept to go on from.
      if (e instanceof GpuProgramError) this.owner.partialScore = null;
      throw prescoreError(e);
    }
  }

  /** Pause the run at the end of the step under way (it can resume exactly where it stopped). */
  pause(): void {
    this.abortRun('pause');
  }

  stop(): void {
    this.abortRun('stop');
  }

  async sample(msg: RequestOf<'sample'>): Promise<void> {
    const { model, tokenizer } = this.owner.require();
    const temp = msg.from === 'snapshot' ? this.owner.snapshotModel() : null;
    try {
      const prompt = msg.chat ? renderPrompt(msg.prompt) : msg.prompt;
      const enc = tokenizer.encode(prompt);
      const res = await generate(temp ?? model, enc.ids.length ? enc.ids : [0], {
        ...msg.settings,
        fixedShape: this.ctx.fixedShape(),
        stop: msg.chat ? tokenizer.encode(DEFAULT_TEMPLATE.end).ids : undefined,
        explain: 5,
        onToken: (id, why) =>
          this.post({
            type: 'token',
            requestId: msg.requestId,
            text: tokenizer.decode([id]),
            why: why && { p: why.p, top: why.top.map((c) => ({ text: tokenizer.decode([c.id]), p: c.p })) },
          }),
      });
      await this.gpuGuard.check();
      this.post({ type: 'sampleDone', requestId: msg.requestId, text: tokenizer.decode(res.ids), reason: res.reason });
    } finally {
      temp?.dispose();
    }
  }

  /** A model file: the model (LoRA adapters merged in), the snapshot or a kept run; or LoRA's adapters alone. */
  async export(msg: RequestOf<'export'>): Promise<void> {
    const { owner } = this;
    const { model, tokenizer, trainer } = owner.require();
    const kept = msg.from === 'run' ? owner.keptRun(msg.runId ?? '') : undefined;
    if (msg.from === 'run' && !kept) throw new EngineError('the weights of that run are no longer kept: only the last few runs can be exported', 'runNotKept');
    if (msg.adapter) {
      // LoRA's adapter-only file: a kept run's adapters, or the current model's.
      if (kept && !kept.adapters) throw new LoraError('this model has no LoRA adapters to export', 'loraMissing');
      const bytes = kept ? adapterBytes(model.config, kept.adapters!) : await exportAdapter(model);
      this.postFile(msg.requestId, bytes);
      return;
    }
    // With adapters attached, the model's file is the merged one (a plain nanoGPT model).
    const values = msg.from === 'snapshot' ? owner.snapshot : kept ? kept.values : (await readBackWeights(model)).merged;
    if (!values) throw new EngineError('there is no pretrained snapshot yet: it is kept when fine-tuning starts', 'noSnapshot');
    const training =
      msg.from === 'snapshot'
        ? { ...owner.training, phase: 'pretrain' as const, freezePlan: undefined, discriminative: undefined }
        : kept
          ? kept.training
          : { ...owner.training, step: trainer.globalStep };
    const info = { ...training, ...msg.meta };
    // The web's folder: refused from the config and tokenizer (too large, a tokenizer tokenizer.json cannot
    // hold) before any file is built, with the engine's code for the page's language.
    this.postFile(
      msg.requestId,
      msg.format === 'web'
        ? zipFolder(hfFolderFiles({ config: model.config, values, tokenizer, training: info }))
        : checkpointBytes(model.config, values, tokenizer, info),
    );
  }

  forgetRun(msg: RequestOf<'forgetRun'>): void {
    this.owner.forgetRun(msg.runId);
  }

  async attention(msg: RequestOf<'attention'>): Promise<void> {
    const { model, tokenizer } = this.owner.require();
    const temp = msg.from === 'snapshot' ? this.owner.snapshotModel() : null;
    try {
      const ids = tokenizer.encode(msg.chat ? renderPrompt(msg.prompt) : msg.prompt).ids;
      const maps = await attentionMaps(temp ?? model, ids.length ? ids : [0]);
      await this.gpuGuard.check();
      const tokens = maps.ids.map((id) => tokenizer.decode([id]));
      this.post({ type: 'attentionMaps', requestId: msg.requestId, tokens, layers: maps.layers, heads: maps.heads, weights: maps.weights }, [
        maps.weights.buffer,
      ]);
    } finally {
      temp?.dispose();
    }
  }

  /** A model file becomes the model; an adapter file goes onto the model it was trained from. */
  async import(msg: RequestOf<'import'>): Promise<void> {
    const { owner } = this;
    this.refuseDuringRun();
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
        this.post({ type: 'modelInfo', info: owner.info() }); // the adapters are attached even if measuring failed
      }
      this.post({ type: 'done', requestId: msg.requestId, adapters: true });
      return;
    }
    // Validated completely before anything changes: a bad file leaves the current model as it was.
    const ckpt = readCheckpoint(bytes);
    this.replaceModel(modelFromCheckpoint(ckpt), ckpt.tokenizer, { ...ckpt.training, step: ckpt.training.step ?? 0 }, 1337);
    this.post({ type: 'done', requestId: msg.requestId });
  }

  async saveSession(msg: RequestOf<'saveSession'>): Promise<void> {
    this.postFile(msg.requestId, await this.owner.sessionBytes());
  }

  /** A saved session (an autosave) becomes the model, with its optimizer, step, random stream and snapshot. */
  loadSession(msg: RequestOf<'loadSession'>): void {
    this.refuseDuringRun();
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
    this.replaceModel(restored, checkpoint.tokenizer, { ...checkpoint.training, step: state.globalStep }, 1337);
    this.owner.restoreSession(state);
    this.post({ type: 'modelInfo', info: this.owner.info() });
    this.post({ type: 'done', requestId: msg.requestId });
  }

  /** Release every tensor the session holds, between runs (a test's end; the browser's worker simply ends). */
  dispose(): void {
    this.refuseDuringRun();
    this.owner.dispose();
  }

  private abortRun(reason: 'pause' | 'stop'): void {
    if (!this.active) return;
    // A run whose answers are being scored has no steps left to pause at; Stop ends the scoring.
    if (this.active.scoring) {
      if (reason === 'stop') this.active.scoring.abort();
      return;
    }
    this.active.reason = reason;
    this.active.ctl.abort();
  }

  private refuseDuringRun(): void {
    if (this.active) throw new EngineError('stop the current run first', 'runBusy');
  }

  private postFile(requestId: number, bytes: Uint8Array): void {
    this.post({ type: 'file', requestId, bytes: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
  }

  /** Take over a new model (the old one's tensors go), tell the page, and re-encode the data for it. */
  private replaceModel(...args: Parameters<ModelOwner['replace']>): void {
    this.owner.replace(...args);
    this.post({ type: 'modelInfo', info: this.owner.info() });
    try {
      this.prepareData();
    } catch (e) {
      this.post({ type: 'error', error: toWireError(e) });
    }
  }

  /** Re-encode the data for the current model and tell the page what it holds. */
  private prepareData(): void {
    const loaded = this.owner.model ? this.owner.require() : null;
    const info = this.data.prepare(loaded?.model ?? null, loaded?.tokenizer ?? null);
    if (info.corpus) this.post({ type: 'corpusInfo', info: info.corpus });
    if (info.pairs) this.post({ type: 'pairsInfo', info: info.pairs });
    this.post({ type: 'tokenizerInfo', info: this.data.tokenizerInfo(loaded?.tokenizer ?? null) });
  }
}
