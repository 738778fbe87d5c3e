/**
 * The worker's texts — the corpus and the dialogue pairs as the page sent them — and their encodings for
 * the current model (vocabulary and context), rebuilt whenever either changes.
 */
import { prepareCorpus, preparePairs, type PreparedCorpus, type PreparedPairs } from '../engine/data/prepare';
import { splitPairs, type Pair } from '../engine/data/pairs';
import { corpusWords } from '../engine/eval/dialogue';
import { PAIRS_SPLIT_SEED } from '../engine/train/lesson';
import { createRng } from '../engine/random';
import type { Tokenizer } from '../engine/tokenizer/types';
import type { GPT } from '../engine/model/gpt';
import type { CorpusInfo, PairsInfo } from './protocol';

/** Held-out prompts answered after each fine-tuning run. */
const MAX_HELDOUT = 40;

export interface PairSet {
  name: string;
  pairs: Pair[];
  valFraction: number;
  responseOnly: boolean;
  heldout: string[];
}

export class WorkerData {
  corpus: { name: string; text: string } | null = null;
  pairs: PairSet | null = null;
  corpusData: (PreparedCorpus & { tokenizer: Tokenizer }) | null = null;
  pairsData: PreparedPairs | null = null;
  private words: Set<string> | null = null;

  setCorpus(name: string, text: string): void {
    this.corpus = { name, text };
    this.words = null;
  }

  /** Words of the corpus (for the word share of replies), built once per corpus. */
  corpusWords(): Set<string> | null {
    if (this.corpus && !this.words) this.words = corpusWords(this.corpus.text);
    return this.words;
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
      out.pairs = { name: p.name, pairs: p.pairs.length, trainPairs: d.trainPairs, valPairs: d.valPairs, truncated: d.truncatedCount, longPairs: d.truncatedIndices, unknownChars: d.unknownChars.slice(0, 50), heldout: this.heldoutPrompts().length };
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
    return splitPairs(this.pairs.pairs, this.pairs.valFraction, createRng(PAIRS_SPLIT_SEED)).val.map((p) => p.prompt).slice(0, MAX_HELDOUT);
  }

  private describe(d: PreparedCorpus, unknownCount: number, unknownChars: [string, number][]): CorpusInfo {
    const text = this.corpus!.text;
    return { name: this.corpus!.name, chars: [...text].length, distinct: new Set(text).size, trainTokens: d.trainTokens, valTokens: d.valTokens, unknownCount, unknownChars: unknownChars.slice(0, 50) };
  }
}
