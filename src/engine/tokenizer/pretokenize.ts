/**
 * Pre-tokenization: the text is cut into chunks before BPE, and merges never cross a chunk boundary (as
 * GPT-2's tokenizer does). The chunks:
 *   '\n'                  always alone: the dialogue template (data/pairs.ts) is built from newlines, so a
 *                         newline is one token whatever surrounds it, under BPE as under char
 *   ' ?letters'           a word with its leading space ("ing", " whale", "床前明月光" — a run of Han
 *                         characters between punctuation counts as one word, so frequent pairs inside
 *                         it merge)
 *   ' ?digits'            a number
 *   ' ?other'             a run of punctuation and symbols
 *   whitespace            a run of spaces/tabs/CR
 * Chunks longer than MAX_CHUNK characters are cut into pieces, so a text with no spaces at all (a long
 * line of code, a base64 blob) cannot make training quadratic.
 * The chunks of a text concatenate back to it exactly.
 */

export const MAX_CHUNK = 64;

const CHUNK = /\n| ?[\p{L}\p{M}]+| ?\p{N}+| ?[^\s\p{L}\p{M}\p{N}]+|[^\S\n]+|[\s\S]/gu;

/** The chunks of `text`, in order. */
export function* chunks(text: string): Generator<string> {
  CHUNK.lastIndex = 0;
  for (const m of text.matchAll(CHUNK)) {
    const s = m[0];
    // Long chunks (rare): cut by code points so a surrogate pair is never split.
    if (s.length <= MAX_CHUNK) yield s;
    else {
      const cps = [...s];
      if (cps.length <= MAX_CHUNK) yield s;
      else for (let i = 0; i < cps.length; i += MAX_CHUNK) yield cps.slice(i, i + MAX_CHUNK).join('');
    }
  }
}
