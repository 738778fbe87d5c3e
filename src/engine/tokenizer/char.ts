/**
 * Character-level tokenizer, as nanoGPT's shakespeare_char: one id per Unicode code point.
 *
 * Vocabulary layout of a tokenizer built here (nanoGPT's `itos`, id order):
 *   0            UNKNOWN ('\uFFFD'): every character outside the vocabulary maps here, and is counted.
 *   1 …          the corpus's distinct characters plus the dialogue template's, sorted by code point.
 * A vocabulary imported from elsewhere (a nanoGPT meta.pkl has no unknown entry) may lack UNKNOWN: then
 * unknown characters are dropped, and still counted.
 *
 * The dialogue template (data/pairs.ts) is built from ordinary characters ('\n') rather than new special
 * tokens, and '\n' is always in the vocabulary. Why: a special token that never occurs in pretraining text
 * has an embedding row that never trained; freeze the embeddings for fine-tuning and that row stays random
 * noise forever. '\n' occurs all through every pretraining corpus, so its row is trained.
 */

import { checkId, TokenizerError, type Encoded, type Tokenizer, type TokenStream } from './types';

export { TokenizerError, type Encoded } from './types';

export const UNKNOWN = '\uFFFD';
/** Characters the dialogue template needs; always in the vocabulary. */
export const TEMPLATE_CHARS = ['\n'] as const;

export class CharTokenizer implements Tokenizer {
  readonly kind = 'char';
  private readonly stoi: Map<string, number>;
  /** Id of UNKNOWN, or null when the vocabulary has none. */
  readonly unknownId: number | null;

  private constructor(readonly itos: readonly string[]) {
    this.stoi = new Map(itos.map((c, i) => [c, i]));
    this.unknownId = this.stoi.get(UNKNOWN) ?? null;
  }

  /** Vocabulary from a corpus: UNKNOWN, then every distinct code point of text ∪ TEMPLATE_CHARS in order. */
  static fromText(text: string): CharTokenizer {
    const chars = new Set<string>(TEMPLATE_CHARS);
    for (const ch of text) chars.add(ch);
    chars.delete(UNKNOWN);
    const sorted = [...chars].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharTokenizer([UNKNOWN, ...sorted]);
  }

  /** From a saved `itos` (id order), validated. */
  static fromItos(itos: unknown): CharTokenizer {
    if (!Array.isArray(itos) || itos.length < 2) throw new TokenizerError('itos must be an array of at least 2 strings', 'itosList');
    const seen = new Set<string>();
    itos.forEach((s, i) => {
      if (typeof s !== 'string' || [...s].length !== 1) {
        throw new TokenizerError(`itos[${i}] must be a single character, got ${JSON.stringify(s)}`, 'itosNotOne', { i, got: String(JSON.stringify(s)) });
      }
      if (seen.has(s)) throw new TokenizerError(`itos[${i}] ${JSON.stringify(s)} appears twice`, 'itosTwice', { i, ch: JSON.stringify(s) });
      seen.add(s);
    });
    return new CharTokenizer(itos as string[]);
  }

  get vocabSize(): number {
    return this.itos.length;
  }

  has(ch: string): boolean {
    return ch !== UNKNOWN && this.stoi.has(ch);
  }

  encode(text: string): Encoded {
    const out: number[] = [];
    const unknown = new Map<string, number>();
    for (const ch of text) {
      const id = ch === UNKNOWN ? undefined : this.stoi.get(ch);
      if (id === undefined) {
        unknown.set(ch, (unknown.get(ch) ?? 0) + 1);
        if (this.unknownId !== null) out.push(this.unknownId);
      } else out.push(id);
    }
    const unknownChars = [...unknown.entries()].sort((a, b) => b[1] - a[1]);
    return { ids: Int32Array.from(out), unknownCount: unknownChars.reduce((a, [, n]) => a + n, 0), unknownChars };
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      checkId(ids[i], this.itos.length);
      s += this.itos[ids[i]];
    }
    return s;
  }

  /** Every token is a whole character, so a stream is just decode, token by token. */
  decoder(): TokenStream {
    return { push: (id) => this.decode([id]), flush: () => '' };
  }

  tokenText(id: number): string {
    checkId(id, this.itos.length);
    return this.itos[id];
  }

  /** One character per token (UNKNOWN stands for one character too). */
  charCount(ids: ArrayLike<number>): number {
    return ids.length;
  }

  /** As files have always held it: `itos`, nanoGPT's meta.pkl list (no `tokenizer` entry, so older readers load it). */
  metadata(): Record<string, string> {
    return { itos: JSON.stringify(this.itos) };
  }
}
