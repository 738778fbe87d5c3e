/**
 * The small world's quiz and facts, as the dataset build writes them (plain data: the page reads them too).
 */
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
