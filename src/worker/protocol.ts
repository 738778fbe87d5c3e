/**
 * Messages between the page and the training worker: two discriminated unions, handled on each side by
 * an exhaustive switch. Everything is plain, structured-cloneable data; model files travel as transferred
 * ArrayBuffers; errors as {name, message}.
 */
import type { LoraConfig } from '../engine/model/loraConfig';
import { EngineError, type EngineErrorCode } from '../engine/errors';
import type { GPTConfig } from '../engine/model/config';
import type { GroupId } from '../engine/model/groups';
import type { FreezePlan } from '../engine/train/freeze';
import type { LessonRun } from '../engine/train/lesson';
import type { Pair } from '../engine/data/pairs';
import type { Quiz } from '../engine/eval/quiz';

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];
/** The most threads WebAssembly trains on: past this a lesson-sized model's products split too thin to gain (and each thread is a worker). */
export const MAX_WASM_THREADS = 16;

/**
 * One sentence of why a backend was (not) chosen: a code the page translates (`backend.<code>` in the
 * dictionary) with its parameters (a GPU's own name stays data), and the English text as a fallback.
 */
export interface BackendReason {
  code: string;
  params?: Record<string, string | number>;
  text: string;
}

export interface BackendProbe {
  available: boolean;
  /** A real GPU (not a software fallback). */
  hardware: boolean;
  detail: string;
  /** `detail` as a code and parameters, for the page's language. */
  why?: BackendReason;
}

export interface BackendReport {
  name: BackendName;
  forced: boolean;
  /** Why this backend, in words ("WebGPU has only a software adapter (…); using WebAssembly"). */
  reason: string;
  /** `reason`, one sentence each, as codes the page translates. */
  reasons?: BackendReason[];
  probes: Record<BackendName, BackendProbe>;
  /** Threads that train, on WebAssembly (1 unless the page is cross-origin isolated and has cores to spare). */
  threads?: number;
  /** On a GPU: the largest tensor it holds in one buffer (bytes; WebGPU's buffer limits, WebGL's largest texture). */
  maxTensorBytes?: number;
}

export interface WireError {
  name: string;
  message: string;
  /** The engine's error code and parameters (EngineError), for a message in the page's language. */
  code?: EngineErrorCode;
  params?: Record<string, string | number>;
  /** The error it wraps (a bad plan inside a model file), said inside its sentence. */
  cause?: WireError;
}

export type Phase = 'pretrain' | 'finetune';

export interface SampleSettings {
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

/**
 * What a fine-tune's evaluations depend on besides the model and the data: the page's settings for the next
 * fine-tune, so that the worker can measure its first evaluation ahead (a prescore's `evaluation`).
 */
export type EvalSettings = Pick<RunRequest, 'batchSize' | 'evalIters' | 'forgetting'>;

/** The settings a person chooses for a run (pretraining or fine-tuning): the lesson's fields and a sample prompt. */
export interface TrainSettings extends LessonRun {
  samplePrompt: string;
}

/** A training run as the UI describes it. */
export interface RunRequest extends TrainSettings {
  runId: string;
  phase: Phase;
  seed: number;
  freeze: FreezePlan;
  discriminative?: number;
  /** Fine-tuning with LoRA: fresh adapters of this rank, α and targets train; the weights stay frozen. */
  lora?: LoraConfig;
  /** Fine-tuning: evaluate the pretraining corpus's validation split too (the forgetting curve). */
  forgetting: boolean;
  /** Fine-tuning comparison: restore the pretrained snapshot (weights, fresh optimizer) before starting. */
  fromSnapshot: boolean;
  /** Character-noise augmentation of prompts (fine-tuning), probability per character. */
  promptNoise: number;
  /** Post a resumable session every N steps, taken between steps (0 = never). */
  autosaveEvery: number;
  /** Stop (as a pause) once this step is reached: "step once". */
  pauseAt?: number;
  /** Breakpoint: pause when this step is reached (a step the run has passed is ignored, so Resume goes on). */
  breakAt?: number;
  /** Breakpoint: pause when the held-out loss has not improved for this many evaluations (early stopping). */
  earlyStop?: { patience: number };
  /**
   * Fine-tuning: after the run, reply to the held-out prompts with these settings and score the format
   * (and, once per snapshot, the pretrained model's replies too).
   */
  dialogueEval?: SampleSettings;
}

export interface ModelInfo {
  config: GPTConfig;
  params: number;
  vocabSize: number;
  /** Per-group parameter counts. */
  groupParams: Record<GroupId, number>;
  step: number;
  phase: 'init' | 'pretrain' | 'finetune';
  hasSnapshot: boolean;
  /**
   * LoRA adapters attached to the model: their settings, trainable numbers, and the size of the update they
   * make per block, ‖(α/r)·B·A‖ over the block's adapted layers (measured after the last run; absent before).
   */
  lora?: LoraConfig & { params: number; blockParams: number; updateNorms?: Record<number, number> };
}

export interface CorpusInfo {
  name: string;
  chars: number;
  distinct: number;
  trainTokens: number;
  valTokens: number;
  unknownCount: number;
  unknownChars: [string, number][];
  /** The BPE vocabulary size this corpus gets by default (of its training 90 %: bytes, frequent characters, ~√chars merges). */
  bpeDefaultVocab?: number;
}

export interface PairsInfo {
  name: string;
  pairs: number;
  trainPairs: number;
  valPairs: number;
  truncated: number;
  /** Indices of the pairs longer than the context (the page offers to drop them). */
  longPairs: number[];
  unknownChars: [string, number][];
  /** Held-out prompts for the format evaluation. */
  heldout: number;
}

/** Replies to held-out prompts: the share in the dialogue format and the share of known words (0–1). */
export interface DialogueScore {
  format: number;
  /** null: not defined (Chinese) or no corpus to check against. */
  words: number | null;
  /** Chinese: replies as long as their prompt (a couplet's lines match); null otherwise. */
  sameLength: number | null;
  prompts: number;
  /** A few replies, to show what the numbers mean. */
  examples: { prompt: string; text: string; ok: boolean }[];
  /** The small world's quiz (pairs that bring one), else null. */
  knowledge: KnowledgeSummary | null;
}

/** Greedy answers to the quiz (questions about people only the pretraining text mentions), scored. */
export interface KnowledgeSummary {
  /** 0–1: replies stating the right fact; replies naming the right person; both. */
  knowledge: number;
  person: number;
  both: number;
  chance: number;
  /** One per quiz question, in the quiz's order, with the question (a saved session shows them as asked). */
  answers: {
    prompt: string;
    expected: string;
    unseenWording: boolean;
    reply: string;
    fact: boolean;
    person: boolean;
    /** The reply ran to the quiz's token limit without the end marker: cut short (absent in runs saved before). */
    cut?: boolean;
  }[];
}

export interface StepPoint {
  step: number;
  globalStep: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSec: number;
  msPerStep: number;
  updateNorms: Partial<Record<GroupId, number>>;
}

/** What the model thought when it drew a token: its probability and the most likely alternatives. */
export interface TokenWhy {
  p: number;
  top: { text: string; p: number }[];
}

/** Measured once per metrics message (at the read-back): weight norms per group, device memory. */
export interface Diagnostics {
  globalStep: number;
  weightNorms: Partial<Record<GroupId, number>>;
  tensors: number;
  bytes: number;
}

// ---- Tokenizer choice, BPE training progress and the tokenizer view ----

/** The tokenizer a new model gets: one token per character, or BPE trained on the corpus (null size: sized to it). */
export type TokenizerChoice = { kind: 'char' } | { kind: 'bpe'; vocabSize: number | null };

/** BPE training progress: counting the corpus's characters, then learning merges. */
export interface TokenizerProgress {
  phase: 'counting' | 'merging';
  done: number;
  total: number;
}

/** One coloured span of the tokenizer view: the text its token(s) spell. */
export interface TokenPiece {
  text: string;
  ids: number[];
}

/** What the page shows of the current model's tokenizer (all computed in the worker: the page holds no tokenizer). */
export interface TokenizerInfo {
  kind: 'char' | 'bpe';
  vocabSize: number;
  /** The start of the corpus, cut into the model's tokens. */
  sample: TokenPiece[];
  /** One sentence of the corpus under a character tokenizer and under the model's. */
  sentence: { char: TokenPiece[]; model: TokenPiece[] };
  /** Characters per token of each split; bits per character = loss · tokens / (chars · ln 2). */
  charsPerToken: { train: number; val: number };
}

/** What a model download holds: nanoGPT's .safetensors file, or a .zip of the Hugging Face folder for the web. */
export type ExportFormat = 'nanogpt' | 'web';

/** Page → worker. */
export type Request =
  /**
   * Start on `backend` (else the fastest that works); `threads`: how many WebAssembly trains on where threads are
   * allowed (the address's ?threads=N: one to compare, fewer to leave cores free), else one per core.
   */
  | { type: 'init'; backend?: BackendName; threads?: number }
  | { type: 'setCorpus'; name: string; text: string }
  | { type: 'setPairs'; name: string; pairs: Pair[]; valFraction: number; responseOnly: boolean; heldout: string[]; quiz: Quiz | null }
  | { type: 'createModel'; config: Omit<GPTConfig, 'vocabSize'>; seed: number; tokenizer?: TokenizerChoice }
  /** Stops a BPE tokenizer being trained for a new model (the current model stays). */
  | { type: 'cancelTokenizer' }
  | { type: 'train'; run: RunRequest; resume?: { startStep: number } }
  | { type: 'pause' }
  | { type: 'stop' }
  | { type: 'sample'; requestId: number; prompt: string; chat: boolean; settings: SampleSettings; from: 'model' | 'snapshot' }
  /** from 'run': the weights a finished fine-tuning run ended with (kept for the last few runs). */
  /** adapter: LoRA's adapter-only file instead of the (merged) model. */
  /** format 'web': the Hugging Face folder (ONNX graph, tokenizer.json, GPT-2 safetensors) as one .zip, adapters merged. */
  | {
      type: 'export';
      requestId: number;
      from: 'model' | 'snapshot' | 'run';
      runId?: string;
      adapter?: boolean;
      format?: ExportFormat;
      meta: Record<string, unknown>;
    }
  | { type: 'forgetRun'; runId: string }
  /** Attention weights of every layer and head for a prompt (chat: wrapped in the dialogue template). */
  | { type: 'attention'; requestId: number; prompt: string; chat: boolean; from: 'model' | 'snapshot' }
  | { type: 'import'; requestId: number; bytes: ArrayBuffer }
  | { type: 'saveSession'; requestId: number }
  | { type: 'loadSession'; requestId: number; bytes: ArrayBuffer }
  /**
   * Score ahead, while the worker is idle, the model the next fine-tune's scoring compares against (the snapshot,
   * or the model that will become it), with these reply settings: background work, which every other request
   * interrupts and which goes on once the worker is idle again, from the replies it had sampled; a run drops it
   * (it scores for itself, on from those replies). With `evaluation` (the next fine-tune's settings, where it
   * evaluates), the fine-tune's first evaluation is measured ahead too: the run reports it instead of computing it.
   */
  | { type: 'prescore'; settings: SampleSettings; evaluation?: EvalSettings };

/** Worker → page. */
export type Event =
  | { type: 'ready'; backend: BackendReport }
  | { type: 'modelInfo'; info: ModelInfo | null }
  | { type: 'corpusInfo'; info: CorpusInfo }
  /** BPE training for a new model: progress, then null when it ends (done, cancelled or failed). */
  | { type: 'tokenizerProgress'; progress: TokenizerProgress | null }
  | { type: 'tokenizerInfo'; info: TokenizerInfo | null }
  | { type: 'pairsInfo'; info: PairsInfo }
  | { type: 'runStarted'; runId: string; phase: Phase; steps: number; startStep: number; trainableParams: number }
  /** A streamed reply's next token; `why`: its probability and the model's top alternatives (decoded). */
  | { type: 'attentionMaps'; requestId: number; tokens: string[]; layers: number; heads: number; weights: Float32Array }
  | { type: 'token'; requestId: number; text: string; why?: TokenWhy }
  | { type: 'metrics'; runId: string; points: StepPoint[]; diagnostics?: Diagnostics }
  | { type: 'eval'; runId: string; step: number; globalStep: number; losses: Record<string, number>; accuracy?: Record<string, number> }
  | { type: 'freeze'; runId: string; step: number; globalStep: number; trainable: Partial<Record<GroupId, number>>; trainableParams: number }
  | { type: 'sampleStrip'; runId: string; step: number; globalStep: number; text: string }
  /**
   * A fine-tuning run is over; its replies are being scored: `answers` of them (the held-out prompts and the quiz,
   * for the model and, the first time, for the pretrained snapshot).
   */
  | { type: 'scoring'; runId: string; answers: number }
  | { type: 'dialogueScore'; runId: string; model: DialogueScore; snapshot: DialogueScore | null }
  /** A prescore is done: the next fine-tune's scoring has `answers` fewer replies to sample. */
  | { type: 'prescored'; answers: number }
  | { type: 'breakpoint'; runId: string; step: number; globalStep: number; reason: 'step' | 'earlyStop'; evals?: number }
  | {
      type: 'runEnded';
      runId: string;
      status: 'done' | 'paused' | 'stopped' | 'error';
      stepsDone: number;
      wallMs: number;
      msPerStep: number;
      error?: WireError;
    }
  | { type: 'sampleDone'; requestId: number; text: string; reason: string }
  | { type: 'file'; requestId: number; bytes: ArrayBuffer }
  | { type: 'autosave'; runId: string; step: number; bytes: ArrayBuffer }
  /** A request finished. `adapters`: an import attached LoRA adapters to the current model (not a new model). */
  | { type: 'done'; requestId: number; adapters?: boolean }
  | { type: 'error'; requestId?: number; error: WireError };

/** Sends an event to the page, transferring the listed buffers (the worker's postMessage; a test's recorder). */
export type PostEvent = (e: Event, transfer?: Transferable[]) => void;

/** The member of the request union with this type (`RequestOf<'export'>`), and of the event union. */
export type RequestOf<T extends Request['type']> = Extract<Request, { type: T }>;
export type EventOf<T extends Event['type']> = Extract<Event, { type: T }>;

/**
 * The requests the worker answers, and the event that answers each (comlink's `Remote<T>`, as a table):
 * `client.request('export', …)` resolves to the export's `file` event, typed, so no caller re-checks the
 * reply's type. A failure answers as an `error` event with the same requestId, and the promise rejects.
 */
export interface Replies {
  sample: EventOf<'sampleDone'>;
  export: EventOf<'file'>;
  attention: EventOf<'attentionMaps'>;
  import: EventOf<'done'>;
  saveSession: EventOf<'file'>;
  loadSession: EventOf<'done'>;
}

/** A request that is answered: one that carries a requestId. */
export type AskType = keyof Replies;

/** An answered request's fields, less its type and the requestId the client assigns. */
export type AskBody<T extends AskType> = Omit<RequestOf<T>, 'type' | 'requestId'>;

/** Each answered request's reply type at run time: the client checks what arrives against it. */
export const REPLY_TYPE: { readonly [T in AskType]: Replies[T]['type'] } = {
  sample: 'sampleDone',
  export: 'file',
  attention: 'attentionMaps',
  import: 'done',
  saveSession: 'file',
  loadSession: 'done',
};

/** Compiles only while the requests that carry a requestId are exactly those in Replies. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type RepliesCoverAnsweredRequests = Assert<Same<Extract<Request, { requestId: number }>['type'], AskType>>;

export function toWireError(e: unknown): WireError {
  if (e instanceof EngineError && e.code)
    return { name: e.name, message: e.message, code: e.code, params: e.params, cause: e.cause === undefined ? undefined : toWireError(e.cause) };
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}
