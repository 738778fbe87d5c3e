/**
 * The knowledge score: does the model answer the small world's quiz — questions about people no training
 * pair mentions — with the right fact? Replies are greedy (temperature 0: the model's best answer, the
 * same on every run) and judged by their first sentence:
 *
 * - fact: it states the expected value (as a word; in Chinese as a substring) and no other value of the
 *   same attribute ("Anna lives in Eastwick or Saltbay" is not an answer);
 * - person: it names the person asked about, and nobody else of the world.
 *
 * Chance is what a blind guess of a value gets (quiz.chance).
 */
import type { Quiz, QuizItem } from './quiz';
import type { GPT } from '../model/gpt';
import type { Tokenizer } from '../tokenizer/types';
import { DEFAULT_TEMPLATE, type DialogueTemplate } from '../data/pairs';
import { sampleRepliesInto, type Reply } from './dialogue';

export interface KnowledgeVerdict {
  /** States the right value of the asked attribute, and no other. */
  fact: boolean;
  /** Names the person asked about, and no other person. */
  person: boolean;
}

export interface QuizAnswer extends KnowledgeVerdict {
  item: QuizItem;
  reply: string;
  /** Ended with the dialogue's end marker. */
  stopped: boolean;
}

export interface KnowledgeScore {
  /** 0–1: share of questions whose reply states the right fact. */
  knowledge: number;
  /** 0–1: share whose reply names the right person. */
  person: number;
  /** 0–1: both. */
  both: number;
  chance: number;
  questions: number;
  answers: QuizAnswer[];
}

/** Greedy replies are short: the answer is one sentence of the pairs' form. */
export const QUIZ_MAX_TOKENS = 48;

/** The reply's first sentence (to the first full stop, question or exclamation mark, or line end). */
export function firstSentence(reply: string): string {
  const m = /^[\s\S]*?(?:[.!?。！？\n]|$)/u.exec(reply.trimStart());
  return (m ? m[0] : reply).trim();
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/**
 * Each word's whole-word pattern, made once: a quiz judges every reply against every value and name (400 replies
 * × ~100 words), and making a RegExp each time cost more than testing it (400 answers judged in 27–44 ms, 11–20 ms
 * with the patterns kept), on the thread that trains while the kernel threads wait. The words are the quizzes'
 * values and names: a few hundred.
 */
const wordPatterns = new Map<string, RegExp>();
function wordPattern(word: string): RegExp {
  let re = wordPatterns.get(word);
  if (!re) {
    if (wordPatterns.size >= 10_000) wordPatterns.clear(); // any number of quizzes, bounded memory
    re = new RegExp(`(?<![\\p{L}\\p{N}])${escape(word)}(?![\\p{L}\\p{N}])`, 'iu');
    wordPatterns.set(word, re);
  }
  return re;
}
/** Whole-word match for spaced scripts; substring for Han (no spaces between words). */
function mentions(text: string, word: string): boolean {
  if (/\p{Script=Han}/u.test(word)) return text.includes(word);
  return wordPattern(word).test(text); // no g flag: test() keeps no state between texts
}

/** Pure: judge one reply to one quiz question. */
export function judgeKnowledge(reply: string, item: QuizItem, quiz: Pick<Quiz, 'values' | 'names'>): KnowledgeVerdict {
  const s = firstSentence(reply);
  const values = (quiz.values[item.attribute] ?? [item.value]).filter((v) => mentions(s, v));
  // A value inside a longer one ("鱼" in "鲸鱼") is the longer one's: drop values contained in another found.
  const distinct = values.filter((v) => !values.some((w) => w !== v && w.includes(v)));
  const names = quiz.names.filter((n) => mentions(s, n));
  const people = names.filter((n) => !names.some((m) => m !== n && m.includes(n)));
  return {
    fact: distinct.length === 1 && distinct[0] === item.value,
    person: people.length === 1 && people[0] === item.name,
  };
}

/** Pure: the score of judged answers. */
export function knowledgeOf(answers: QuizAnswer[], chance: number): KnowledgeScore {
  const n = answers.length;
  const share = (f: (a: QuizAnswer) => boolean) => (n ? answers.filter(f).length / n : NaN);
  return { knowledge: share((a) => a.fact), person: share((a) => a.person), both: share((a) => a.fact && a.person), chance, questions: n, answers };
}

/**
 * Ask the whole quiz (greedy replies, all questions side by side through the model) and score it. Returns
 * null when aborted. `done`: the replies of an earlier, interrupted call, by question (sampleRepliesInto): only
 * the other questions are asked, and each new reply is added to it.
 */
export async function scoreQuiz(
  model: GPT,
  tokenizer: Tokenizer,
  quiz: Quiz,
  opts: { signal?: AbortSignal; template?: DialogueTemplate; maxNewTokens?: number; done?: Map<number, Reply> } = {},
): Promise<KnowledgeScore | null> {
  const prompts = quiz.items.map((q) => q.prompt);
  const replies = await sampleRepliesInto(
    model,
    tokenizer,
    prompts,
    { maxNewTokens: opts.maxNewTokens ?? QUIZ_MAX_TOKENS, temperature: 0, topK: 0, topP: 1, seed: 0, signal: opts.signal },
    opts.done ?? new Map(),
    opts.template ?? DEFAULT_TEMPLATE,
  );
  if (!replies) return null;
  const answers = replies.map((r, i) => ({ item: quiz.items[i], reply: r.text, stopped: r.stopped, ...judgeKnowledge(r.text, quiz.items[i], quiz) }));
  return knowledgeOf(answers, quiz.chance);
}
