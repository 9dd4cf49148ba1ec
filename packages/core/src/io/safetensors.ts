/**
 * safetensors (Hugging Face): 8-byte little-endian header length, a JSON header
 * { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { string: string } }, then the
 * raw little-endian bytes. Reading validates every offset against the buffer before touching data,
 * so a corrupt or hostile file gives a clear error, never a read past the end.
 */
import { fromHalfBits } from '../dtype.js';
import { MultiheadError } from '../errors.js';
import { parseStrictJson, type StrictJson } from './strict-json.js';

export type SafetensorsDType =
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'I64'
  | 'U8'
  | 'BOOL'
  | 'F64'
  | 'I8'
  | 'I16'
  | 'U16'
  | 'U32';

const BYTES: Record<SafetensorsDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** A tensor on the host as stored in the file; F16/BF16 are widened to Float32Array, I64 to BigInt64Array. */
export interface HostTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data:
    | Float32Array
    | Float64Array
    | Int32Array
    | Int16Array
    | Int8Array
    | Uint32Array
    | Uint16Array
    | Uint8Array
    | BigInt64Array;
}

export interface SafetensorsFile {
  tensors: Record<string, HostTensor>;
  metadata: Record<string, string>;
}

/** Headers beyond this are refused (the reference implementation's limit is 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/** dtypes of the format that we do not decode (8-, 6- and 4-bit floats, complex, u64). */
const UNSUPPORTED_DTYPES = ['U64', 'C64', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4'];

const bad = (message: string): never => {
  throw new MultiheadError('INVALID_ARGUMENT', `safetensors: ${message}`);
};

/** One tensor of the header: where its bytes are in the data section. */
export interface HeaderEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

/** The checked header: entries in data order, metadata, and where the data section starts. */
export interface SafetensorsLayout {
  entries: HeaderEntry[];
  metadata: Record<string, string>;
  dataStart: number;
}

/** A JSON integer literal in [0, 2^53): shapes and offsets (serde's usize, within what we can address). */
function index(value: StrictJson | undefined, what: string): number {
  if (typeof value !== 'bigint' || value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER))
    bad(`${what} must be an integer in [0, 2^53), got ${describeJson(value)}`);
  return Number(value);
}

function describeJson(value: StrictJson | undefined): string {
  if (value instanceof Map) return 'an object';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'bigint') return value.toString();
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

/**
 * Reads and checks the header against every rule of the format (the safetensors README and its
 * reference implementation): an 8-byte little-endian length N <= 100 MB within the file; N bytes of
 * UTF-8 JSON starting with '{', one object without duplicate keys; `__metadata__` (optional, or null)
 * maps strings to strings; every other key is a tensor { dtype, shape, data_offsets } with a known
 * dtype, a shape of non-negative integers and offsets [begin, end]; sorted by offset, the tensors tile
 * the data section exactly: the first starts at 0, each starts where the previous ended, each spans
 * its shape's bytes, and the last ends at the end of the file. Nothing is decoded until all of it holds.
 */
export function readSafetensorsLayout(bytes: Uint8Array): SafetensorsLayout {
  if (!(bytes instanceof Uint8Array))
    bad(`expected the file as a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  if (bytes.byteLength < 8)
    bad(`file is ${bytes.byteLength} bytes; expected at least the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) bad(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLen = Number(n);
  if (8 + headerLen > bytes.byteLength)
    bad(`header length ${headerLen} runs past the end of the ${bytes.byteLength}-byte file`);
  let header: StrictJson;
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(
      bytes.subarray(8, 8 + headerLen),
    );
    if (!text.startsWith('{')) bad(`header must start with '{', got ${JSON.stringify(text.slice(0, 8))}`);
    header = parseStrictJson(text);
  } catch (e) {
    if (e instanceof MultiheadError) throw e;
    return bad(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!(header instanceof Map)) return bad('header is not a JSON object');
  let metadata: Record<string, string> = Object.create(null);
  const entries: HeaderEntry[] = [];
  for (const [name, entry] of header) {
    if (name === '__metadata__') {
      if (entry === null) continue;
      if (!(entry instanceof Map))
        return bad(`__metadata__ must map strings to strings, got ${describeJson(entry)}`);
      metadata = Object.create(null);
      for (const [key, value] of entry) {
        if (typeof value !== 'string')
          bad(`__metadata__[${JSON.stringify(key)}] must be a string, got ${describeJson(value)}`);
        metadata[key] = value as string;
      }
      continue;
    }
    const what = `tensor ${JSON.stringify(name)}`;
    if (!(entry instanceof Map)) return bad(`${what} must be an object, got ${describeJson(entry)}`);
    const dtype = entry.get('dtype');
    if (typeof dtype !== 'string' || !Object.hasOwn(BYTES, dtype)) {
      if (typeof dtype === 'string' && UNSUPPORTED_DTYPES.includes(dtype))
        throw new MultiheadError(
          'UNSUPPORTED',
          `safetensors: ${what} has dtype ${dtype}, which we do not decode`,
        );
      bad(
        `${what} has unknown dtype ${describeJson(dtype)}; expected one of ${Object.keys(BYTES).join(', ')}`,
      );
    }
    const shapeJson = entry.get('shape');
    if (!Array.isArray(shapeJson)) return bad(`${what} has invalid shape ${describeJson(shapeJson)}`);
    const shape = shapeJson.map((d, i) => index(d, `${what} shape[${i}]`));
    const offsets = entry.get('data_offsets');
    if (!Array.isArray(offsets) || offsets.length !== 2)
      return bad(`${what} has invalid data_offsets ${describeJson(offsets)}; expected [begin, end]`);
    const begin = index(offsets[0], `${what} data_offsets[0]`);
    const end = index(offsets[1], `${what} data_offsets[1]`);
    if (end < begin) bad(`${what} data_offsets [${begin}, ${end}] end before they begin`);
    let count = 1;
    for (const d of shape) {
      count *= d;
      if (count > Number.MAX_SAFE_INTEGER)
        bad(`${what} shape [${shape.join(', ')}] has more than 2^53 elements`);
    }
    const expected = count * BYTES[dtype as SafetensorsDType];
    if (end - begin !== expected) {
      bad(
        `${what} ${dtype} [${shape.join(', ')}] needs ${expected} bytes but data_offsets span ${end - begin}`,
      );
    }
    entries.push({ name, dtype: dtype as SafetensorsDType, shape, begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  let at = 0;
  for (const e of entries) {
    if (e.begin !== at) {
      bad(
        e.begin > at
          ? `tensor ${JSON.stringify(e.name)} begins at ${e.begin}, leaving bytes [${at}, ${e.begin}) of the data section to no tensor`
          : `tensor ${JSON.stringify(e.name)} data_offsets [${e.begin}, ${e.end}] overlap the tensor before it (which ends at ${at})`,
      );
    }
    if (e.end > dataLen)
      bad(
        `tensor ${JSON.stringify(e.name)} data_offsets [${e.begin}, ${e.end}] fall outside the ${dataLen} data bytes`,
      );
    at = e.end;
  }
  if (at !== dataLen)
    bad(`the tensors cover ${at} of the ${dataLen} data bytes; the file has bytes no tensor owns`);
  return { entries, metadata, dataStart };
}

/** Decodes the tensors of a checked layout into a prototype-free record by name. */
export function decodeTensors(bytes: Uint8Array, layout: SafetensorsLayout): Record<string, HostTensor> {
  const tensors: Record<string, HostTensor> = Object.create(null);
  for (const e of layout.entries) {
    const raw = bytes.subarray(layout.dataStart + e.begin, layout.dataStart + e.end);
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data: decode(e.dtype, raw) };
  }
  return tensors;
}

/** Tensors (by name, in a prototype-free record) and metadata of a safetensors file, all checked first. */
export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  const layout = readSafetensorsLayout(bytes);
  return { tensors: decodeTensors(bytes, layout), metadata: layout.metadata };
}

/** Tensors of a safetensors file by name. */
export function readSafetensors(bytes: Uint8Array): Record<string, HostTensor> {
  return parseSafetensors(bytes).tensors;
}

/**
 * The typed array of each dtype's raw little-endian values (F16 and BF16: their 16-bit patterns): what
 * `writeSafetensors` takes (a Uint8Array of the bytes also does) and what `decode` reads before widening.
 */
const ARRAY_OF: Record<SafetensorsDType, new (buffer: ArrayBuffer) => HostTensor['data']> = {
  F64: Float64Array,
  F32: Float32Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I64: BigInt64Array,
  I32: Int32Array,
  I16: Int16Array,
  I8: Int8Array,
  U32: Uint32Array,
  U16: Uint16Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
};

function decode(dtype: SafetensorsDType, raw: Uint8Array): HostTensor['data'] {
  // aligned, owned copy: new Uint8Array(view) copies even for a Node Buffer, whose slice() is a view of
  // the whole (possibly pooled) ArrayBuffer
  const copy = new Uint8Array(raw).buffer;
  if (dtype === 'F16') return Float32Array.from(new Uint16Array(copy), fromHalfBits);
  if (dtype === 'BF16') {
    const h = new Uint16Array(copy);
    const out = new Uint32Array(h.length);
    for (let i = 0; i < h.length; i++) out[i] = h[i]! << 16;
    return new Float32Array(out.buffer);
  }
  return new ARRAY_OF[dtype](copy);
}

export interface WritableTensor {
  dtype: SafetensorsDType;
  shape: readonly number[];
  /** Raw little-endian values of `dtype` (F16/BF16 as Uint16Array bits). */
  data: ArrayBufferView;
}

/**
 * Serializes tensors in the Hugging Face layout (names sorted, offsets contiguous, header padded with
 * spaces to 8 bytes). Refuses what `parseSafetensors` would reject: the name `__metadata__`, unknown
 * dtypes, shapes that are not lists of non-negative integers, data whose kind or byte length does not
 * match dtype and shape, metadata values that are not strings, a header over 100 MB.
 */
export function writeSafetensors(
  tensors: Record<string, WritableTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  if (typeof tensors !== 'object' || tensors === null)
    bad(`writing: tensors must be an object of name -> tensor, got ${String(tensors)}`);
  const names = Object.keys(tensors).sort();
  // a prototype-free object: a tensor named "__proto__" is written as one, never as a prototype
  const header: Record<string, unknown> = Object.create(null);
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
      bad(`writing: metadata must map strings to strings, got ${String(metadata)}`);
    const meta: Record<string, string> = Object.create(null);
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string')
        bad(
          `writing: metadata[${JSON.stringify(key)}] must be a string (JSON.stringify it), got ${typeof value}`,
        );
      meta[key] = value;
    }
    header.__metadata__ = meta;
  }
  let offset = 0;
  for (const name of names) {
    const what = `writing ${JSON.stringify(name)}`;
    if (name === '__metadata__') bad(`${what}: the name is reserved for the metadata`);
    const t = tensors[name]!;
    if (typeof t !== 'object' || t === null)
      bad(`${what}: expected { dtype, shape, data }, got ${String(t)}`);
    if (!Object.hasOwn(BYTES, t.dtype))
      bad(
        `${what}: unknown dtype ${JSON.stringify(t.dtype)}; expected one of ${Object.keys(BYTES).join(', ')}`,
      );
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      bad(`${what}: shape must be a list of non-negative integers, got ${JSON.stringify(t.shape)}`);
    const Kind = ARRAY_OF[t.dtype];
    const data: unknown = t.data;
    if (!(data instanceof Kind) && !(data instanceof Uint8Array)) {
      const got = ArrayBuffer.isView(data) ? data.constructor.name : typeof data;
      bad(`${what}: ${t.dtype} data must be a ${Kind.name} (or raw bytes in a Uint8Array), got ${got}`);
    }
    const expected = t.shape.reduce((n, d) => n * d, 1) * BYTES[t.dtype];
    if (!Number.isSafeInteger(expected)) bad(`${what}: shape [${t.shape.join(', ')}] is too large`);
    if (t.data.byteLength !== expected) {
      bad(`${what}: ${t.dtype} [${t.shape.join(', ')}] needs ${expected} bytes, got ${t.data.byteLength}`);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded > MAX_HEADER_BYTES)
    bad(`writing: the header would be ${padded} bytes, over the ${MAX_HEADER_BYTES}-byte limit`);
  if (padded !== json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const name of names) {
    const d = tensors[name]!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}
