/**
 * UI state: one zustand store built from typed slices. Plain data only — no tensors, workers or class
 * instances (the worker handle lives in app/worker.ts). Components select single values. Text shown to
 * people is stored as a Message (translated when drawn), never as translated strings.
 */
import { createStore } from 'zustand/vanilla';
import { useStore as useZustand } from 'zustand';
import { PRESETS, type ArchConfig, type PresetName } from '../engine/model/config';
import { groupIds, type GroupId } from '../engine/model/groups';
import { DEFAULT_LORA, validateLora, type LoraConfig, type LoraTargets } from '../engine/model/loraConfig';
import { validatePlan, type FreezePlan, type FreezeStage } from '../engine/train/freeze';
import { LESSON_FINETUNE, LESSON_FREEZE, LESSON_PRETRAIN, LESSON_SAMPLING, PAIRS_VAL_FRACTION } from '../engine/train/lesson';
import type { Pair } from '../engine/data/pairs';
import type { TokenizerInfo, TokenizerProgress } from '../worker/protocol';
import type {
  BackendName,
  BackendReport,
  CorpusInfo,
  Diagnostics,
  TokenWhy,
  DialogueScore,
  ModelInfo,
  PairsInfo,
  Phase,
  SampleSettings,
  TrainSettings,
} from '../worker/protocol';

export type { TrainSettings };
import type { DatasetManifest } from '../datasets/manifest';
import type { StarterEntry } from '../datasets/starters';
import type { Lang } from './lang';
import { errorText, msg, type Text } from '../i18n/i18n';
import type { RunRequest } from '../worker/protocol';

/** How a fine-tune trains: a freezing plan, or 'lora' (low-rank adapters, every weight frozen). */
export type FreezePreset = 'none' | 'embeddings' | 'bottom' | 'top' | 'progressive' | 'stages' | 'custom' | 'lora';

export interface FinetuneSettings extends TrainSettings {
  preset: FreezePreset;
  k: number;
  every: number;
  /** Groups frozen by clicking the diagram (preset 'custom'). */
  frozen: GroupId[];
  stages: FreezeStage[];
  discriminative: number;
  useDiscriminative: boolean;
  forgetting: boolean;
  promptNoise: number;
  valFraction: number;
  /** Loss on the response (and end marker) only; off = the prompt is learned too. */
  responseOnly: boolean;
  strategyName: string;
  /**
   * Where Fine-tune starts once the model has a pretrained snapshot: from the snapshot (restored first), or on from
   * the weights as they are now — after a comparison, its last strategy's (the long one that forgets).
   */
  fromSnapshot: boolean;
  /** LoRA (preset 'lora'): rank r (1–64), α, and which linear layers get adapters. */
  loraRank: number;
  loraAlpha: number;
  loraTargets: LoraTargets;
}

/** One strategy of a comparison: a name and a patch over the fine-tuning settings, passed to its run as data. */
export interface Strategy {
  /** Words translated when drawn (planName: "bottom 1 frozen"; the long fine-tune; a LoRA's "LoRA, rank 8 (α 16)"). */
  name: Text;
  patch: Partial<FinetuneSettings>;
}

/** A strategy waiting in a comparison's queue, with the comparison it belongs to. */
export interface QueuedStrategy extends Strategy {
  /** The comparison's id: the same for every strategy queued by one press of Compare. */
  comparison: string;
}

export interface ChartPoint {
  globalStep: number;
  step: number;
  loss: number;
  lr: number;
  tokensPerSec: number;
  /** Global gradient norm before clipping (absent in sessions saved before it was kept). */
  gradNorm?: number;
}

export interface EvalPoint {
  globalStep: number;
  step: number;
  losses: Record<string, number>;
  /** Next-token accuracy per evaluation. */
  accuracy?: Record<string, number>;
}

export interface Marker {
  globalStep: number;
  step: number;
  label: Text;
  kind: 'phase' | 'unfreeze' | 'breakpoint';
}

export interface RunRecord {
  runId: string;
  /** The user's or the plan's name (a string), or a translated one (pretraining, a starter's curve). */
  name: Text;
  /** What was asked of the worker: a paused run resumes from it, an autosave keeps it. */
  request?: RunRequest;
  phase: Phase;
  steps: number;
  freeze?: FreezePlan;
  discriminative?: number;
  /** One per logged step. A new array with each metrics message (app/events.ts never mutates the state). */
  points: ChartPoint[];
  evals: EvalPoint[];
  markers: Marker[];
  samples: { step: number; text: string }[];
  /** Weight norms and device memory, one per metrics message (a few a second). */
  diagnostics?: Diagnostics[];
  /** Latest per-group update norms (for the diagram). */
  updateNorms: Partial<Record<GroupId, number>>;
  trainable: Partial<Record<GroupId, number>>;
  trainableParams: number;
  status: 'running' | 'paused' | 'done' | 'stopped' | 'error';
  stepsDone: number;
  msPerStep: number;
  wallMs: number;
  hidden: boolean;
  /** Part of a strategy comparison (started from the pretrained snapshot). */
  compare: boolean;
  /**
   * Which comparison it is a strategy of (QueuedStrategy.comparison), so that two comparisons run back to back
   * stay two. Absent for a fine-tune started on its own, and in autosaves from before it was kept.
   */
  comparison?: string;
  startedAt: number;
  /** Held-out prompts being answered after the run (0 when not scoring). */
  scoring?: number;
  /** Replies to the held-out prompts after this run, and the pretrained snapshot's. */
  score?: { model: DialogueScore; snapshot: DialogueScore | null };
  /** A curve drawn for reference (a starter model's own pretraining), not a run of this session. */
  reference?: boolean;
  /** Characters per token of the corpus splits when the run started (pretraining): its losses in bits per character. */
  charsPerToken?: { train: number; val: number };
  /** The data it trains on (app/dataPrint.ts): a paused run resumes only on the same. Absent in older autosaves. */
  trainedOn?: { source: string | null; print: string };
}

export interface ChatMessage {
  role: 'user' | 'model' | 'snapshot';
  text: string;
  /** A reply's tokens with what the model thought of each (probability, top alternatives). */
  tokens?: { text: string; why?: TokenWhy }[];
}

export interface AppState {
  lang: Lang;
  /** crash: why the worker stopped (a browser's own words, or a lost GPU device's message). */
  /** `threads`: WebAssembly's thread count the address asks for (?threads=N), null for one per core. */
  backend: { forced: BackendName | null; threads: number | null; report: BackendReport | null; status: 'starting' | 'ready' | 'crashed'; crash: Text | null };
  manifest: DatasetManifest | null;
  /** Pretrained starter models shipped with the app (public/starters/starters.json). */
  starters: StarterEntry[];
  /** uploads: texts the user gave, by source key (`upload:<name>`), kept to resend to a restarted worker. */
  /** files: the uploaded documents of the current corpus, each with the characters it gave or why it gave none. */
  data: {
    source: string | null;
    info: CorpusInfo | null;
    preview: string;
    error: Text | null;
    uploads: Record<string, string>;
    files: { name: string; chars: number; error?: Text }[];
  };
  pairs: { source: string | null; list: Pair[]; info: PairsInfo | null; error: Text | null; problems: Text[] };
  model: { preset: PresetName | 'custom'; arch: ArchConfig; seed: number; info: ModelInfo | null };
  pretrain: TrainSettings;
  finetune: FinetuneSettings;
  run: {
    runId: string | null;
    phase: Phase | null;
    status: 'idle' | 'running' | 'paused' | 'error';
    error: Text | null;
    step: number;
    steps: number;
    startStep: number;
    tokensPerSec: number;
    msPerStep: number;
    /** Compared strategies still to run, in order. */
    queue: QueuedStrategy[];
    /** Pause or Stop pressed, taking effect at the end of the current step. */
    pending?: 'pause' | 'stop' | null;
  };
  runs: RunRecord[];
  sampling: SampleSettings;
  /** Breakpoints of the next runs: pause at a step of the run, pause when the held-out loss stops improving. */
  breakpoints: { atStep: number | null; patience: number | null };
  /** Which diagnostics charts are shown under the loss chart. */
  diagnostics: { perplexity: boolean; accuracy: boolean; gradNorm: boolean; weightNorms: boolean; memory: boolean };
  chat: { messages: ChatMessage[]; busy: boolean; compare: boolean };
  /** Attention maps of the last prompt looked at (plain numbers), and which layer and head are shown. */
  attention: {
    maps: { prompt: string; tokens: string[]; layers: number; heads: number; weights: Float32Array } | null;
    layer: number;
    head: number;
    busy: boolean;
  };
  notice: { kind: 'info' | 'error'; text: Text } | null;
  /**
   * Tokenizer: the kind and vocabulary size (null: sized to the corpus) of the next model, its BPE training
   * progress, the current model's tokenizer as the view shows it, and whether the loss chart is in bits per character.
   */
  tokenizer: { kind: 'char' | 'bpe'; vocabSize: number | null; progress: TokenizerProgress | null; info: TokenizerInfo | null; bitsPerChar: boolean };
  /** otherTab: another tab of the app holds the autosave, so this one does not write it. */
  autosave: { every: number; lastSavedStep: number | null; error: Text | null; resumable: { step: number; savedAt: number } | null; otherTab: boolean };

  /**
   * How the page is laid out: the lesson (a few steps, one control each, the rest folded), the lab (every
   * panel) or the presentation (large type, the chart and the answers; keys drive the run). In the URL.
   */
  view: { mode: ViewMode; step: number };
}

export type ViewMode = 'lesson' | 'lab' | 'present';

export const DEFAULT_PRETRAIN: TrainSettings = { ...LESSON_PRETRAIN, samplePrompt: '' };

export const DEFAULT_FINETUNE: FinetuneSettings = {
  ...LESSON_FINETUNE,
  samplePrompt: '',
  preset: LESSON_FREEZE.kind === 'progressive' ? 'progressive' : 'none',
  k: 1,
  every: LESSON_FREEZE.kind === 'progressive' ? LESSON_FREEZE.every : 30,
  frozen: [],
  stages: [],
  discriminative: 2.6,
  useDiscriminative: false,
  forgetting: true,
  promptNoise: 0,
  valFraction: PAIRS_VAL_FRACTION,
  responseOnly: true,
  strategyName: '',
  fromSnapshot: false,
  loraRank: DEFAULT_LORA.rank,
  loraAlpha: DEFAULT_LORA.alpha,
  loraTargets: DEFAULT_LORA.targets,
};

export function initialState(lang: Lang = 'en'): AppState {
  return {
    lang,
    backend: { forced: null, threads: null, report: null, status: 'starting', crash: null },
    manifest: null,
    starters: [],
    data: { source: null, info: null, preview: '', error: null, uploads: {}, files: [] },
    pairs: { source: null, list: [], info: null, error: null, problems: [] },
    model: { preset: 'tiny', arch: { ...PRESETS.tiny }, seed: 1337, info: null },
    pretrain: { ...DEFAULT_PRETRAIN },
    finetune: { ...DEFAULT_FINETUNE },
    run: { runId: null, phase: null, status: 'idle', error: null, step: 0, steps: 0, startStep: 0, tokensPerSec: 0, msPerStep: 0, queue: [] },
    runs: [],
    sampling: { ...LESSON_SAMPLING },
    breakpoints: { atStep: null, patience: null },
    diagnostics: { perplexity: false, accuracy: false, gradNorm: true, weightNorms: false, memory: false },
    chat: { messages: [], busy: false, compare: false },
    attention: { maps: null, layer: 0, head: 0, busy: false },
    notice: null,
    tokenizer: { kind: 'char', vocabSize: null, progress: null, info: null, bitsPerChar: false },
    autosave: { every: 50, lastSavedStep: null, error: null, resumable: null, otherTab: false },
    view: { mode: 'lab', step: 0 },
  };
}

export const store = createStore<AppState>()(() => initialState());

export function useStore<T>(selector: (s: AppState) => T): T {
  return useZustand(store, selector);
}

export const set = store.setState;
export const get = store.getState;

/**
 * A run's record before anything is measured: the one constructor of a RunRecord (a new run, a starter's
 * reference curve, tests), so a field added to the record gets its starting value in one place.
 */
export function newRunRecord(r: Pick<RunRecord, 'runId' | 'name' | 'phase' | 'steps'> & Partial<RunRecord>): RunRecord {
  return {
    points: [],
    evals: [],
    markers: [],
    samples: [],
    updateNorms: {},
    trainable: {},
    trainableParams: 0,
    status: 'running',
    stepsDone: 0,
    msPerStep: 0,
    wallMs: 0,
    hidden: false,
    compare: false,
    startedAt: Date.now(),
    ...r,
  };
}

/** Update one run record by id. */
export function updateRun(runId: string, f: (r: RunRecord) => Partial<RunRecord>): void {
  set((s) => ({ runs: s.runs.map((r) => (r.runId === runId ? { ...r, ...f(r) } : r)) }));
}

/** Build the engine's freeze plan from the fine-tuning settings. */
export function freezePlanOf(f: FinetuneSettings, nLayer: number): FreezePlan {
  switch (f.preset) {
    case 'none':
    case 'lora': // every weight frozen; the adapters train (runRequest's lora)
      return { kind: 'none' };
    case 'embeddings':
      return { kind: 'embeddings' };
    case 'bottom':
      return { kind: 'bottom', k: Math.min(f.k, nLayer) };
    case 'top':
      return { kind: 'top', k: Math.max(1, Math.min(f.k, nLayer)) };
    case 'progressive':
      return { kind: 'progressive', every: f.every };
    case 'stages':
      return { kind: 'stages', stages: f.stages };
    case 'custom': {
      return { kind: 'stages', stages: [{ steps: 1, trainable: groupIds(nLayer).filter((g) => !f.frozen.includes(g)) }] };
    }
  }
}

/** The LoRA settings of a fine-tune, or undefined when it is not a LoRA run. */
export function loraOf(f: FinetuneSettings): LoraConfig | undefined {
  return f.preset === 'lora' ? { rank: f.loraRank, alpha: f.loraAlpha, targets: f.loraTargets } : undefined;
}

/** Why the fine-tuning plan cannot run (no stages yet, every group frozen…), or null when it can: as text to draw. */
export function planProblem(f: FinetuneSettings, nLayer: number): Text | null {
  const lora = loraOf(f);
  if (lora) {
    try {
      validateLora(lora);
    } catch (e) {
      return errorText(e);
    }
  }
  const plan = freezePlanOf(f, nLayer);
  // A custom plan is one stage; with every group frozen there is nothing to train.
  if (f.preset === 'custom' && plan.kind === 'stages' && plan.stages[0].trainable.length === 0) return msg('ft.allFrozen');
  try {
    validatePlan(plan, nLayer);
  } catch (e) {
    return errorText(e);
  }
  return null;
}
