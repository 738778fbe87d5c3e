/**
 * Data sources: what a training run draws batches from. The trainer knows only this interface, so
 * pretraining (corpus windows) and fine-tuning (dialogue pairs) are two sources over one loop.
 */
import { sampleWindows, type Batch } from './corpus';
import { pairBatch, samplePairBatch, type EncodedPair } from './pairs';
import { createRng, type Rng } from '../random';

export interface DataSource {
  /** A random training batch. */
  sample(batchSize: number, rng: Rng): Batch;
  /** Fixed evaluation batches: the same ones every call, so successive evaluations are comparable. */
  evalBatches(batchSize: number, iters: number): Batch[];
}

/** Seed of evaluation batches; fixed so every run and every strategy is scored on the same windows. */
const EVAL_SEED = 0x5eed;

/** Random windows of a token stream (nanoGPT's get_batch). */
export function corpusSource(ids: Int32Array, blockSize: number): DataSource {
  return {
    sample: (B, rng) => sampleWindows(ids, blockSize, B, rng),
    evalBatches: (B, iters) => {
      const rng = createRng(EVAL_SEED);
      return Array.from({ length: iters }, () => sampleWindows(ids, blockSize, B, rng));
    },
  };
}

/** Encoded dialogue pairs, one per row, loss on the response only. */
export function pairSource(examples: EncodedPair[]): DataSource {
  return {
    sample: (B, rng) => samplePairBatch(examples, B, rng),
    evalBatches: (B, iters) => {
      // The first iters·B pairs in order (all of them when the set is smaller): deterministic and exhaustive.
      const n = Math.min(examples.length, B * iters);
      const out: Batch[] = [];
      for (let i = 0; i < n; i += B) {
        out.push(pairBatch(examples, Array.from({ length: Math.min(B, n - i) }, (_, k) => i + k)));
      }
      return out;
    },
  };
}

/**
 * Pairs with character noise on the prompt: each prompt token is replaced, with probability `rate`, by a
 * random token from `replacements`. Responses, the separator and the loss mask are untouched. Evaluation
 * batches are clean.
 */
export function noisyPairSource(examples: EncodedPair[], rate: number, replacements: Int32Array): DataSource {
  const clean = pairSource(examples);
  if (rate <= 0 || replacements.length === 0) return clean;
  return {
    sample: (B, rng) => {
      const b = clean.sample(B, rng);
      const T = b.blockSize;
      for (let r = 0; r < B; r++) {
        // Inputs before the first counted target are the prompt; the separator is the input whose target
        // (the first response token) is the first counted one, so it is never replaced.
        for (let t = 0; t < T && b.w![r * T + t] === 0; t++) {
          if (rng.next() < rate) b.x[r * T + t] = replacements[rng.int(replacements.length)];
        }
      }
      return b;
    },
    evalBatches: clean.evalBatches,
  };
}
