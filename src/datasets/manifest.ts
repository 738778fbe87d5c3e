/**
 * The bundled-dataset manifest (public/datasets/manifest.json), written by scripts/build-datasets.ts and
 * read by the app and the CLI. Plain data.
 */

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
  source: string;
  license: string;
  attribution: string;
}

export interface DatasetManifest {
  version: 1;
  datasets: DatasetEntry[];
}

export const DATASET_DIR = 'datasets';
export const MANIFEST_FILE = 'manifest.json';

/** One quiz question: a fact of a person the training pairs never ask about. */
export interface QuizItem {
  prompt: string;
  /** Whose fact it is, which fact, and its value as the text writes it. */
  name: string;
  attribute: string;
  value: string;
  /** The answer the fine-tuning pairs teach the form of ("Anna lives in Eastwick."). */
  expected: string;
  /** True when no training pair uses this question's wording. */
  unseenWording: boolean;
}

export interface Quiz {
  /** Share a blind guess gets right: the mean over the questions' attributes of 1 / (values of that attribute). */
  chance: number;
  /** Every value each attribute takes in the world (a reply that names two of them is wrong). */
  values: Record<string, string[]>;
  /** Every person of the world (a reply about someone else names the wrong person). */
  names: string[];
  items: QuizItem[];
}

/** One person of the small world, as the facts file lists them. */
export interface WorldFacts {
  name: string;
  /** Attribute (a plain word of the language: town, job, … / 城镇, 职业, …) → value as it appears in the text. */
  facts: Record<string, string>;
  /** train: the fine-tuning pairs ask about them; quiz: only the quiz does. */
  split: 'train' | 'quiz';
}
