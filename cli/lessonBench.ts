/**
 * The lesson's fine-tune as `npm run bench` measures it without the browser: the small-world starter in one
 * language, its default recipe, and the pairs drawn into batches as the page draws them. Shared by the lesson's
 * wait (bench.ts, --lesson) and the machine's ceiling (ceiling.ts, --ceiling).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCheckpoint, type Checkpoint } from '../src/engine/io/checkpoint';
import { preparePairs, type PreparedPairs } from '../src/engine/data/prepare';
import { parsePairsStrict } from '../src/documents/pairsFile';
import { finetuneRecipe, PAIRS_SPLIT_SEED, PAIRS_VAL_FRACTION } from '../src/engine/train/lesson';
import { STARTERS_FILE, type StarterEntry } from '../src/datasets/starters';
import type { Quiz } from '../src/engine/eval/quiz';
import type { RunSettings } from '../src/engine/train/specs';
import { MAX_HELDOUT } from '../src/worker/data';
import { settingsFromFlags } from './args';
import { readBytes, readInput, startersDir } from './inputs';

export type LessonLang = 'en' | 'zh';

export interface LessonBench {
  ckpt: Checkpoint;
  settings: RunSettings;
  data: PreparedPairs;
  /** The held-out prompts the worker's scoring asks (as many as it takes) and the quiz. */
  prompts: string[];
  quiz: Quiz;
}

export function lessonBench(lang: LessonLang): LessonBench {
  // The small world's starter in this language, as the lesson's first step loads it.
  const starters = JSON.parse(readFileSync(join(startersDir, STARTERS_FILE), 'utf8')) as StarterEntry[];
  const entry = starters.find((e) => e.id === `world-${lang}`);
  if (!entry) throw new Error(`no small-world starter for ${lang} in ${join(startersDir, STARTERS_FILE)}`);
  const ckpt = readCheckpoint(readBytes(join(startersDir, entry.file)));
  const input = readInput(entry.pairs, 'pairs');
  const quiz = input.entry?.quiz;
  const prompts = (input.entry?.heldout ?? []).slice(0, MAX_HELDOUT); // as the worker takes them
  if (!quiz || !prompts.length) throw new Error(`${entry.pairs} has no quiz or held-out prompts: run npm run datasets`);
  const recipe = finetuneRecipe(entry.pairs);
  const settings = settingsFromFlags({}, 'finetune', recipe.run, recipe.freeze);
  const data = preparePairs(ckpt.tokenizer, parsePairsStrict(input.text, input.name), ckpt.config.blockSize, {
    seed: PAIRS_SPLIT_SEED,
    valFraction: PAIRS_VAL_FRACTION,
  });
  return { ckpt, settings, data, prompts, quiz };
}
