/**
 * A text cut into the pieces its tokens spell, for showing tokens as coloured spans (the tokenizer view).
 * Under BPE a character without a token of its own is spelled in several byte tokens; those tokens form
 * one piece, shown once the character is complete, so every piece is readable text.
 */
import type { Tokenizer } from './types';

export interface Piece {
  /** The text these tokens spell. */
  text: string;
  /** The token ids (one, or several byte tokens of one character). */
  ids: number[];
}

export function tokenPieces(tok: Tokenizer, text: string): Piece[] {
  const out: Piece[] = [];
  const stream = tok.decoder();
  let ids: number[] = [];
  for (const id of tok.encode(text).ids) {
    ids.push(id);
    const s = stream.push(id);
    if (s === '') continue;
    out.push({ text: s, ids });
    ids = [];
  }
  const rest = stream.flush();
  if (ids.length || rest) out.push({ text: rest, ids });
  return out;
}
