/**
 * Loss per token → bits per character for the charts and the CSV, with the engine's own formula
 * (engine/eval/bits.ts): bpc = loss · tokens / (characters · ln 2). A run keeps the corpus's characters per
 * token from when it started (RunRecord.charsPerToken), so a curve stays in its own units after the model
 * (and its tokenizer) changes.
 */
import { bitsPerChar } from '../../engine/eval/bits';
import { EVAL } from '../../engine/train/evalNames';

export interface CharsPerToken {
  train: number;
  val: number;
}

/** A loss per token (nats) in bits per character, for a text of `charsPerToken` characters per token. */
export function toBits(loss: number, charsPerToken: number): number {
  return bitsPerChar(loss, 1, charsPerToken);
}

/** Which split's characters per token an evaluation is measured on (the pretraining corpus's), or null (dialogue pairs). */
export function splitOf(evalName: string): keyof CharsPerToken | null {
  if (evalName === EVAL.train) return 'train';
  if (evalName === EVAL.val || evalName === EVAL.corpusVal) return 'val';
  return null;
}

/** An evaluation's loss in bits per character, or null where it has no corpus split or the run no figures. */
export function evalBits(evalName: string, loss: number, cpt: CharsPerToken | undefined): number | null {
  const split = splitOf(evalName);
  return split && cpt && cpt[split] > 0 ? toBits(loss, cpt[split]) : null;
}
