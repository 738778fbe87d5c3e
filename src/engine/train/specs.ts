/**
 * From a run's settings to the trainer's TrainSpec: the one place the page's worker and the CLI turn
 * "pretrain 300 steps at lr 3e-3" or "fine-tune with progressive unfreezing" into data sources,
 * evaluations, schedule and seed. Both call these functions, so the two cannot drift apart (a test builds
 * the same spec from the CLI's flags and from the page's request).
 */
import type { PreparedCorpus, PreparedPairs } from '../data/prepare';
import { noisyPairSource } from '../data/sources';
import { DEFAULT_TEMPLATE } from '../data/pairs';
import type { Tokenizer } from '../tokenizer/types';
import { EVAL } from './evalNames';
import type { FreezePlan } from './freeze';
import type { LoraConfig } from '../model/lora';
import type { LessonRun } from './lesson';
import { scheduleFor } from './schedule';
import type { TrainSpec } from './trainer';
import type { EvalSource } from './evaluate';

/** What a run is, as plain data: the page's RunRequest and the CLI's parsed flags both are one. */
export interface RunSettings extends Omit<LessonRun, 'sampleEvery'> {
  phase: 'pretrain' | 'finetune';
  seed: number;
  /** Micro-batches per optimizer step; default 1. */
  gradAccum?: number;
  /** Fine-tuning: which groups train when. */
  freeze: FreezePlan;
  /** Fine-tuning: learning rate divided by this per group below the top (ULMFiT); absent = off. */
  discriminative?: number;
  /**
   * Fine-tuning with LoRA: adapters of this rank, α and targets train and every weight stays frozen (the
   * freeze plan and discriminative rates do not apply). The caller attaches the adapters to the model.
   */
  lora?: LoraConfig;
  /** Fine-tuning: probability per prompt character of replacing it with a random token. */
  promptNoise: number;
}

/** Pretraining on a corpus: train on its training split, evaluate both splits. */
export function pretrainSpec(s: RunSettings, corpus: PreparedCorpus): TrainSpec {
  return {
    ...common(s),
    train: corpus.train,
    evals: [
      { name: EVAL.train, source: corpus.train },
      { name: EVAL.val, source: corpus.val },
    ],
  };
}

/** A fine-tune's evaluation sources: both pair splits and, given the pretraining corpus, its validation split. */
export function finetuneEvals(pairs: PreparedPairs, forgettingCorpus?: PreparedCorpus | null): EvalSource[] {
  const evals: EvalSource[] = [
    { name: EVAL.pairsTrain, source: pairs.train },
    { name: EVAL.pairsVal, source: pairs.val },
  ];
  if (forgettingCorpus) evals.push({ name: EVAL.corpusVal, source: forgettingCorpus.val });
  return evals;
}

/**
 * Fine-tuning on dialogue pairs: loss on the training pairs (optionally with noisy prompts), evaluation on
 * both pair splits and, given the pretraining corpus, its validation split (the forgetting curve).
 */
export function finetuneSpec(s: RunSettings, pairs: PreparedPairs, tokenizer: Tokenizer, forgettingCorpus?: PreparedCorpus | null): TrainSpec {
  const evals = finetuneEvals(pairs, forgettingCorpus);
  const train = s.promptNoise > 0 ? noisyPairSource(pairs.trainExamples, s.promptNoise, noiseReplacements(tokenizer)) : pairs.train;
  if (s.lora) return { ...common(s), train, freeze: { kind: 'none' }, adaptersOnly: true, evals };
  return { ...common(s), train, freeze: s.freeze, freezeOptions: { discriminative: s.discriminative }, evals };
}

/**
 * The batch stream's seed. Compared strategies (all restarted from the snapshot) use the run's seed, so they
 * see identical batches; a run that continues a model offsets it by the steps already taken, so it does not
 * replay the batch order of the model's earlier training.
 */
export function runSeed(seed: number, fromSnapshot: boolean, stepsTaken: number): number {
  return fromSnapshot ? seed : seed + stepsTaken;
}

function common(s: RunSettings): Omit<TrainSpec, 'train'> {
  return {
    steps: s.steps,
    batchSize: s.batchSize,
    gradAccum: s.gradAccum ?? 1,
    schedule: scheduleFor(s.schedule, s.steps, s.lr, s.warmupSteps),
    evalEvery: s.evalEvery,
    evalIters: s.evalIters,
  };
}

/** Prompt noise draws from ordinary tokens: never UNKNOWN nor the dialogue template's own characters. */
function noiseReplacements(tokenizer: Tokenizer): Int32Array {
  const skip = new Set(tokenizer.encode(DEFAULT_TEMPLATE.separator + DEFAULT_TEMPLATE.end).ids);
  return Int32Array.from(Array.from({ length: tokenizer.vocabSize }, (_, i) => i).filter((i) => i !== tokenizer.unknownId && !skip.has(i)));
}
