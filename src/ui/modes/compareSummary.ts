/**
 * What a strategy comparison shows, in three sentences a student can read at the end of the lesson: which run forgot
 * least of its pretraining text, which answers most quiz questions right, and which forgot most. Pure: from the runs
 * as the table shows them.
 */
import type { RunRecord } from '../../store/store';
import { corpusChange, latestComparison } from '../runValues';

export interface Outcome {
  name: string;
  /** The corpus loss's rise over the run. */
  forgetting: number;
  /** Share of the quiz's facts answered right after it (null: no quiz). */
  facts: number | null;
}

export interface CompareSummary {
  leastForgetting: Outcome;
  mostForgetting: Outcome;
  /** Null without a quiz. */
  mostFacts: Outcome | null;
}

type Shown = Pick<RunRecord, 'phase' | 'status' | 'hidden' | 'compare' | 'comparison' | 'evals' | 'score'> & { name: string };

/** The latest comparison's strategies that ran to their end with the forgetting measured and are drawn (not hidden). */
export function outcomes(runs: readonly Shown[]): Outcome[] {
  return finished(latestComparison(runs));
}

function finished(runs: readonly Shown[]): Outcome[] {
  return runs.flatMap((r) => {
    const forgetting = corpusChange(r);
    if (r.status !== 'done' || r.hidden || forgetting === undefined) return [];
    return [{ name: r.name, forgetting, facts: r.score?.model.knowledge?.knowledge ?? null }];
  });
}

/** Null until there is something to compare: two strategies of the comparison finished. */
export function compareSummary(list: readonly Outcome[]): CompareSummary | null {
  if (list.length < 2) return null;
  // The first of equals wins: the earlier run, as the table lists it.
  const best = (better: (a: Outcome, b: Outcome) => boolean, of: readonly Outcome[]) => of.reduce((m, o) => (better(o, m) ? o : m));
  const quizzed = list.filter((o) => o.facts !== null);
  return {
    leastForgetting: best((a, b) => a.forgetting < b.forgetting, list),
    mostForgetting: best((a, b) => a.forgetting > b.forgetting, list),
    mostFacts: quizzed.length ? best((a, b) => a.facts! > b.facts!, quizzed) : null,
  };
}
