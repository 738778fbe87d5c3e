/**
 * Does the model answer in the dialogue format, and in words? Two scores of sampled replies to held-out
 * prompts (prompts that are not among the training pairs):
 *
 * - format: the share of replies that end with the end marker within the token limit, are not empty,
 *   and do not repeat the prompt. A pretrained model stops at a paragraph end only by chance.
 * - words: the share of the replies' words of three or more letters that occur as words in the
 *   pretraining corpus (case-insensitive). For scripts without spaces between words (Chinese) it is
 *   not defined (null).
 */
import type { GPT } from '../model/gpt';
import type { SampleResult } from '../model/generate';
import { generateBatch } from '../model/generateBatch';
import { DEFAULT_TEMPLATE, renderPrompt, type DialogueTemplate } from '../data/pairs';
import type { Tokenizer } from '../tokenizer/types';

export interface Reply {
  prompt: string;
  text: string;
  /** Ended with the end marker (not cut off by the token limit). */
  stopped: boolean;
}

export interface ReplyVerdict {
  ok: boolean;
  /** Why not, when not ok. */
  problem?: 'no-end' | 'empty' | 'repeats-prompt';
}

const normalize = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();

/** Pure: is one reply in the dialogue format? */
export function judgeReply(r: Reply): ReplyVerdict {
  if (!r.stopped) return { ok: false, problem: 'no-end' };
  const text = normalize(r.text);
  if (text === '') return { ok: false, problem: 'empty' };
  const prompt = normalize(r.prompt);
  if (prompt !== '' && text.includes(prompt)) return { ok: false, problem: 'repeats-prompt' };
  return { ok: true };
}

/** Share (0–1) of replies in the dialogue format. */
export function formatShare(replies: Reply[]): number {
  if (replies.length === 0) return NaN;
  return replies.filter((r) => judgeReply(r).ok).length / replies.length;
}

/** Words of three or more letters, lower-cased (letters of any alphabet, with inner apostrophes/hyphens). */
export function wordsOf(text: string): string[] {
  return (text.toLowerCase().match(/\p{L}+(?:['’-]\p{L}+)*/gu) ?? []).filter((w) => [...w].length >= 3);
}

/** True for text written without spaces between words (CJK), where a word share means nothing. */
export function isUnspaced(text: string): boolean {
  const han = (text.match(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/gu) ?? []).length;
  const letters = (text.match(/\p{L}/gu) ?? []).length;
  return letters > 0 && han / letters > 0.5;
}

/** The corpus's vocabulary of words, for wordShare. */
export function corpusWords(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/\p{L}+(?:['’-]\p{L}+)*/gu) ?? []);
}

/** Share (0–1) of the replies' words (≥ 3 letters) found in `known`; null when there are no words or the corpus is unspaced. */
export function wordShare(texts: string[], known: Set<string>): { share: number | null; words: number; found: number } {
  const words = texts.flatMap(wordsOf);
  const found = words.filter((w) => known.has(w)).length;
  return { share: words.length ? found / words.length : null, words: words.length, found };
}

export interface ReplySettings {
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  /** Prompt i's seed instead of seed + i (a subset of a larger set's prompts: see sampleRepliesInto). */
  seeds?: readonly number[];
  fixedShape?: boolean;
  signal?: AbortSignal;
}

/**
 * Sample one reply per prompt (prompt i with seed + i, so any subset reproduces its replies), all prompts
 * side by side through the model (generateBatch: the same replies as one by one, one forward per position).
 * `fixedShape` is not needed: the batch's input is one token per row at every pass.
 */
export async function sampleReplies(
  model: GPT,
  tokenizer: Tokenizer,
  prompts: string[],
  s: ReplySettings,
  template: DialogueTemplate = DEFAULT_TEMPLATE,
  onReply?: (r: Reply, i: number) => void,
): Promise<Reply[]> {
  const stop = tokenizer.encode(template.end).ids;
  const toReply = (i: number, r: SampleResult): Reply => ({ prompt: prompts[i], text: tokenizer.decode(r.ids), stopped: r.reason === 'stop' });
  const results = await generateBatch(
    model,
    prompts.map((p) => tokenizer.encode(renderPrompt(p, template)).ids),
    {
      maxNewTokens: s.maxNewTokens,
      temperature: s.temperature,
      topK: s.topK,
      topP: s.topP,
      seed: s.seed,
      seeds: s.seeds,
      signal: s.signal,
      stop,
      onResult: (r, i) => {
        if (r.reason !== 'aborted') onReply?.(toReply(i, r), i);
      },
    },
  );
  // Aborted: the replies that were finished, in prompt order up to the first unfinished one.
  const done = results.findIndex((r) => r.reason === 'aborted');
  return results.slice(0, done < 0 ? results.length : done).map((r, i) => toReply(i, r));
}

/**
 * sampleReplies that keeps its progress: `done` holds the replies already sampled (by prompt index) and receives
 * each new one as it finishes, so a call that is aborted keeps every reply it finished, and the next call samples
 * only the rest — each with the seed it has in the whole set (seed + i), so the replies are the ones one
 * uninterrupted call gives. Returns every reply in prompt order, or null when aborted.
 */
export async function sampleRepliesInto(
  model: GPT,
  tokenizer: Tokenizer,
  prompts: string[],
  s: ReplySettings,
  done: Map<number, Reply>,
  template: DialogueTemplate = DEFAULT_TEMPLATE,
): Promise<Reply[] | null> {
  const todo = prompts.map((_, i) => i).filter((i) => !done.has(i));
  if (todo.length) {
    const subset = todo.map((i) => prompts[i]);
    const seeds = todo.map((i) => s.seeds?.[i] ?? s.seed + i);
    await sampleReplies(model, tokenizer, subset, { ...s, seeds }, template, (r, k) => void done.set(todo[k], r));
  }
  if (s.signal?.aborted || todo.some((i) => !done.has(i))) return null;
  return prompts.map((_, i) => done.get(i)!);
}

/**
 * For text without spaces (a couplet, 对对子): the reply is one line with as many characters as the prompt,
 * punctuation aside — the first thing a matching line must get right (字数相等).
 */
export function sameLength(r: Reply): boolean {
  const n = letterCount(r.text);
  return r.stopped && n > 0 && !r.text.trim().includes('\n') && n === letterCount(r.prompt);
}

/** Letters of any script, punctuation and spaces aside. */
const letterCount = (s: string) => (s.match(/\p{L}/gu) ?? []).length;

/**
 * Whether a set of pairs answers line for line (couplets: ≥ 80 % of responses as many letters as their prompt),
 * the only pairs whose replies the same-length share measures. Chinese questions and answers (the small world) are
 * not: there the share is noise a student would read as failure.
 */
export function pairsMatchLength(pairs: readonly { prompt: string; response: string }[]): boolean {
  if (!pairs.length) return false;
  return pairs.filter((p) => letterCount(p.prompt) > 0 && letterCount(p.prompt) === letterCount(p.response)).length >= 0.8 * pairs.length;
}

export interface DialogueScore {
  /** 0–1. */
  format: number;
  /** 0–1, or null (no words, or an unspaced language). */
  words: number | null;
  /** 0–1 for unspaced languages where the pairs answer line for line (couplets: replies as long as their prompt), else null. */
  sameLength: number | null;
  replies: Reply[];
}

/** `lineForLine`: whether the pairs are couplets (pairsMatchLength), so that the same-length share means something. */
export function scoreReplies(replies: Reply[], known: Set<string> | null, lineForLine: boolean): DialogueScore {
  const texts = replies.map((r) => r.text);
  const unspaced = isUnspaced(texts.join('') + replies.map((r) => r.prompt).join(''));
  const words = known && !unspaced ? wordShare(texts, known).share : null;
  const same = unspaced && lineForLine && replies.length ? replies.filter(sameLength).length / replies.length : null;
  return { format: formatShare(replies), words, sameLength: same, replies };
}
