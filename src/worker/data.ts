/**
 * The worker's texts — the corpus and the dialogue pairs as the page sent them — and their encodings for
 * the current model (vocabulary and context), rebuilt whenever either changes.
 */
import { prepareCorpus, preparePairs, type PreparedCorpus, type PreparedPairs } from '../engine/data/prepare';
import { splitPairs, type Pair } from '../engine/data/pairs';
import { corpusWords, pairsMatchLength } from '../engine/eval/dialogue';
import { PAIRS_SPLIT_SEED } from '../engine/train/lesson';
import { createRng } from '../engine/random';
import type { Tokenizer } from '../engine/tokenizer/types';
import { CharTokenizer } from '../engine/tokenizer/char';
import { trainingText } from '../engine/data/corpus';
import { defaultVocabSize } from '../engine/tokenizer/bpeTrain';
import { tokenPieces } from '../engine/tokenizer/pieces';
import type { GPT } from '../engine/model/gpt';
import type { Quiz } from '../engine/eval/quiz';
import type { CorpusInfo, PairsInfo, TokenizerInfo } from './protocol';

/** The tokenizer view shows the corpus's first lines up to this many characters, and one sentence up to SENTENCE_CHARS. */
const SAMPLE_CHARS = 400;
const SENTENCE_CHARS = 80;

/** Held-out prompts answered after each fine-tuning run. */
export const MAX_HELDOUT = 40;

export interface PairSet {
  name: string;
  pairs: Pair[];
  valFraction: number;
  responseOnly: boolean;
  heldout: string[];
  /** The small world's quiz, when the pairs bring one. */
  quiz: Quiz | null;
}

export class WorkerData {
  corpus: { name: string; text: string } | null = null;
  pairs: PairSet | null = null;
  corpusData: (PreparedCorpus & { tokenizer: Tokenizer }) | null = null;
  pairsData: PreparedPairs | null = null;
  private words: Set<string> | null = null;
  private lineForLineOf: { set: PairSet; value: boolean } | null = null;
  private bpeDefault: number | null = null;

  setCorpus(name: string, text: string): void {
    this.corpus = { name, text };
    this.words = null;
    this.bpeDefault = null;
  }

  /** Words of the corpus (for the word share of replies), built once per corpus. */
  corpusWords(): Set<string> | null {
    if (this.corpus && !this.words) this.words = corpusWords(this.corpus.text);
    return this.words;
  }

  /** Whether the pairs answer line for line (couplets), checked once per pair set: see pairsMatchLength. */
  lineForLine(): boolean {
    const set = this.pairs;
    if (!set) return false;
    if (this.lineForLineOf?.set !== set) this.lineForLineOf = { set, value: pairsMatchLength(set.pairs) };
    return this.lineForLineOf.value;
  }

  /** Re-encode the corpus and pairs for this model's vocabulary and context; returns what to tell the page. */
  prepare(model: GPT | null, tokenizer: Tokenizer | null): { corpus?: CorpusInfo; pairs?: PairsInfo } {
    this.corpusData = null;
    this.pairsData = null;
    const out: { corpus?: CorpusInfo; pairs?: PairsInfo } = {};
    if (!this.corpus) {
      // nothing to encode
    } else if (!model || !tokenizer) {
      // No model yet: describe the text with its own vocabulary.
      const d = prepareCorpus(this.corpus.text, 1);
      out.corpus = this.describe(d, 0, []);
    } else {
      const d = prepareCorpus(this.corpus.text, model.config.blockSize, tokenizer);
      this.corpusData = d;
      out.corpus = this.describe(d, d.unknownCount, d.unknownChars);
    }
    if (this.pairs && model && tokenizer) {
      const p = this.pairs;
      const d = preparePairs(tokenizer, p.pairs, model.config.blockSize, { valFraction: p.valFraction, responseOnly: p.responseOnly, seed: PAIRS_SPLIT_SEED });
      this.pairsData = d;
      out.pairs = {
        name: p.name,
        pairs: p.pairs.length,
        trainPairs: d.trainPairs,
        valPairs: d.valPairs,
        truncated: d.truncatedCount,
        longPairs: d.truncatedIndices,
        unknownChars: d.unknownChars.slice(0, 50),
        heldout: this.heldoutPrompts().length,
      };
    }
    return out;
  }

  /**
   * Prompts for the format evaluation: the set's own held-out list, or else the prompts of the pairs held out
   * for validation (never trained on).
   */
  heldoutPrompts(): string[] {
    if (!this.pairs) return [];
    if (this.pairs.heldout.length) return this.pairs.heldout.slice(0, MAX_HELDOUT);
    return splitPairs(this.pairs.pairs, this.pairs.valFraction, createRng(PAIRS_SPLIT_SEED))
      .val.map((p) => p.prompt)
      .slice(0, MAX_HELDOUT);
  }

  private describe(d: PreparedCorpus, unknownCount: number, unknownChars: [string, number][]): CorpusInfo {
    const text = this.corpus!.text;
    return {
      name: this.corpus!.name,
      chars: [...text].length,
      distinct: new Set(text).size,
      trainTokens: d.trainTokens,
      valTokens: d.valTokens,
      unknownCount,
      unknownChars: unknownChars.slice(0, 50),
      bpeDefaultVocab: (this.bpeDefault ??= defaultVocabSize(trainingText(text))),
    };
  }

  /**
   * The tokenizer view's figures for the prepared corpus: its first lines as tokens, one sentence under a
   * character tokenizer and under the model's, and characters per token of each split (null before a model).
   */
  tokenizerInfo(tokenizer: Tokenizer | null): TokenizerInfo | null {
    const d = this.corpusData;
    if (!this.corpus || !d || !tokenizer) return null;
    const sample = sampleText(this.corpus.text, SAMPLE_CHARS);
    const sentence = firstSentence(sample, SENTENCE_CHARS);
    return {
      kind: tokenizer.kind,
      vocabSize: tokenizer.vocabSize,
      sample: tokenPieces(tokenizer, sample),
      sentence: { char: tokenPieces(CharTokenizer.fromText(sentence), sentence), model: tokenPieces(tokenizer, sentence) },
      charsPerToken: { train: d.trainChars / d.trainTokens, val: d.valChars / d.valTokens },
    };
  }
}

/** The first lines of a text, at most `max` characters (code points), cut at a line end where there is one. */
export function sampleText(text: string, max: number): string {
  const head = [...text.slice(0, max * 2)].slice(0, max).join('');
  const cut = head.lastIndexOf('\n');
  return cut > max / 2 ? head.slice(0, cut) : head;
}

/** The first non-empty line of a text, at most `max` characters, cut after a word where it can be. */
export function firstSentence(text: string, max: number): string {
  const line =
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? '';
  const chars = [...line];
  if (chars.length <= max) return line;
  const head = chars.slice(0, max).join('');
  const space = head.lastIndexOf(' ');
  return space > max / 2 ? head.slice(0, space) : head;
}
