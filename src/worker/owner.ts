/**
 * The one owner of the worker's model and everything tied to it: the model's tensors, its tokenizer, the
 * trainer (optimizer moments), the pretrained snapshot, and the final weights of recent runs. Replacing the
 * model disposes the old one's tensors here, and nowhere else.
 */
import * as tf from '../engine/tf';
import { GPT } from '../engine/model/gpt';
import { LoraAdapters, type LoraConfig } from '../engine/model/lora';
import { countParams } from '../engine/model/config';
import { groupIds, groupOf, type GroupId } from '../engine/model/params';
import { modelFromCheckpoint, snapshotParams, type TrainingInfo } from '../engine/io/checkpoint';
import type { AdaptersOnCpu } from '../engine/io/adapter';
import { EngineError } from '../engine/errors';
import type { Tokenizer } from '../engine/tokenizer/types';
import { Trainer } from '../engine/train/trainer';
import type { Evaluation } from '../engine/train/evaluate';
import { saveSession, type SessionState } from '../engine/io/session';
import type { DialogueScore, ModelInfo } from './protocol';
import type { Reply } from '../engine/eval/dialogue';

/** A LoRA run's adapters, with the base weights they sit on (for the adapter-only export). */
/** A finished fine-tuning run: its final (for LoRA: merged) weights, and its adapters if it had some. */
export interface KeptRun {
  values: Map<string, Float32Array>;
  adapters?: AdaptersOnCpu;
  training: TrainingInfo;
}

/** Fine-tuning runs whose final weights are kept (to export any compared run). */
const MAX_KEPT_RUNS = 8;

/** The replies a score has sampled so far: to the held-out prompts and to the quiz's questions, by index. */
export interface ScoreProgress {
  replies: Map<number, Reply>;
  answers: Map<number, Reply>;
}

export interface Loaded {
  model: GPT;
  tokenizer: Tokenizer;
  trainer: Trainer;
}

export class ModelOwner {
  private loaded: Loaded | null = null;
  /** What the model has been through (phase, steps, plan): written into exported files. */
  training: TrainingInfo = { step: 0, phase: 'init' };
  /** The weights at the pretrain → fine-tune boundary, for comparisons and before/after chat. */
  snapshot: Map<string, Float32Array> | null = null;
  /** The snapshot's score on the held-out prompts, kept with the snapshot it belongs to. */
  snapshotScore: { snapshot: Map<string, Float32Array>; key: string; score: DialogueScore } | null = null;
  /**
   * A score taken ahead of a fine-tune, before there is a snapshot (run/scoring.ts, prescore): the model's weights
   * as they were scored. It becomes the snapshot's score if the snapshot, when taken, has these weights bit for bit.
   */
  prescore: { weights: Map<string, Float32Array>; key: string; score: DialogueScore } | null = null;
  /**
   * The replies an unfinished score has sampled so far (a prescore that gave way to a request, or that a run
   * dropped), with the weights and key they are for: the next score of those weights goes on from them instead of
   * starting again. The weights are the snapshot itself once there is one (takeSnapshot hands them over).
   */
  partialScore: { weights: Map<string, Float32Array>; key: string; progress: ScoreProgress } | null = null;
  /**
   * A fine-tune's first evaluation measured ahead (run/preEval.ts), with the weights it evaluated (a prescore's
   * copy, or the snapshot itself once there is one: takeSnapshot hands them over) and its batches' key.
   */
  preEval: { weights: Map<string, Float32Array>; key: string; result: Evaluation } | null = null;
  private readonly runWeights = new Map<string, KeptRun>();
  /** Per block: the size of the adapters' update after the last run (ModelInfo.lora.updateNorms). */
  private loraNorms: Record<number, number> | undefined;

  /**
   * `checkDevice` throws if the GPU rejected work since the last check (WebGPU skips it silently, its read-backs
   * then zeros): called before anything measured is kept.
   */
  constructor(readonly checkDevice: () => Promise<void>) {}

  get model(): GPT | null {
    return this.loaded?.model ?? null;
  }

  /** The model, its tokenizer and trainer; throws when there is none yet. */
  require(): Loaded {
    if (!this.loaded) throw new EngineError('there is no model yet: create one or load a file first', 'noModel');
    return this.loaded;
  }

  /** Take ownership of a new model (the old one's tensors are released); its optimizer starts fresh. */
  replace(model: GPT, tokenizer: Tokenizer, training: TrainingInfo, seed: number): void {
    this.dispose();
    const trainer = new Trainer(model, { seed, checkDevice: this.checkDevice });
    trainer.globalStep = training.step ?? 0;
    this.loaded = { model, tokenizer, trainer };
    this.training = training;
  }

  /** A fresh optimizer for the same model (a fine-tuning run starts from zero moments, as nanoGPT's init_from). */
  freshOptimizer(seed: number): void {
    const { model, trainer } = this.require();
    const fresh = new Trainer(model, { seed, checkDevice: this.checkDevice });
    fresh.globalStep = trainer.globalStep;
    trainer.dispose();
    this.loaded!.trainer = fresh;
  }

  /**
   * Keep the model's weights now as the pretrained snapshot. A score taken of these very weights ahead of time
   * (prescore) is the snapshot's: the run then scores only the fine-tuned model.
   */
  async takeSnapshot(): Promise<void> {
    const snapshot = await snapshotParams(this.require().model);
    const [pre, part, ev] = [this.prescore, this.partialScore, this.preEval];
    this.prescore = null;
    this.partialScore = null;
    this.preEval = null;
    this.snapshot = snapshot;
    // Each copy of weights compared once (the records ahead usually share one).
    const same = new Map<Map<string, Float32Array>, boolean>();
    const isSnapshot = (w: Map<string, Float32Array>) => same.get(w) ?? same.set(w, sameWeights(w, snapshot)).get(w)!;
    if (pre && isSnapshot(pre.weights)) this.snapshotScore = { snapshot, key: pre.key, score: pre.score };
    // A prescore cut short (its settings may differ from a finished one's): the snapshot's scoring goes on from its replies.
    if (part && isSnapshot(part.weights)) this.partialScore = { ...part, weights: snapshot };
    if (ev && isSnapshot(ev.weights)) this.preEval = { ...ev, weights: snapshot };
  }

  /** A temporary model with the snapshot's weights (the caller disposes it). */
  snapshotModel(): GPT {
    const { model, tokenizer } = this.require();
    if (!this.snapshot) throw new EngineError('there is no pretrained snapshot yet: it is kept when fine-tuning starts', 'noSnapshot');
    const params = new Map([...this.snapshot].map(([n, d]) => [n, { shape: model.params.get(n)!.shape, data: d }]));
    return modelFromCheckpoint({ config: model.config, tokenizer, params, training: this.training });
  }

  /**
   * Before a fine-tuning run: adapters left by an earlier LoRA run are dropped when the run restarts from the
   * snapshot, and folded into the weights otherwise (the model goes on from what it became); then a LoRA run
   * gets fresh adapters (B = 0: it starts as the model it is).
   */
  prepareAdapters(lora: LoraConfig | null, fromSnapshot: boolean, seed: number): void {
    const { model } = this.require();
    if (model.lora) {
      if (!fromSnapshot) {
        for (const { weight } of model.lora.specs) {
          const w = model.params.get(weight)!;
          tf.tidy(() => w.assign(model.lora!.adapt(weight, w))); // W ← W + (α/r)·B·A
        }
      }
      model.setLora(null);
    }
    if (lora) model.setLora(LoraAdapters.create(model.config, lora, seed));
    this.loraNorms = undefined;
  }

  /** The adapters' update size per block, ‖(α/r)·B·A‖ over its adapted layers, for the diagram. A sync point. */
  async measureAdapters(): Promise<void> {
    const lora = this.model?.lora;
    if (!lora) return;
    const perLayer = await lora.updateNorms();
    const sq: Record<number, number> = {};
    for (const spec of lora.specs) sq[spec.block] = (sq[spec.block] ?? 0) + perLayer.get(spec.weight)! ** 2;
    this.loraNorms = Object.fromEntries(Object.entries(sq).map(([b, v]) => [b, Math.sqrt(v)]));
  }

  /** Everything needed to go on training, as one file (engine/io/session.ts): a sync point. */
  sessionBytes(): Promise<Uint8Array> {
    const { model, tokenizer, trainer } = this.require();
    return saveSession(model, tokenizer, trainer, { ...this.training, step: trainer.globalStep }, this.snapshot);
  }

  /**
   * Continue a saved session on the model just taken over (replace() with its weights and adapters): the
   * optimizer's moments, the step count, the random stream and the pretrained snapshot.
   */
  restoreSession(state: SessionState): void {
    this.require().trainer.restore(state);
    this.snapshot = state.snapshot;
  }

  keepRun(runId: string, values: Map<string, Float32Array>, adapters: AdaptersOnCpu | undefined, training: TrainingInfo): void {
    this.runWeights.set(runId, { values, adapters, training });
    while (this.runWeights.size > MAX_KEPT_RUNS) this.runWeights.delete(this.runWeights.keys().next().value!);
  }

  keptRun(runId: string): KeptRun | undefined {
    return this.runWeights.get(runId);
  }

  forgetRun(runId: string): void {
    this.runWeights.delete(runId);
  }

  info(): ModelInfo | null {
    if (!this.loaded) return null;
    const { model, trainer } = this.loaded;
    const groupParams = Object.fromEntries(groupIds(model.config.nLayer).map((g) => [g, 0])) as Record<GroupId, number>;
    for (const [name, p] of model.params) groupParams[groupOf(name)] += p.size;
    return {
      config: model.config,
      params: countParams(model.config),
      vocabSize: model.config.vocabSize,
      groupParams,
      step: trainer.globalStep,
      phase: this.training.phase,
      hasSnapshot: this.snapshot !== null,
      lora: model.lora
        ? { ...model.lora.lora, params: model.lora.size, blockParams: model.lora.size / model.config.nLayer, updateNorms: this.loraNorms }
        : undefined,
    };
  }

  dispose(): void {
    this.loaded?.trainer.dispose();
    this.loaded?.model.dispose();
    this.loaded = null;
    this.snapshot = null;
    this.snapshotScore = null;
    this.prescore = null;
    this.partialScore = null;
    this.preEval = null;
    this.runWeights.clear();
    this.loraNorms = undefined;
  }
}

/** Whether two sets of weights are the same parameters with the same values, bit for bit. */
export function sameWeights(a: Map<string, Float32Array>, b: Map<string, Float32Array>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, x] of a) {
    const y = b.get(name);
    if (!y || y.length !== x.length) return false;
    // Bits, not values: -0 and 0 differ, and a NaN equals itself.
    const xi = new Int32Array(x.buffer, x.byteOffset, x.length);
    const yi = new Int32Array(y.buffer, y.byteOffset, y.length);
    for (let i = 0; i < xi.length; i++) if (xi[i] !== yi[i]) return false;
  }
  return true;
}
