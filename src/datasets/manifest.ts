/**
 * The bundled-dataset manifest (public/datasets/manifest.json), written by scripts/build-datasets.ts and
 * read by the app and the CLI. Plain data.
 */
import type { Quiz } from '../engine/eval/quiz';

export type { Quiz, QuizItem, WorldFacts } from '../engine/eval/quiz';

export type DatasetKind = 'corpus' | 'pairs';

export interface DatasetEntry {
  /** Stable id, usable on the CLI: `--text moby-dick`. */
  id: string;
  title: { en: string; zh: string };
  description: { en: string; zh: string };
  language: 'en' | 'zh';
  kind: DatasetKind;
  /** File name inside the datasets folder (.txt for corpora, .jsonl for pairs). */
  file: string;
  /** Size in characters (code points) of the text, or of all prompts and responses. */
  chars: number;
  distinctChars: number;
  /** For pairs. */
  pairs?: number;
  /**
   * For pairs: prompts that are in none of the pairs, for the format evaluation after fine-tuning (the
   * model answers each; the share that answers in the dialogue format is reported).
   */
  heldout?: string[];
  /**
   * For pairs about the small world: questions about people that no pair mentions, answered only by what
   * the model read in pretraining (the knowledge score).
   */
  quiz?: Quiz;
  /** For a small-world corpus: the file (in the datasets folder) listing every person's facts. */
  facts?: string;
  /** For a corpus: the same world without augmentation (one phrasing per fact, fixed order), for the contrast. */
  plain?: boolean;
  /** For pairs: the corpus whose vocabulary they are meant to share. */
  corpus?: string;
  /** A smaller cut of another dataset, for a quick first run and fast tests. */
  quick?: boolean;
  /** Where the data comes from: package names and versions, or a file of this repository (data, not words). */
  source: string;
  license: string;
  /** Who made it and what was done to it, in each language of the page. */
  attribution: { en: string; zh: string };
}

export interface DatasetManifest {
  version: 1;
  datasets: DatasetEntry[];
}

export const DATASET_DIR = 'datasets';
export const MANIFEST_FILE = 'manifest.json';
