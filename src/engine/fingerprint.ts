/**
 * A 64-bit fingerprint built up piece by piece (two FNV-1a streams, the second with its own prime and a shift):
 * names, shapes and the bits of typed arrays. Used where two things must be told apart cheaply without keeping
 * both — a weights file's base (adapter files carry it), an evaluation's batches — not for security.
 */
export class Fingerprint {
  private h1 = 0x811c9dc5;
  private h2 = 0xcbf29ce4;

  /** One 32-bit word. */
  word(x: number): this {
    this.h1 = Math.imul(this.h1 ^ x, 0x01000193) >>> 0;
    this.h2 = Math.imul(this.h2 ^ x, 0x5bd1e995) >>> 0;
    this.h2 = (this.h2 ^ (this.h2 >>> 15)) >>> 0;
    return this;
  }

  /** A string's UTF-16 code units. */
  text(s: string): this {
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
    return this;
  }

  /** A typed array's length, then its elements' bits (floats bit for bit: -0 and 0 differ). */
  bits(v: Float32Array | Int32Array | Uint32Array): this {
    this.word(v.length);
    const words = new Uint32Array(v.buffer, v.byteOffset, v.length);
    for (let i = 0; i < words.length; i++) this.word(words[i]);
    return this;
  }

  /** 16 hex digits. */
  hex(): string {
    return this.h1.toString(16).padStart(8, '0') + this.h2.toString(16).padStart(8, '0');
  }
}
