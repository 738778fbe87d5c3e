/**
 * A tokenizer from a model file's metadata: a `tokenizer` entry names its kind (BPE files have one);
 * without it the file is a character-level model and `itos` is its vocabulary (every file this app
 * wrote before BPE, and nanoGPT's meta.pkl vocabulary).
 */
import { BpeTokenizer } from './bpe';
import { CharTokenizer } from './char';
import { TokenizerError, type Tokenizer } from './types';

function parse(meta: Record<string, string>, key: string): unknown {
  try {
    return JSON.parse(meta[key]);
  } catch (e) {
    throw new TokenizerError(`metadata "${key}" is not valid JSON (${(e as Error).message})`, 'tokJson', { key });
  }
}

/** Throws TokenizerError naming the metadata entry at fault; a missing `itos` (char files) is `null`. */
export function tokenizerFromMetadata(meta: Record<string, string>): Tokenizer | null {
  if ('tokenizer' in meta) {
    const spec = parse(meta, 'tokenizer') as { kind?: unknown } | null;
    const kind = typeof spec === 'object' && spec !== null ? spec.kind : undefined;
    if (kind !== 'bpe')
      throw new TokenizerError(`metadata "tokenizer" has kind ${JSON.stringify(kind)}; this app reads "bpe" (character models keep only "itos")`, 'tokKind', {
        kind: String(JSON.stringify(kind)),
      });
    let tok: BpeTokenizer;
    try {
      tok = BpeTokenizer.fromJSON(spec);
    } catch (e) {
      throw new TokenizerError(`metadata "tokenizer" is not a usable BPE tokenizer: ${(e as Error).message}`, 'tokBpe', {}, e);
    }
    // `vocab` is derived (for other programs); one that disagrees means the file was edited by hand.
    if ('vocab' in meta && JSON.stringify(parse(meta, 'vocab')) !== JSON.stringify(tok.hexVocab())) {
      throw new TokenizerError('metadata "vocab" disagrees with the merges in "tokenizer"', 'tokVocab');
    }
    return tok;
  }
  if (!('itos' in meta)) return null;
  try {
    return CharTokenizer.fromItos(parse(meta, 'itos'));
  } catch (e) {
    throw new TokenizerError(`metadata "itos" is not a usable vocabulary: ${(e as Error).message}`, 'tokItos', {}, e);
  }
}
