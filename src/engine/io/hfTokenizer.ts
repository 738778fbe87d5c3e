/**
 * Our tokenizers as Hugging Face's tokenizer.json (read by the `tokenizers` library, transformers'
 * PreTrainedTokenizerFast and transformers.js), describing the same ids for every text:
 *
 * char  A BPE model with no merges: the vocabulary is `itos` (one character a token); a character outside
 *       it becomes the unknown token '\uFFFD' (id 0 in vocabularies built here), one per character, as
 *       CharTokenizer.encode; a vocabulary without one drops them, as ours does. No pre-tokenizer.
 * bpe   A BPE model with byte fallback, as Llama's: a token's string is its text (ids 0–127 the ASCII
 *       characters, base characters themselves, a merge the concatenation of its two parts) and ids
 *       128–255 are `<0x80>` … `<0xFF>`, so a character without a token of its own falls back to its UTF-8
 *       bytes. The merges in learned order are the ranks (the earliest applicable merge first, leftmost
 *       first: what BpeTokenizer.encodeChunk does). The pre-tokenizer is pretokenize.ts's: the same regex
 *       (a newline always alone), then chunks cut to 64 code points.
 * Decoding: ByteFallback (runs of <0xHH> tokens read as UTF-8), then Fuse (tokens joined with nothing).
 *
 * What tokenizer.json cannot say is refused, not approximated: two tokens with the same string (the
 * vocabulary is a map from strings), and merges that join bytes of a character with no token of its own
 * (a token like <E4 B8>): their string would be "<0xE4><0xB8>", which no decoder turns back into bytes, and
 * transformers.js applies byte fallback after the merges, so it would never make them.
 */
import { BYTE_TOKENS, type BpeTokenizer } from '../tokenizer/bpe';
import type { CharTokenizer } from '../tokenizer/char';
import { UNKNOWN } from '../tokenizer/char';
import { MAX_CHUNK } from '../tokenizer/pretokenize';
import type { Tokenizer } from '../tokenizer/types';
import { ExportError } from './exportError';

/** JavaScript's \s, spelled out: Oniguruma's \s (the Rust library) and transformers.js's differ from it. */
function whitespaceClass(except = ''): string {
  let out = '';
  for (let cp = 0; cp <= 0xffff; cp++) {
    const ch = String.fromCharCode(cp);
    if (/\s/u.test(ch) && !except.includes(ch)) out += cp < 0x20 ? `\\x${cp.toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}

/**
 * pretokenize.ts's CHUNK regex with every \s written as the characters JavaScript means by it, so all three
 * regex engines cut the same chunks.
 */
export function hfChunkRegex(): string {
  const ws = whitespaceClass();
  const wsNoNewline = whitespaceClass('\n');
  return `\\n| ?[\\p{L}\\p{M}]+| ?\\p{N}+| ?[^${ws}\\p{L}\\p{M}\\p{N}]+|[${wsNoNewline}]+|[\\s\\S]`; // the last: any character
}

/** A byte token's string, as byte fallback looks it up: <0xE4>. */
const byteToken = (b: number): string => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;

/** Each id's string in tokenizer.json's vocabulary, and the merges as pairs of strings (BPE). */
function bpeStrings(tok: BpeTokenizer): { strings: string[]; merges: [string, string][] } {
  // Tokens holding a fallback byte (128–255): a merge that makes one cannot be expressed (see the header).
  const first = BYTE_TOKENS + tok.chars.length;
  const partial = new Set<number>(Array.from({ length: BYTE_TOKENS - 0x80 }, (_, i) => 0x80 + i));
  tok.merges.forEach(([a, b], i) => {
    if (partial.has(a) || partial.has(b)) partial.add(first + i);
  });
  const bad = [...partial].filter((id) => id >= first);
  if (bad.length) {
    throw new ExportError(
      `this BPE tokenizer merges bytes of characters that have no token of their own (${bad.length} token${bad.length === 1 ? '' : 's'}, the first ${bad[0]}: ${tok.tokenText(bad[0])}): ` +
        'tokenizer.json cannot express that (no decoder turns such a token back into bytes, and transformers.js applies byte fallback after the merges, so it never makes them); ' +
        'train the tokenizer with a smaller vocabulary, or export --format onnx alone',
      'exportTokenizerBytes',
      { count: bad.length, id: bad[0], token: tok.tokenText(bad[0]) },
    );
  }
  const strings: string[] = [];
  for (let b = 0; b < BYTE_TOKENS; b++) strings.push(b < 0x80 ? String.fromCharCode(b) : byteToken(b));
  strings.push(...tok.chars);
  const merges: [string, string][] = [];
  for (const [a, b] of tok.merges) {
    strings.push(strings[a] + strings[b]);
    merges.push([strings[a], strings[b]]);
  }
  return { strings, merges };
}

/** The `vocab` object: string → id, refusing two ids with one string. */
function vocabObject(strings: readonly string[], describe: (id: number) => string): Record<string, number> {
  const vocab: Record<string, number> = {};
  const seen = new Map<string, number>();
  strings.forEach((s, id) => {
    const other = seen.get(s);
    if (other !== undefined) {
      throw new ExportError(
        `tokens ${other} and ${id} are both ${describe(id)}: tokenizer.json's vocabulary maps each string to one id, so it cannot hold both`,
        'exportTokenizerClash',
        {
          a: other,
          b: id,
          token: describe(id),
        },
      );
    }
    seen.set(s, id);
    vocab[s] = id;
  });
  return vocab;
}

/** tokenizer.json's contents for our tokenizer (a plain object: JSON.stringify it). */
export function hfTokenizerJson(tok: Tokenizer): Record<string, unknown> {
  const common = { version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, post_processor: null };
  const model = { type: 'BPE', dropout: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, ignore_merges: false };
  if (tok.kind === 'char') {
    const itos = (tok as CharTokenizer).itos;
    return {
      ...common,
      pre_tokenizer: null,
      decoder: { type: 'Fuse' },
      model: {
        ...model,
        unk_token: itos.includes(UNKNOWN) ? UNKNOWN : null,
        byte_fallback: false,
        vocab: vocabObject(itos, (id) => JSON.stringify(itos[id])),
        merges: [],
      },
    };
  }
  const bpe = tok as BpeTokenizer;
  const { strings, merges } = bpeStrings(bpe);
  const split = (regex: string) => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });
  return {
    ...common,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [split(hfChunkRegex()), split(`[\\s\\S]{1,${MAX_CHUNK}}`)] },
    decoder: { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Fuse' }] },
    // Merges as pairs (tokenizers ≥ 0.20's form): our tokens hold spaces, which the older "a b" strings cannot.
    model: { ...model, unk_token: null, byte_fallback: true, vocab: vocabObject(strings, (id) => bpe.tokenText(id)), merges },
  };
}

/** tokenizer_config.json: the fast tokenizer class, no special tokens, no space clean-up on decoding. */
export function hfTokenizerConfig(tok: Tokenizer, blockSize: number): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    model_max_length: blockSize,
    clean_up_tokenization_spaces: false,
    add_bos_token: false,
    add_eos_token: false,
    bos_token: null,
    eos_token: null,
    unk_token: tok.kind === 'char' && tok.unknownId !== null ? UNKNOWN : null,
    pad_token: null,
    added_tokens_decoder: {},
  };
}
