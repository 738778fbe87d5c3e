import type { GPTConfig } from '../../src/engine/model/config';
import { CharTokenizer } from '../../src/engine/tokenizer/char';
import { corpusSource, type DataSource } from '../../src/engine/data/sources';
import { splitIds } from '../../src/engine/data/corpus';

/** A small, learnable text: a repeated verse with a little variety. */
export const TEXT = Array.from({ length: 60 }, (_, i) =>
  `Call me Ishmael. Some years ago, never mind how long precisely, I went to sea ${i % 7} times.\n`,
).join('');

export const TINY: Omit<GPTConfig, 'vocabSize'> = { blockSize: 16, nLayer: 3, nHead: 2, nEmbd: 16, dropout: 0, bias: false };

export function tinySetup(text = TEXT): { tok: CharTokenizer; config: GPTConfig; train: DataSource; val: DataSource } {
  const tok = CharTokenizer.fromText(text);
  const { train, val } = splitIds(tok.encode(text).ids);
  return { tok, config: { ...TINY, vocabSize: tok.vocabSize }, train: corpusSource(train, TINY.blockSize), val: corpusSource(val, TINY.blockSize) };
}
