/**
 * What every tokenizer offers the rest of the engine: text ↔ ids, its size, and how it is saved in a
 * model file. Two kinds implement it: `char` (one id per code point, nanoGPT's shakespeare_char) and `bpe`
 * (byte-pair merges over characters, with bytes as the fallback).
 */
import { EngineError } from '../errors';

export interface Encoded {
  ids: Int32Array;
  /** How many characters mapped to UNKNOWN (always 0 for a tokenizer with byte fallback). */
  unknownCount: number;
  /** Each unknown character with its count, most frequent first. */
  unknownChars: [string, number][];
}

/** A tokenizer refused (a model file's vocabulary, a training's settings); coded where a person can cause it. */
export class TokenizerError extends EngineError {
  override name = 'TokenizerError';
}

/** Turns ids into text one token at a time, for streaming: a character split over tokens appears once complete. */
export interface TokenStream {
  /** The text this token completes ('' while a character is still incomplete). */
  push(id: number): string;
  /** Whatever is still pending (an incomplete character becomes '\uFFFD'). */
  flush(): string;
}

export interface Tokenizer {
  readonly kind: 'char' | 'bpe';
  readonly vocabSize: number;
  /** Id of the unknown token, or null when there is none (BPE never needs one). */
  readonly unknownId: number | null;
  encode(text: string): Encoded;
  decode(ids: ArrayLike<number>): string;
  decoder(): TokenStream;
  /**
   * True when `ch` always encodes as exactly one token of its own, whatever text surrounds it: the
   * dialogue template (data/pairs.ts) is built only from such characters, so its loss mask and stop
   * sequence mean the same under every tokenizer.
   */
  has(ch: string): boolean;
  /** How one token reads, for display (bytes that are not a whole character show as <E4 B8>). */
  tokenText(id: number): string;
  /** The number of characters (code points) a run of ids spells; bits per character divide by it. */
  charCount(ids: ArrayLike<number>): number;
  /** Its entries in a model file's metadata (checkpoint.ts); tokenizerFromMetadata reads them back. */
  metadata(): Record<string, string>;
}

/** Range-checks an id against a vocabulary of `size` tokens. */
export function checkId(id: number, size: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= size) throw new TokenizerError(`token id ${id} is outside the vocabulary (0..${size - 1})`);
}
