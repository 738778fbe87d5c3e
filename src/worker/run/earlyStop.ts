/**
 * Early stopping: a run pauses once its held-out loss has not improved for `patience` evaluations in a row
 * (the held-out corpus when pretraining, the held-out pairs when fine-tuning).
 */
import { EVAL } from '../../engine/train/evalNames';
import type { Phase } from '../protocol';

export class EarlyStop {
  private best = Infinity;
  /** Evaluations since the held-out loss last improved (the breakpoint event reports it). */
  sinceBest = 0;
  /** The run has been told to stop (once; later evaluations change nothing). */
  stopped = false;
  private readonly heldOut: string;

  /** No patience: never stops. */
  constructor(
    private readonly patience: number | undefined,
    phase: Phase,
  ) {
    this.heldOut = phase === 'pretrain' ? EVAL.val : EVAL.pairsVal;
  }

  /** After an evaluation: true the one time the held-out loss has gone `patience` evaluations without improving. */
  observe(losses: Record<string, number>): boolean {
    const loss = losses[this.heldOut];
    if (this.patience === undefined || loss === undefined || this.stopped) return false;
    if (loss < this.best) {
      this.best = loss;
      this.sinceBest = 0;
      return false;
    }
    this.sinceBest++;
    this.stopped = this.sinceBest >= this.patience;
    return this.stopped;
  }
}
