/**
 * The lesson's defaults: one place for the page's initial settings and the CLI's defaults, so
 * `npm run cli -- finetune --init STARTER --pairs sailor --out F` runs the page's fine-tune.
 * Plain data (no tensors): the store imports it too.
 */
import type { ScheduleKind } from './schedule';
import type { FreezePlan } from './freeze';
import { PRESETS, type ArchConfig, type PresetName } from '../model/config';

export interface LessonRun {
  steps: number;
  batchSize: number;
  lr: number;
  schedule: ScheduleKind;
  warmupSteps: number;
  evalEvery: number;
  evalIters: number;
  /** Sample a line every N steps for the "how the text improves" strip; 0 = never. */
  sampleEvery: number;
}

/** Pretraining from scratch (the `tiny` preset on the chosen corpus). */
export const LESSON_PRETRAIN: LessonRun = {
  steps: 300,
  batchSize: 16,
  lr: 3e-3,
  schedule: 'cosine',
  warmupSteps: 20,
  evalEvery: 50,
  evalIters: 4,
  sampleEvery: 50,
};

/**
 * nanoGPT's own recipes, for `npm run cli -- pretrain --recipe nanogpt`: with the same preset the run is
 * nanoGPT's run (same schedule, batch, optimizer and clip; measured step by step against its train.py).
 * `small` is config/train_shakespeare_char.py (batch 64, 5000 iters, lr 1e-3 → min_lr 1e-4 over the run,
 * warmup 100, eval_iters 200 every 250); `baby` is the CPU command of nanoGPT's README on top of it (batch 12,
 * max_iters = lr_decay_iters = 2000, eval_iters 20). The optimizer (AdamW, betas 0.9/0.99, weight decay 0.1,
 * eps 1e-8) and the clip (1.0) are the engine's defaults, which are nanoGPT's. `tiny` is ours alone.
 */
export const NANOGPT_RECIPES: Readonly<Partial<Record<PresetName, LessonRun>>> = {
  baby: { steps: 2000, batchSize: 12, lr: 1e-3, schedule: 'cosine', warmupSteps: 100, evalEvery: 250, evalIters: 20, sampleEvery: 0 },
  small: { steps: 5000, batchSize: 64, lr: 1e-3, schedule: 'cosine', warmupSteps: 100, evalEvery: 250, evalIters: 200, sampleEvery: 0 },
};

/**
 * Fine-tuning on dialogue pairs (from a starter model or the student's own). Measured from the English
 * starter on the sailor pairs: held-out answers in the dialogue format 7.5 % → 97.5 %, known words 79 → 82 %,
 * in about a minute on one CPU core (150 steps at batch 16 and lr 1e-3: 100 % and 85 %, three times longer).
 */
export const LESSON_FINETUNE: LessonRun = {
  steps: 100,
  batchSize: 8,
  lr: 2e-3,
  schedule: 'cosine',
  warmupSteps: 20,
  evalEvery: 25,
  evalIters: 4,
  sampleEvery: 50,
};

/** The default freezing plan of the lesson's fine-tune: progressive unfreezing, one more group every 20 steps. */
export const LESSON_FREEZE: FreezePlan = { kind: 'progressive', every: 20 };

/**
 * The small world's fine-tune, chosen by measurement (README, "The small world"): every weight trained,
 * gently — 60 steps at lr 3e-4. The quiz about people only the pretraining text mentions: English 68.8 %,
 * Chinese 89.5 % (mean of seeds 1337, 1, 2), against 41 % and 65 % with the progressive plan above, whose higher rate
 * overwrites what pretraining stored; a long, strong fine-tune (300 steps at 2e-3) falls to 12–18 %.
 */
export const WORLD_FINETUNE: LessonRun = { ...LESSON_FINETUNE, steps: 60, lr: 3e-4 };

/** Each lesson's fine-tune by its pairs set: the page's defaults when those pairs are chosen, and the CLI's. */
export const FINETUNE_RECIPES: Readonly<Record<string, { run: LessonRun; freeze: FreezePlan }>> = {
  'small-world-qa': { run: WORLD_FINETUNE, freeze: { kind: 'none' } },
  'small-world-zh-qa': { run: WORLD_FINETUNE, freeze: { kind: 'none' } },
};

/** The fine-tune a pairs set's lesson uses (the general lesson's for any other set). */
export function finetuneRecipe(pairsId: string | null | undefined): { run: LessonRun; freeze: FreezePlan } {
  return (pairsId ? FINETUNE_RECIPES[pairsId] : undefined) ?? { run: LESSON_FINETUNE, freeze: LESSON_FREEZE };
}

/**
 * Chat and evaluation replies, and every sample the page shows. Temperature 0.6, not nanoGPT's 0.8: a character
 * model's typos come from the tail of its distribution. Measured on the small-world starters (five samples of 400
 * characters, seeds 1–5): at 0.8, 92.5 % (English) and 97.4 % (Chinese) of the sentences are the world's, the misses
 * typos ("aready", "arice"); at 0.6, 98.4 % and 100 %, with as few repeated sentences.
 */
export const LESSON_SAMPLING = { maxNewTokens: 200, temperature: 0.6, topK: 0, topP: 1, seed: 42 };

/** Held-out share of the pairs (scored by loss) and the seed of that split: the same on the page and the CLI. */
export const PAIRS_VAL_FRACTION = 0.1;
export const PAIRS_SPLIT_SEED = 0;

/** Pretraining a lesson's corpus from scratch in class time: the architecture, the run and the pairs after it. */
export interface ScratchRecipe {
  arch: ArchConfig;
  run: LessonRun;
  pairs: string;
  /** Minutes it took on WebAssembly on a 2-core machine (one thread): what the button promises. */
  minutes: number;
}

/**
 * The small world pretrained from scratch in the page (the starters' recipes, the English one shorter):
 * English 2,500 steps of `baby` at context 128, batch 8, lr 2e-3 — 8.7 minutes on WebAssembly on a 2-core
 * machine, and the default fine-tune after it scores 51.7 % on the quiz (README). Chinese: the starter's own
 * 2,000 steps at context 64, about 5 minutes. The plain variants train the same way: the class's contrast.
 */
const WORLD_EN_SCRATCH: ScratchRecipe = {
  arch: { ...PRESETS.baby, blockSize: 128 },
  run: { steps: 2500, batchSize: 8, lr: 2e-3, schedule: 'cosine', warmupSteps: 100, evalEvery: 250, evalIters: 20, sampleEvery: 500 },
  pairs: 'small-world-qa',
  minutes: 9,
};
const WORLD_ZH_SCRATCH: ScratchRecipe = {
  arch: { ...PRESETS.baby, blockSize: 64 },
  run: { steps: 2000, batchSize: 12, lr: 2e-3, schedule: 'cosine', warmupSteps: 100, evalEvery: 250, evalIters: 20, sampleEvery: 500 },
  pairs: 'small-world-zh-qa',
  minutes: 5,
};

export const SCRATCH_RECIPES: Readonly<Record<string, ScratchRecipe>> = {
  'small-world': WORLD_EN_SCRATCH,
  'small-world-plain': WORLD_EN_SCRATCH,
  'small-world-zh': WORLD_ZH_SCRATCH,
  'small-world-zh-plain': WORLD_ZH_SCRATCH,
};
