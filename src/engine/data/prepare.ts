/**
 * Preparing a run's data, shared by the CLI and the training worker: text → ids → train/val sources,
 * pairs → encoded examples → train/val sources.
 */
import { checkText, normalizeText, splitIds } from './corpus';
import { checkTemplate, DEFAULT_TEMPLATE, encodePairs, splitPairs, type DialogueTemplate, type EncodedPair, type Pair } from './pairs';
import { corpusSource, pairSource, type DataSource } from './sources';
import { CharTokenizer } from '../tokenizer/char';
import type { Tokenizer } from '../tokenizer/types';
import { createRng } from '../random';

export interface PreparedCorpus {
  train: DataSource;
  val: DataSource;
  trainTokens: number;
  valTokens: number;
  /** Characters (code points) the train and val tokens spell: loss per token × tokens / characters / ln 2 is bits per character. */
  trainChars: number;
  valChars: number;
  unknownCount: number;
  unknownChars: [string, number][];
}

/** Encode text with a tokenizer (pass none to build a character-level one from this text) and split it 90/10. */
export function prepareCorpus(raw: string, blockSize: number, tokenizer?: Tokenizer): PreparedCorpus & { tokenizer: Tokenizer } {
  const text = normalizeText(raw);
  checkText(text);
  const tok = tokenizer ?? CharTokenizer.fromText(text);
  const enc = tok.encode(text);
  const { train, val } = splitIds(enc.ids);
  if (val.length < blockSize + 1) {
    throw new Error(`the text is too short: its validation tenth has ${val.length} tokens, a window needs ${blockSize + 1}; use at least ${(blockSize + 1) * 10} characters or a shorter context`);
  }
  return {
    tokenizer: tok,
    train: corpusSource(train, blockSize),
    val: corpusSource(val, blockSize),
    trainTokens: train.length,
    valTokens: val.length,
    trainChars: tok.charCount(train),
    valChars: tok.charCount(val),
    unknownCount: enc.unknownCount,
    unknownChars: enc.unknownChars,
  };
}

export interface PreparedPairs {
  train: DataSource;
  /** The encoded training examples (for augmentation). */
  trainExamples: EncodedPair[];
  val: DataSource;
  trainPairs: number;
  valPairs: number;
  truncatedCount: number;
  /** Indices (into the pairs given) of the pairs longer than the context: they lose their end marker. */
  truncatedIndices: number[];
  unknownChars: [string, number][];
}

/** Encode pairs with the model's tokenizer, hold out valFraction of them (seeded). */
export function preparePairs(
  tok: Tokenizer,
  pairs: Pair[],
  blockSize: number,
  opts: { valFraction?: number; seed?: number; template?: DialogueTemplate; responseOnly?: boolean } = {},
): PreparedPairs {
  const template = opts.template ?? DEFAULT_TEMPLATE;
  checkTemplate(tok, template);
  const set = encodePairs(tok, pairs, blockSize, template, opts.responseOnly ?? true);
  const { train, val } = splitPairs(set.examples, opts.valFraction ?? 0.1, createRng(opts.seed ?? 0));
  if (train.length === 0) throw new Error('no pairs left to train on after holding out the validation share');
  return {
    train: pairSource(train),
    trainExamples: train,
    val: pairSource(val.length ? val : train),
    trainPairs: train.length,
    valPairs: val.length,
    truncatedCount: set.truncatedCount,
    truncatedIndices: set.examples.flatMap((e, i) => (e.truncated ? [i] : [])),
    unknownChars: set.unknownChars,
  };
}
