/**
 * A finished strategy of a comparison, as the UI's tests need it: its corpus loss at its first and last evaluation,
 * and its quiz (`extra` changes the rest: `compare: false` for a fine-tune run on its own).
 */
import { newRunRecord, type RunRecord } from '../../src/store/store';
import { EVAL } from '../../src/engine/train/evalNames';

export function fineTuneRun(name: string, corpus: [number, number], facts: number | null, extra: Partial<RunRecord> = {}): RunRecord {
  return newRunRecord({
    runId: name,
    name,
    phase: 'finetune',
    steps: 60,
    status: 'done',
    compare: true,
    evals: [
      { step: 0, globalStep: 4000, losses: { [EVAL.corpusVal]: corpus[0], [EVAL.pairsVal]: 1.3 } },
      { step: 60, globalStep: 4060, losses: { [EVAL.corpusVal]: corpus[1], [EVAL.pairsVal]: 0.1 } },
    ],
    score: {
      model: {
        format: 1,
        words: 1,
        sameLength: null,
        prompts: 40,
        examples: [],
        knowledge: facts === null ? null : { knowledge: facts, person: 0, both: 0, chance: 0.125, answers: [] },
      },
      snapshot: null,
    },
    ...extra,
  });
}
