/**
 * safetensors (Hugging Face): 8-byte little-endian header length, a JSON header
 * { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { string: string } }, then the
 * raw little-endian bytes. Reading validates every offset against the buffer before touching data,
 * so a corrupt or hostile file gives a clear error, never a read past the end.
 */
import { fromHalfBits } from '../dtype.js';
import { MultiheadError } from '../errors.js';

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

const bad = (message: string): never => {
  throw new MultiheadError('INVALID_ARGUMENT', `safetensors: ${message}`);
};

export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.byteLength < 8)
    bad(`file is ${bytes.byteLength} bytes; expected at least the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES)
    bad(`header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (8 + headerLen > bytes.byteLength)
    bad(`header length ${headerLen} runs past the end of the ${bytes.byteLength}-byte file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    return bad(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    bad('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const tensors: Record<string, HostTensor> = {};
  let metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (
        typeof entry !== 'object' ||
        entry === null ||
        Object.values(entry).some((v) => typeof v !== 'string')
      ) {
        bad('__metadata__ must map strings to strings');
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string' || !(e.dtype in BYTES)) {
      bad(
        `tensor "${name}" has unknown dtype ${JSON.stringify(e.dtype)}; expected one of ${Object.keys(BYTES).join(', ')}`,
      );
    }
    const dtype = e.dtype as SafetensorsDType;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      bad(`tensor "${name}" has invalid shape ${JSON.stringify(e.shape)}`);
    }
    const shape = e.shape as number[];
    const offsets = e.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      bad(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const expected = shape.reduce((n, d) => n * d, 1) * BYTES[dtype];
    if (end < begin || end > dataLen)
      bad(`tensor "${name}" data_offsets [${begin}, ${end}] fall outside the ${dataLen} data bytes`);
    if (end - begin !== expected) {
      bad(
        `tensor "${name}" ${dtype} [${shape.join(', ')}] needs ${expected} bytes but data_offsets span ${end - begin}`,
      );
    }
    spans.push([begin, end, name]);
    tensors[name] = { dtype, shape, data: decode(dtype, bytes.subarray(dataStart + begin, dataStart + end)) };
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1]) bad(`tensors "${spans[i - 1]![2]}" and "${spans[i]![2]}" overlap`);
  }
  return { tensors, metadata };
}

/** Tensors of a safetensors file by name. */
export function readSafetensors(bytes: Uint8Array): Record<string, HostTensor> {
  return parseSafetensors(bytes).tensors;
}

function decode(dtype: SafetensorsDType, raw: Uint8Array): HostTensor['data'] {
  // aligned, owned copy: new Uint8Array(view) copies even for a Node Buffer, whose slice() is a view of
  // the whole (possibly pooled) ArrayBuffer
  const copy = new Uint8Array(raw).buffer;
  switch (dtype) {
    case 'F32':
      return new Float32Array(copy);
    case 'F64':
      return new Float64Array(copy);
    case 'F16':
      return Float32Array.from(new Uint16Array(copy), fromHalfBits);
    case 'BF16': {
      const h = new Uint16Array(copy);
      const out = new Uint32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = h[i]! << 16;
      return new Float32Array(out.buffer);
    }
    case 'I64':
      return new BigInt64Array(copy);
    case 'I32':
      return new Int32Array(copy);
    case 'I16':
      return new Int16Array(copy);
    case 'I8':
      return new Int8Array(copy);
    case 'U32':
      return new Uint32Array(copy);
    case 'U16':
      return new Uint16Array(copy);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(copy);
  }
}

export interface WritableTensor {
  dtype: SafetensorsDType;
  shape: readonly number[];
  /** Raw little-endian values of `dtype` (F16/BF16 as Uint16Array bits). */
  data: ArrayBufferView;
}

/** Serializes tensors in the Hugging Face layout (8-byte aligned header, names sorted). */
export function writeSafetensors(
  tensors: Record<string, WritableTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    const expected = t.shape.reduce((n, d) => n * d, 1) * BYTES[t.dtype];
    if (t.data.byteLength !== expected) {
      bad(
        `writing "${name}": ${t.dtype} [${t.shape.join(', ')}] needs ${expected} bytes, got ${t.data.byteLength}`,
      );
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
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
