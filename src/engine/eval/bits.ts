/**
 * Bits per character: the loss in a unit that does not depend on the tokenizer. A loss per token compares
 * only models with the same tokens (a BPE token carries several characters, so its loss is larger); the
 * total information of a text, in bits, divided by its characters compares any two:
 *
 *   bpc = (mean loss per token · tokens) / (characters · ln 2)
 *
 * `tokens` and `characters` are those of the scored targets, counted the same way for every tokenizer
 * (Tokenizer.charCount: code points, a character split over byte tokens counted once).
 */
import type { Batch } from '../data/corpus';
import type { Tokenizer } from '../tokenizer/types';

/** Mean loss per token (nats) over `tokens` targets spelling `chars` characters → bits per character. */
export function bitsPerChar(meanLoss: number, tokens: number, chars: number): number {
  if (!(chars > 0)) return NaN;
  return (meanLoss * tokens) / (chars * Math.LN2);
}

/** Counted targets of the batches and the characters they spell (weighted by the loss mask, if any). */
export function scoredTargets(tok: Tokenizer, batches: Batch[]): { tokens: number; chars: number } {
  let tokens = 0;
  let chars = 0;
  const one = new Int32Array(1);
  for (const b of batches) {
    if (!b.w) {
      tokens += b.y.length;
      chars += tok.charCount(b.y);
      continue;
    }
    for (let i = 0; i < b.y.length; i++) {
      if (b.w[i] === 0) continue;
      one[0] = b.y[i];
      tokens += b.w[i];
      chars += b.w[i] * tok.charCount(one);
    }
  }
  return { tokens, chars };
}

/** Characters per token of a text under a tokenizer (how much text one position of the context holds). */
export function charsPerToken(tok: Tokenizer, text: string): number {
  const ids = tok.encode(text).ids;
  return ids.length ? tok.charCount(ids) / ids.length : NaN;
}
