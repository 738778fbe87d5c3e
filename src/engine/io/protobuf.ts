/**
 * A minimal Protocol Buffers writer: just what an ONNX file needs (varints, 32-bit floats, length-delimited
 * strings, bytes and nested messages). Hand-written because the engine imports no package but TF.js and
 * papaparse (test/architecture.test.ts), and the wire format is small:
 *
 *   field key   varint (field number << 3 | wire type)    wire types: 0 varint, 2 length-delimited, 5 fixed32
 *   varint      7 bits a byte, least significant first, high bit = more follows; negative int64 in 10 bytes
 *   message     its fields one after another; a nested message is length-delimited (its length, then it)
 *
 * Messages are built as trees of parts and flattened once at the end, so a weight of many megabytes is
 * copied exactly once, into the final buffer.
 */

export class ProtobufError extends Error {
  override name = 'ProtobufError';
}

/** One encoded field, or a nested message whose size is known without flattening it. */
type Part = Uint8Array | Message;

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** The varint bytes of a non-negative integer below 2^53, or of a negative one as int64 (two's complement). */
export function varint(n: number | bigint): Uint8Array {
  let v = typeof n === 'bigint' ? n : BigInt(n);
  if (typeof n === 'number' && !Number.isSafeInteger(n)) throw new ProtobufError(`varint of ${n}: not a whole number within ±2^53`);
  if (v < 0n) v = BigInt.asUintN(64, v);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

const utf8 = new TextEncoder();

/** A message under construction: append fields in field-number order (not required, but conventional). */
export class Message {
  private readonly parts: Part[] = [];
  /** Bytes the flattened message will take. */
  size = 0;

  private push(p: Part): this {
    this.parts.push(p);
    this.size += p instanceof Message ? p.size : p.length;
    return this;
  }

  private key(field: number, wire: number): this {
    return this.push(varint(field * 8 + wire));
  }

  /** int32, int64, enum and bool fields (negative values as int64, as protobuf encodes int32 too). */
  int(field: number, value: number | bigint): this {
    return this.key(field, WIRE_VARINT).push(varint(value));
  }

  /** A repeated integer field, unpacked (one key per value: onnx.proto is proto2, where that is the default). */
  ints(field: number, values: readonly (number | bigint)[]): this {
    for (const v of values) this.int(field, v);
    return this;
  }

  float(field: number, value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    return this.key(field, WIRE_FIXED32).push(b);
  }

  bytes(field: number, value: Uint8Array): this {
    return this.key(field, WIRE_LEN).push(varint(value.length)).push(value);
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  message(field: number, value: Message): this {
    return this.key(field, WIRE_LEN).push(varint(value.size)).push(value);
  }

  /** The message's bytes. Refuses past protobuf's 2 GiB limit, which every reader enforces. */
  finish(): Uint8Array {
    if (this.size > MAX_MESSAGE_BYTES) throw new ProtobufError(`the message would be ${this.size} bytes, over protobuf's limit of ${MAX_MESSAGE_BYTES}`);
    const out = new Uint8Array(this.size);
    let pos = 0;
    const write = (m: Message): void => {
      for (const p of m.parts) {
        if (p instanceof Message) write(p);
        else {
          out.set(p, pos);
          pos += p.length;
        }
      }
    };
    write(this);
    return out;
  }
}

/** Protobuf messages are limited to 2 GiB − 1 bytes (lengths are signed 32-bit). */
export const MAX_MESSAGE_BYTES = 2 ** 31 - 1;
