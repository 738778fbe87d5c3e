/**
 * Byte-pair encoding over characters, with bytes as the fallback (as SentencePiece's byte_fallback).
 *
 * Vocabulary layout (id order):
 *   0 … 255        one token per byte value. Bytes 0–127 are the ASCII characters themselves; 128–255
 *                  appear only as pieces of a character that has no token of its own, written in UTF-8.
 *                  So any text encodes, and nothing is ever unknown.
 *   256 …          the base characters: non-ASCII characters frequent in the training text (Chinese
 *                  characters, accented letters, curly quotes), each one token, in code point order
 *   then           one token per merge, in the order training learned them: merge i joins two earlier
 *                  tokens (a, b) into token 256 + chars + i
 * A token is a byte string (its pieces' bytes, concatenated); decoding concatenates the tokens' bytes and
 * reads them as UTF-8.
 *
 * Encoding: the text is cut into chunks (pretokenize.ts; a newline is always a chunk of its own), each
 * chunk becomes base tokens, then the merges apply in the order they were learned, each to every
 * adjacent occurrence left to right — exactly what training did to the same chunk.
 */
import { chunks } from './pretokenize';
import { checkId, TokenizerError, type Encoded, type Tokenizer, type TokenStream } from './types';
import { codePointBytes, decodeBytes, isLeadByte, isWholeUtf8, Utf8Stream } from './utf8';
import { TEMPLATE_CHARS } from './char';

export const BYTE_TOKENS = 256;
/** The largest vocabulary a file may hold (ids must fit a pair key, below). */
export const MAX_LOADABLE_VOCAB = 65536;
export const BPE_VERSION = 1;

/** What defines a BPE tokenizer, as stored in the model file's `tokenizer` metadata. */
export interface BpeSpec {
  /** The base characters (non-ASCII, one code point each), ids 256 … in this order. */
  chars: string[];
  /** Merge i joins tokens a and b into token 256 + chars.length + i. */
  merges: [number, number][];
}

/** One number per ordered pair of ids (both < 65536), for Map keys. */
export const pairKey = (a: number, b: number): number => a * MAX_LOADABLE_VOCAB + b;

/** A chunk as base tokens: ASCII → its byte, a base character → its token, anything else → its UTF-8 bytes. */
export function baseIds(chunk: string, charId: ReadonlyMap<number, number>, out: number[] = []): number[] {
  for (const ch of chunk) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) out.push(cp);
    else {
      const id = charId.get(cp);
      if (id !== undefined) out.push(id);
      else out.push(...codePointBytes(cp));
    }
  }
  return out;
}

/** Replaces every adjacent (a, b) in `sym`, left to right, by z. Training and encoding share it. */
export function mergePair(sym: number[], a: number, b: number, z: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < sym.length; i++) {
    if (i + 1 < sym.length && sym[i] === a && sym[i + 1] === b) {
      out.push(z);
      i++;
    } else out.push(sym[i]);
  }
  return out;
}

/** The most chunk encodings kept; a cache past it starts over (memory stays bounded on any text). */
const CACHE_LIMIT = 200_000;

export class BpeTokenizer implements Tokenizer {
  readonly kind = 'bpe';
  readonly unknownId = null;
  readonly chars: readonly string[];
  readonly merges: readonly (readonly [number, number])[];
  /** Each token's bytes. */
  private readonly bytes: Uint8Array[] = [];
  /** Characters each token starts (its UTF-8 lead bytes): what bits per character divide by. */
  private readonly leads: Int32Array;
  private readonly charId = new Map<number, number>();
  /** Pair key → the token their merge makes (a lower id is an earlier, higher-priority merge). */
  private readonly mergeId = new Map<number, number>();
  private cache = new Map<string, Int32Array>();

  /** Validates the spec completely: a bad file is refused with the first problem found. */
  constructor(spec: BpeSpec) {
    const { chars, merges } = spec;
    if (!Array.isArray(chars)) throw new TokenizerError('chars must be an array of characters', 'bpeChars');
    if (!Array.isArray(merges)) throw new TokenizerError('merges must be an array of [a, b] pairs', 'bpeMerges');
    const size = BYTE_TOKENS + chars.length + merges.length;
    if (size > MAX_LOADABLE_VOCAB)
      throw new TokenizerError(`the vocabulary has ${size} tokens, more than ${MAX_LOADABLE_VOCAB}`, 'bpeTooLarge', { size, max: MAX_LOADABLE_VOCAB });
    for (let b = 0; b < BYTE_TOKENS; b++) this.bytes.push(Uint8Array.of(b));
    chars.forEach((ch, i) => {
      const cp = typeof ch === 'string' ? ch.codePointAt(0) : undefined;
      if (cp === undefined || [...ch].length !== 1)
        throw new TokenizerError(`chars[${i}] must be a single character, got ${JSON.stringify(ch)}`, 'bpeCharNotOne', { i, got: String(JSON.stringify(ch)) });
      if (cp < 0x80)
        throw new TokenizerError(`chars[${i}] ${JSON.stringify(ch)} is ASCII: ASCII characters are byte tokens already`, 'bpeCharAscii', {
          i,
          ch: JSON.stringify(ch),
        });
      if (cp >= 0xd800 && cp <= 0xdfff) throw new TokenizerError(`chars[${i}] is a lone surrogate, not a character`, 'bpeCharSurrogate', { i });
      if (this.charId.has(cp)) throw new TokenizerError(`chars[${i}] ${JSON.stringify(ch)} appears twice`, 'bpeCharTwice', { i, ch: JSON.stringify(ch) });
      this.charId.set(cp, BYTE_TOKENS + i);
      this.bytes.push(Uint8Array.from(codePointBytes(cp)));
    });
    merges.forEach((m, i) => {
      const id = this.bytes.length;
      const ok = Array.isArray(m) && m.length === 2 && m.every((x) => Number.isInteger(x) && x >= 0 && x < id);
      if (!ok)
        throw new TokenizerError(`merges[${i}] must be a pair of earlier token ids (each below ${id}), got ${JSON.stringify(m)}`, 'bpeMergeIds', {
          i,
          below: id,
          got: String(JSON.stringify(m)),
        });
      const key = pairKey(m[0], m[1]);
      if (this.mergeId.has(key)) {
        const earlier = this.mergeId.get(key)! - (id - i);
        throw new TokenizerError(`merges[${i}] ${JSON.stringify(m)} repeats merge ${earlier}`, 'bpeMergeRepeat', { i, got: JSON.stringify(m), earlier });
      }
      this.mergeId.set(key, id);
      const [a, b] = [this.bytes[m[0]], this.bytes[m[1]]];
      const joined = new Uint8Array(a.length + b.length);
      joined.set(a, 0);
      joined.set(b, a.length);
      this.bytes.push(joined);
    });
    this.chars = [...chars];
    this.merges = merges.map(([a, b]) => [a, b] as const);
    this.leads = Int32Array.from(this.bytes, (bs) => bs.reduce((n, b) => n + (isLeadByte(b) ? 1 : 0), 0));
  }

  /** From the parsed `tokenizer` metadata of a model file. */
  static fromJSON(obj: unknown): BpeTokenizer {
    if (typeof obj !== 'object' || obj === null) throw new TokenizerError('the tokenizer must be an object', 'bpeNotObject');
    const o = obj as Record<string, unknown>;
    if (o.kind !== 'bpe') throw new TokenizerError(`kind must be "bpe", got ${JSON.stringify(o.kind)}`, 'bpeKind', { got: String(JSON.stringify(o.kind)) });
    if (o.version !== BPE_VERSION)
      throw new TokenizerError(`version ${JSON.stringify(o.version)} is not one this app reads (it reads ${BPE_VERSION})`, 'bpeVersion', {
        got: String(JSON.stringify(o.version)),
        reads: BPE_VERSION,
      });
    return new BpeTokenizer({ chars: o.chars as string[], merges: o.merges as [number, number][] });
  }

  toJSON(): { kind: 'bpe'; version: number } & BpeSpec {
    return { kind: 'bpe', version: BPE_VERSION, chars: [...this.chars], merges: this.merges.map(([a, b]) => [a, b]) };
  }

  get vocabSize(): number {
    return this.bytes.length;
  }

  encode(text: string): Encoded {
    const out: number[] = [];
    for (const c of chunks(text)) {
      const ids = this.encodeChunk(c);
      for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    }
    return { ids: Int32Array.from(out), unknownCount: 0, unknownChars: [] };
  }

  /** One chunk: base tokens, then the earliest-learned applicable merge, again and again. */
  private encodeChunk(chunk: string): Int32Array {
    const hit = this.cache.get(chunk);
    if (hit) return hit;
    let sym = baseIds(chunk, this.charId);
    for (;;) {
      let best = -1;
      let at = -1;
      for (let i = 0; i + 1 < sym.length; i++) {
        const z = this.mergeId.get(pairKey(sym[i], sym[i + 1]));
        if (z !== undefined && (best < 0 || z < best)) {
          best = z;
          at = i;
        }
      }
      if (best < 0) break;
      const [a, b] = this.merges[best - (this.bytes.length - this.merges.length)];
      // Start at the first occurrence: the part before it has no (a, b).
      sym = [...sym.slice(0, at), ...mergePair(sym.slice(at), a, b, best)];
    }
    const ids = Int32Array.from(sym);
    if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
    this.cache.set(chunk, ids);
    return ids;
  }

  decode(ids: ArrayLike<number>): string {
    const s = this.decoder();
    let out = '';
    for (let i = 0; i < ids.length; i++) out += s.push(ids[i]);
    return out + s.flush();
  }

  decoder(): TokenStream {
    const utf8 = new Utf8Stream();
    return {
      push: (id) => {
        checkId(id, this.bytes.length);
        return utf8.push(this.bytes[id]);
      },
      flush: () => utf8.flush(),
    };
  }

  /** Only the template characters are guaranteed a token of their own (pretokenize.ts keeps them alone). */
  has(ch: string): boolean {
    return (TEMPLATE_CHARS as readonly string[]).includes(ch);
  }

  /** The token's text, or its bytes in hex (<E4 B8>) when they are not whole characters. */
  tokenText(id: number): string {
    checkId(id, this.bytes.length);
    const b = this.bytes[id];
    if (isWholeUtf8(b)) return decodeBytes(b);
    return `<${Array.from(b, (x) => x.toString(16).toUpperCase().padStart(2, '0')).join(' ')}>`;
  }

  /** Each token's bytes in hex, id order: decoding needs nothing else (see the README). */
  hexVocab(): string[] {
    return this.bytes.map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''));
  }

  charCount(ids: ArrayLike<number>): number {
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      checkId(ids[i], this.bytes.length);
      n += this.leads[ids[i]];
    }
    return n;
  }

  /**
   * `tokenizer`: kind, version, base characters and merges (what loading rebuilds from); `vocab`: each
   * token's bytes in hex, so another program decodes without reimplementing BPE.
   */
  metadata(): Record<string, string> {
    return { tokenizer: JSON.stringify(this.toJSON()), vocab: JSON.stringify(this.hexVocab()) };
  }
}
