/**
 * Names of the loss evaluations a run reports. The worker and the CLI name them when they set up a run;
 * the charts and the runs table look losses up by the same names. One constant per name, so a typo on
 * either side fails to compile instead of silently drawing an empty curve.
 */
export const EVAL = {
  /** Pretraining: the corpus's training split. */
  train: 'train',
  /** Pretraining: the corpus's held-out split. */
  val: 'val',
  /** Fine-tuning: the training dialogue pairs. */
  pairsTrain: 'pairs-train',
  /** Fine-tuning: the held-out dialogue pairs. */
  pairsVal: 'pairs-val',
  /** Fine-tuning: the pretraining corpus's held-out split, to watch forgetting. */
  corpusVal: 'corpus-val',
} as const;

export type EvalName = (typeof EVAL)[keyof typeof EVAL];
