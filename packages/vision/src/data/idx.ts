/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/, "file formats"): a magic
 * number 0x0000 TT NN (TT the element type, NN the number of dimensions), NN big-endian u32 dimensions,
 * then the elements, big-endian, row-major. Every claim of the header is checked against the bytes that
 * are really there before anything is allocated, and a file that is short or long by one byte is refused.
 */
import { describeType, invalidArgument, ioError, messageOf } from '../preprocess/errors.js';
import { nodeFs, nodeZlib } from '../preprocess/node.js';

export type IdxType = 'u8' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  type: IdxType;
  dims: number[];
  /** The elements in row-major order (a view of the input for u8 and i8, else a converted copy). */
  data: IdxData;
}

const TYPES: Record<number, { type: IdxType; bytes: number }> = {
  8: { type: 'u8', bytes: 1 },
  9: { type: 'i8', bytes: 1 },
  11: { type: 'i16', bytes: 2 },
  12: { type: 'i32', bytes: 4 },
  13: { type: 'f32', bytes: 4 },
  14: { type: 'f64', bytes: 8 },
};

const hex = (value: number) => `0x${value.toString(16).padStart(8, '0')}`;

/** Magic numbers of the MNIST files: u8 images [N, rows, cols] and u8 labels [N]. */
export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

/**
 * Parses uncompressed IDX bytes. `name` (a file name) goes into every message; `magic`, when given, is
 * the magic number the file must have (IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC).
 */
export function readIdx(bytes: Uint8Array, options: { name?: string; magic?: number } = {}): IdxArray {
  const name = options.name ?? 'IDX bytes';
  if (!(bytes instanceof Uint8Array))
    invalidArgument(`readIdx: ${name} must be a Uint8Array, got ${describeType(bytes)}`);
  if (bytes.length < 4)
    invalidArgument(`${name}: truncated IDX file (${bytes.length} bytes; the magic number needs 4)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const code = bytes[2]!;
  const rank = bytes[3]!;
  const element = TYPES[code];
  if (bytes[0] !== 0 || bytes[1] !== 0 || element === undefined || rank === 0)
    invalidArgument(
      `${name}: not an IDX file (magic number ${hex(magic)}; IDX files start 0x0000 then a type byte ` +
        '08/09/0b/0c/0d/0e and a dimension count of at least 1)',
    );
  if (options.magic !== undefined && magic !== options.magic)
    invalidArgument(`${name}: magic number ${hex(magic)}, expected ${hex(options.magic)}`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes)
    invalidArgument(
      `${name}: truncated IDX header (${bytes.length} bytes; ${rank} dimensions need ${headerBytes})`,
    );
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  // huge claims lose precision as floats, but then they are far from the real length and refused below
  const count = dims.reduce((a, b) => a * b, 1);
  const dataBytes = bytes.length - headerBytes;
  const expected = count * element.bytes;
  if (expected !== dataBytes)
    invalidArgument(
      `${name}: ${expected > dataBytes ? 'truncated' : 'too long'}: the header says [${dims.join(', ')}] ` +
        `${element.type} = ${expected} bytes of data, the file has ${dataBytes} after the ${headerBytes}-byte header`,
    );
  const body = bytes.subarray(headerBytes);
  if (element.type === 'u8') return { type: 'u8', dims, data: body };
  if (element.type === 'i8')
    return { type: 'i8', dims, data: new Int8Array(body.buffer, body.byteOffset, count) };
  const big = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const read = {
    i16: () => Int16Array.from({ length: count }, (_, i) => big.getInt16(2 * i)),
    i32: () => Int32Array.from({ length: count }, (_, i) => big.getInt32(4 * i)),
    f32: () => Float32Array.from({ length: count }, (_, i) => big.getFloat32(4 * i)),
    f64: () => Float64Array.from({ length: count }, (_, i) => big.getFloat64(8 * i)),
  }[element.type];
  return { type: element.type, dims, data: read() };
}

/** Images `[N, rows, cols]` u8 (magic 0x00000803). */
export function readIdxImages(
  bytes: Uint8Array,
  name = 'IDX images',
): { data: Uint8Array; count: number; height: number; width: number } {
  const { dims, data } = readIdx(bytes, { name, magic: IDX_IMAGES_MAGIC });
  return { data: data as Uint8Array, count: dims[0]!, height: dims[1]!, width: dims[2]! };
}

/** Labels `[N]` u8 (magic 0x00000801), each below `classCount`. */
export function readIdxLabels(bytes: Uint8Array, classCount: number, name = 'IDX labels'): Uint8Array {
  const labels = readIdx(bytes, { name, magic: IDX_LABELS_MAGIC }).data as Uint8Array;
  for (let i = 0; i < labels.length; i++)
    if (labels[i]! >= classCount)
      invalidArgument(
        `${name}: label ${labels[i]} at index ${i} is out of range (${classCount} classes: 0-${classCount - 1})`,
      );
  return labels;
}

/** Default cap on a decompressed IDX file: 512 MiB (Fashion-MNIST's largest file is 47 MB). */
export const DEFAULT_MAX_IDX_BYTES = 512 * 1024 * 1024;

/**
 * Reads an IDX file from disk (Node), gunzipping it when it starts with the gzip magic bytes 1f 8b. The
 * decompressed size is capped at `maxBytes` (a gzip bomb stops there).
 */
export async function readIdxFileBytes(
  path: string,
  options: { maxBytes?: number } = {},
): Promise<Uint8Array> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_IDX_BYTES;
  const fs = await nodeFs();
  let raw: Uint8Array;
  try {
    const file = await fs.readFile(path);
    raw = new Uint8Array(file.buffer, file.byteOffset, file.byteLength); // a view: copying 47 MB costs ~0.4 s
  } catch (error) {
    return ioError(`cannot read IDX file ${path}: ${messageOf(error)}`);
  }
  if (raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  const zlib = await nodeZlib();
  try {
    const out = await new Promise<Uint8Array>((resolve, reject) =>
      zlib.gunzip(raw, { maxOutputLength: maxBytes }, (error, result) =>
        error ? reject(error) : resolve(result),
      ),
    );
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (error) {
    const cause =
      (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
        ? `larger than maxBytes ${maxBytes} when decompressed`
        : messageOf(error);
    return invalidArgument(`${path}: corrupt or truncated gzip data (${cause})`);
  }
}
