/** Values of a run the table and the lesson read from its evaluations and records, and how they are written. Pure. */
import type { RunRecord } from '../store/store';
import { EVAL, type EvalName } from '../engine/train/evalNames';

/** A run's last evaluation of `name`, if it has one. */
export function lastEval(r: Pick<RunRecord, 'evals'>, name: EvalName): number | undefined {
  for (let i = r.evals.length - 1; i >= 0; i--) if (r.evals[i].losses[name] !== undefined) return r.evals[i].losses[name];
  return undefined;
}

/** A run's first evaluation of `name`, if it has one. */
export function firstEval(r: Pick<RunRecord, 'evals'>, name: EvalName): number | undefined {
  return r.evals.find((e) => e.losses[name] !== undefined)?.losses[name];
}

/** How much a run's loss on the pretraining corpus rose over it (forgetting), if it was measured at both ends. */
export function corpusChange(r: Pick<RunRecord, 'evals'>): number | undefined {
  const c0 = firstEval(r, EVAL.corpusVal);
  const c1 = lastEval(r, EVAL.corpusVal);
  return c0 !== undefined && c1 !== undefined ? c1 - c0 : undefined;
}

/** A loss's change, signed: +0.264. */
export const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;

/** Chance to a tenth of a per cent (1/8 is 12.5 %, not 13 %). */
export const chancePct = (x: number): string => `${+(100 * x).toFixed(1)}%`;

/**
 * The file a run's weights download as: its name with every run of characters other than letters, digits, dots and
 * dashes made one underscore (letters of any script: a Chinese run's name stays readable, where ASCII-only word
 * characters made every Chinese run "small-gpt-_.safetensors"). `suffix` for the adapters alone ("-lora").
 */
export function runFileName(name: string, suffix = ''): string {
  const stem = name.replace(/[^\p{L}\p{N}.-]+/gu, '_').replace(/^_+|_+$/g, '') || 'run';
  return `small-gpt-${stem}${suffix}.safetensors`;
}

/** A share as a whole percentage, or a dash for none. */
export const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : `${Math.round(100 * x)}%`);

/**
 * A quiz's right facts apart by how the question is worded: as the fine-tuning pairs ask (`seen`) and in a wording
 * no pair uses (`unseen`); null for a kind the quiz does not ask. The small world asks every fact both ways, and the
 * two shares differ (the lesson's default fine-tune: 86.5 % and 51.5 % in English): a reader of the quiz's mistakes sees
 * that most are in the new wordings, where the model answers by the pairs' familiar words.
 */
export function rightByWording(answers: readonly { unseenWording: boolean; fact: boolean }[]): { seen: number | null; unseen: number | null } {
  const share = (unseen: boolean) => {
    const kind = answers.filter((a) => a.unseenWording === unseen);
    return kind.length ? kind.filter((a) => a.fact).length / kind.length : null;
  };
  return { seen: share(false), unseen: share(true) };
}

/**
 * The latest comparison's strategies, whatever their state, in order: the last unbroken series of compared
 * fine-tunes (a comparison runs its strategies one after another) with the latest one's comparison id. Fine-tunes
 * run on their own, before or between comparisons, and an earlier comparison's strategies, also one run just
 * before, are not part of it. Runs from autosaves older than the id (none has one) read as one comparison where
 * they are unbroken. Empty before any comparison.
 */
export function latestComparison<R extends Pick<RunRecord, 'phase' | 'compare' | 'comparison'>>(runs: readonly R[]): R[] {
  const tunes = runs.filter((r) => r.phase === 'finetune');
  let end = tunes.length;
  while (end > 0 && !tunes[end - 1].compare) end--; // fine-tunes run on their own since the last comparison
  const id = tunes[end - 1]?.comparison;
  let start = end;
  while (start > 0 && tunes[start - 1].compare && tunes[start - 1].comparison === id) start--;
  return tunes.slice(start, end);
}

/**
 * A sampled reply as every table and strip shows it: without the line breaks a model may start with, `empty` (the
 * quiz's "(no answer)") where nothing is left, and an ellipsis after its last word where the token limit cut it
 * (`cut`) or it is shortened to `max` characters.
 */
export function shownReply(text: string, empty: string, { cut = false, max = Infinity }: { cut?: boolean; max?: number } = {}): string {
  const s = text.trim();
  if (!s) return empty;
  return s.length > max ? `${s.slice(0, max).trimEnd()}…` : cut ? `${s}…` : s;
}
