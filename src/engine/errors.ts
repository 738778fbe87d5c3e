/**
 * Errors a person can cause (a bad file, an impossible model, a learning rate that diverges) carry a code
 * and its parameters beside the English message, so a page in another language can say the same thing in
 * its own words (its dictionary's `error.<code>`); the message is the fallback and what the CLI prints.
 *
 * The codes are listed here, and the dictionary (src/i18n/i18n.ts) must have a sentence for each in every
 * language: a code thrown without one fails to compile. An error only the CLI can meet (an export format's
 * limits) may go without a code; the page then shows its English message.
 */
export const ENGINE_ERROR_CODES = [
  // the model's configuration (engine/model/config.ts)
  'configRange',
  'configHeads',
  'configDropout',
  'configBias',
  // LoRA settings and adapter files
  'loraTargets',
  'loraRank',
  'loraAlpha',
  'loraMissing',
  'loraNotAdapter',
  'loraAdapterFile',
  'loraWrongBase',
  'loraAdapterDamaged',
  'adapterLoraJson',
  'adapterNoFingerprint',
  'loraAdapterUnreadable',
  // text and pairs as the engine checks them
  'textEmpty',
  'textNul',
  'textControl',
  'textNotUtf8',
  'textTooShortForContext',
  'templateToken',
  'pairsEmpty',
  // freezing plans (engine/train/freeze.ts)
  'planBottom',
  'planTop',
  'planProgressive',
  'planNoStages',
  'planStageSteps',
  'planStageEmpty',
  'planStageGroup',
  'planStageLr',
  'planUnknown',
  // a run that cannot go on, or cannot start in the memory there is
  'nonFiniteLoss',
  'nonFiniteGrad',
  'memoryBatch',
  'memoryVocab',
  'memoryContext',
  'memoryWidth',
  'bufferBatch',
  'bufferVocab',
  'bufferContext',
  'bufferWidth',
  // model and session files
  'notSafetensors',
  // … what is wrong with a file that is not valid safetensors (said inside notSafetensors' sentence)
  'stTooShort',
  'stHeaderEmpty',
  'stHeaderTruncated',
  'stHeaderTooLarge',
  'stHeaderJson',
  'stHeaderNotObject',
  'stMetadataNotObject',
  'stMetadataNotString',
  'stEntryNotObject',
  'stDtype',
  'stShape',
  'stOffsets',
  'stOffsetsReversed',
  'stSize',
  'stPastEnd',
  'stOverlap',
  'checkpointInt',
  'checkpointNumber',
  'checkpointChoice',
  'checkpointText',
  'checkpointObject',
  'checkpointNested',
  'checkpointNonFinite',
  'checkpointHugeWeight',
  'checkpointNoMetadata',
  'checkpointJson',
  'checkpointModelArgs',
  'checkpointTokenizer',
  // … what is wrong with a model file's tokenizer (said inside checkpointTokenizer's sentence, a level deeper for
  // the BPE tokenizer's and the vocabulary's own checks)
  'tokJson',
  'tokKind',
  'tokBpe',
  'tokVocab',
  'tokItos',
  'bpeChars',
  'bpeMerges',
  'bpeTooLarge',
  'bpeCharNotOne',
  'bpeCharAscii',
  'bpeCharSurrogate',
  'bpeCharTwice',
  'bpeMergeIds',
  'bpeMergeRepeat',
  'bpeNotObject',
  'bpeKind',
  'bpeVersion',
  'itosList',
  'itosNotOne',
  'itosTwice',
  'checkpointDamaged',
  // … what is wrong inside a damaged model file (said inside checkpointDamaged's sentence)
  'ckItosVocab',
  'ckBpeVocab',
  'ckMissing',
  'ckShape',
  'ckUntied',
  'ckUnexpected',
  'ckStagesList',
  'ckStageTrainable',
  'sessionNotSession',
  'sessionDamaged',
  // … what is wrong inside a damaged session (said inside sessionDamaged's sentence)
  'sessionMetaJson',
  'sessionMomentsUnpaired',
  'sessionLoraSettings',
  'sessionLoraJson',
  'sessionUnknownParam',
  // what the worker refuses
  'noModel',
  'noCorpus',
  'noPairs',
  'noSnapshot',
  'runBusy',
  'runNotKept',
  'gpuRejected',
  'deviceLost',
  'exportTooLarge',
  'exportTokenizerBytes',
  'exportTokenizerClash',
  'prescoreFailed',
] as const;

export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];

export type ErrorParams = Record<string, string | number>;

export class EngineError extends Error {
  constructor(
    message: string,
    readonly code?: EngineErrorCode,
    readonly params: ErrorParams = {},
    /** The error this one wraps (a bad freeze plan inside a model file): said inside this one's sentence, as `{reason}`. */
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}
