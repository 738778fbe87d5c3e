/**
 * UTF-8 for byte fallback, written out rather than TextEncoder/TextDecoder because a JavaScript string may
 * hold lone surrogates (half of an emoji cut by a slice), which TextEncoder silently turns into U+FFFD.
 * Here a lone surrogate is written as its own 3-byte sequence (WTF-8), so every string round-trips.
 */

/** The bytes of one code point (0 … 0x10FFFF, surrogates included). */
export function codePointBytes(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
}

/** Is this byte the first byte of a character (not a continuation byte 10xxxxxx)? */
export const isLeadByte = (b: number): boolean => (b & 0xc0) !== 0x80;

/** Sequence length announced by a lead byte; 0 for a byte that cannot start a character. */
function seqLength(b: number): number {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 0;
}

/**
 * A streaming decoder: bytes in, characters out as soon as they are complete. A byte that cannot continue
 * or start a character becomes U+FFFD (one per bad byte), so arbitrary model output still decodes.
 */
export class Utf8Stream {
  private pending: number[] = [];
  /** How many U+FFFD this stream has written for bad bytes (not for a U+FFFD the text really holds). */
  errors = 0;

  push(bytes: ArrayLike<number>): string {
    let out = '';
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (this.pending.length) {
        if (!isLeadByte(b) && this.validSecond(b)) {
          this.pending.push(b);
          if (this.pending.length === seqLength(this.pending[0])) out += this.complete();
          continue;
        }
        out += this.bad(this.pending.length);
        this.pending = [];
      }
      const n = seqLength(b);
      if (n === 1) out += String.fromCharCode(b);
      else if (n === 0) out += this.bad(1);
      else this.pending.push(b);
    }
    return out;
  }

  flush(): string {
    const out = this.bad(this.pending.length);
    this.pending = [];
    return out;
  }

  private bad(n: number): string {
    this.errors += n;
    return '\uFFFD'.repeat(n);
  }

  /** Second-byte ranges that keep the sequence shortest-form and ≤ U+10FFFF (surrogates allowed). */
  private validSecond(b: number): boolean {
    if (this.pending.length !== 1) return true;
    const lead = this.pending[0];
    if (lead === 0xe0) return b >= 0xa0;
    if (lead === 0xf0) return b >= 0x90;
    if (lead === 0xf4) return b <= 0x8f;
    return true;
  }

  private complete(): string {
    const p = this.pending;
    this.pending = [];
    let cp: number;
    if (p.length === 2) cp = ((p[0] & 31) << 6) | (p[1] & 63);
    else if (p.length === 3) cp = ((p[0] & 15) << 12) | ((p[1] & 63) << 6) | (p[2] & 63);
    else cp = ((p[0] & 7) << 18) | ((p[1] & 63) << 12) | ((p[2] & 63) << 6) | (p[3] & 63);
    // fromCharCode for the BMP keeps a lone surrogate a lone surrogate (fromCodePoint would too, but slower).
    return cp < 0x10000 ? String.fromCharCode(cp) : String.fromCodePoint(cp);
  }
}

/** The whole byte string decoded (trailing incomplete bytes become U+FFFD). */
export function decodeBytes(bytes: ArrayLike<number>): string {
  const s = new Utf8Stream();
  return s.push(bytes) + s.flush();
}

/** True when the bytes are whole characters and nothing else. */
export function isWholeUtf8(bytes: ArrayLike<number>): boolean {
  const s = new Utf8Stream();
  s.push(bytes);
  s.flush();
  return s.errors === 0;
}
