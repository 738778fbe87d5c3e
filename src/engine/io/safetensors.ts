/**
 * The safetensors format (Hugging Face): 8-byte little-endian u64 header length N, N bytes of JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the raw
 * little-endian, row-major tensor bytes, offsets relative to the end of the header.
 *
 * The reader trusts nothing: every length, offset, dtype and shape is checked, and a SafetensorsError
 * says exactly what is wrong. It reads F32, F16 and BF16 (converted to float32) and writes F32.
 */
import { EngineError, type EngineErrorCode, type ErrorParams } from '../errors';

export interface RawTensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

/** What can be wrong with a file that is not valid safetensors (each a code of its own, said in the page's language). */
type SafetensorsReason = Extract<EngineErrorCode, `st${string}`>;

/**
 * A file that is not valid safetensors: `reason` says what is wrong with it, its message in English (the CLI's words,
 * in this one's) and its code said inside this one's sentence by the page ("not a valid safetensors file: …").
 */
export class SafetensorsError extends EngineError {
  override name = 'SafetensorsError';
  constructor(reason: EngineError) {
    super(`not a valid safetensors file: ${reason.message}`, 'notSafetensors', {}, reason);
  }
}

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };
/** Refuse absurd headers before decoding them (the format's own reference limit is 100 MB). */
const MAX_HEADER = 100_000_000;

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * F32 by default; F16 halves the file (values rounded to the nearest half-precision number, ties to even,
 * as numpy and PyTorch convert; reading converts back to float32 exactly).
 */
export function writeSafetensors(tensors: Map<string, RawTensor>, metadata: Record<string, string>, dtype: 'F32' | 'F16' = 'F32'): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const width = DTYPE_BYTES[dtype];
  let offset = 0;
  for (const [name, t] of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    // A caller's bug, not a file's: a plain Error.
    if (size !== t.data.length) throw new Error(`tensor ${name}: shape [${t.shape}] holds ${size} values, data has ${t.data.length}`);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + size * width] };
    offset += size * width;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned, as the Hugging Face writer does.
  const enc = new TextEncoder();
  let headerBytes = enc.encode(json);
  const pad = (8 - (headerBytes.length % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    headerBytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    if (dtype === 'F16') {
      for (let i = 0; i < t.data.length; i++) view.setUint16(pos + i * 2, f32ToF16(t.data[i]), true);
      pos += t.data.length * 2;
      continue;
    }
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (littleEndian) out.set(bytes, pos);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(pos + i * 4, t.data[i], true);
    pos += t.data.byteLength;
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half from a float32, rounding to nearest, ties to even; overflow → ±Infinity, NaN stays NaN. */
export function f32ToF16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf or NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large: Inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa with its implicit 1 into place, then round.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // may carry into the exponent: still correct
  return sign | half;
}

export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function decode(dtype: string, bytes: Uint8Array, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  if (dtype === 'F32') {
    if (littleEndian) out.set(new Float32Array(bytes.slice().buffer));
    else for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  } else if (dtype === 'F16') {
    for (let i = 0; i < count; i++) out[i] = f16ToF32(view.getUint16(i * 2, true));
  } else {
    // BF16 is the top half of an F32.
    const u = new Uint32Array(1);
    const f = new Float32Array(u.buffer);
    for (let i = 0; i < count; i++) {
      u[0] = view.getUint16(i * 2, true) << 16;
      out[i] = f[0];
    }
  }
  return out;
}

/** Refuse the file: what is wrong, in English (the message, what the CLI prints) and as a code with its values. */
function fail(m: string, code: SafetensorsReason, params: ErrorParams = {}): never {
  throw new SafetensorsError(new EngineError(m, code, params));
}

/** The header, checked: its JSON entries, its length and the metadata strings. */
function readHeader(file: Uint8Array): { h: Record<string, unknown>; headerLen: number; metadata: Record<string, string> } {
  if (file.length < 8) fail(`it is ${file.length} bytes long, shorter than the 8-byte header length`, 'stTooShort', { bytes: file.length });
  const n = new DataView(file.buffer, file.byteOffset, file.byteLength).getBigUint64(0, true);
  if (n === 0n) fail('the header length is 0', 'stHeaderEmpty');
  if (n > BigInt(file.length - 8))
    fail(`the header claims ${n} bytes but the file has only ${file.length - 8} after the length field (truncated or not safetensors)`, 'stHeaderTruncated', {
      claimed: String(n),
      left: file.length - 8,
    });
  if (n > BigInt(MAX_HEADER))
    fail(`the header claims ${n} bytes, over the ${MAX_HEADER}-byte limit`, 'stHeaderTooLarge', { claimed: String(n), limit: MAX_HEADER });
  const headerLen = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, 8 + headerLen)));
  } catch (e) {
    // The parser's own words (English, whatever the page's language) stay in the message only.
    fail(`the header is not valid UTF-8 JSON (${(e as Error).message})`, 'stHeaderJson');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object', 'stHeaderNotObject');
  const h = header as Record<string, unknown>;
  const metadata: Record<string, string> = {};
  if ('__metadata__' in h) {
    const m = h.__metadata__;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) fail('__metadata__ must be an object of strings', 'stMetadataNotObject');
    for (const [k, v] of Object.entries(m as object)) {
      if (typeof v !== 'string') fail(`__metadata__.${k} must be a string, got ${typeof v}`, 'stMetadataNotString', { key: k });
      metadata[k] = v as string;
    }
  }
  return { h, headerLen, metadata };
}

/** Only the metadata (the header is read and checked; no tensor is decoded). */
export function readSafetensorsMetadata(file: Uint8Array): Record<string, string> {
  return readHeader(file).metadata;
}

export function readSafetensors(file: Uint8Array): SafetensorsFile {
  const { h, headerLen, metadata } = readHeader(file);
  const dataLen = file.length - 8 - headerLen;
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors = new Map<string, RawTensor>();
  for (const [name, entry] of Object.entries(h)) {
    if (name === '__metadata__') continue;
    if (typeof entry !== 'object' || entry === null) fail(`entry ${name} is not an object`, 'stEntryNotObject', { name });
    const { dtype, shape, data_offsets: offs } = entry as { dtype: unknown; shape: unknown; data_offsets: unknown };
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES))
      fail(`tensor ${name} has dtype ${JSON.stringify(dtype)}; supported: ${Object.keys(DTYPE_BYTES).join(', ')}`, 'stDtype', {
        name,
        dtype: JSON.stringify(dtype) ?? String(dtype),
        supported: Object.keys(DTYPE_BYTES).join(', '),
      });
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      fail(`tensor ${name} has an invalid shape ${JSON.stringify(shape)}`, 'stShape', { name });
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0))
      fail(`tensor ${name} has invalid data_offsets ${JSON.stringify(offs)}`, 'stOffsets', { name });
    const [begin, end] = offs as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const bytes = DTYPE_BYTES[dtype as string];
    if (end < begin) fail(`tensor ${name} ends (${end}) before it begins (${begin})`, 'stOffsetsReversed', { name, begin, end });
    if (end - begin !== count * bytes)
      fail(`tensor ${name}: shape [${shape}] of ${dtype} needs ${count * bytes} bytes, data_offsets span ${end - begin}`, 'stSize', {
        name,
        shape: `[${shape}]`,
        dtype: dtype as string,
        need: count * bytes,
        span: end - begin,
      });
    if (end > dataLen)
      fail(`tensor ${name} ends at byte ${end}, past the ${dataLen} bytes of data (file truncated?)`, 'stPastEnd', { name, end, bytes: dataLen });
    spans.push({ name, begin, end });
    tensors.set(name, { shape: shape as number[], data: decode(dtype as string, file.subarray(8 + headerLen + begin, 8 + headerLen + end), count) });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i].begin < spans[i - 1].end)
      fail(`tensors ${spans[i - 1].name} and ${spans[i].name} overlap`, 'stOverlap', { a: spans[i - 1].name, b: spans[i].name });
  }
  return { tensors, metadata };
}
