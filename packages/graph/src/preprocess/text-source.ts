/**
 * Where parser input comes from: a string (the file's text), bytes (plain or gzip) or `{ path }` (Node).
 * Gzip is recognized by its magic bytes 0x1f 0x8b (RFC 1952) and inflated by Node's zlib, or in a browser
 * by `DecompressionStream('gzip')`; either way the output is capped, so a small file cannot claim gigabytes.
 */
import { MultiheadError } from '@multihead/core';
import { describeType, invalidArgument } from '../errors.js';
import { isNode, nodeFs, nodeZlib } from '../node.js';

export type TextSource = string | Uint8Array | { path: string };

export interface ReadOptions {
  /** Largest decompressed (or read) size accepted, in bytes. Default 256 MiB. */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

export const isGzip = (bytes: Uint8Array): boolean =>
  bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

/** UTF-8 text of plain (not gzip) bytes; a leading byte order mark is dropped. */
export function decodeText(bytes: Uint8Array, where: string): string {
  if (isGzip(bytes)) {
    invalidArgument(
      `${where}: the bytes are gzip-compressed (they start with 0x1f 0x8b); pass them to the async ` +
        'read function, which decompresses, or decompress them first',
    );
  }
  try {
    return stripByteOrderMark(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return invalidArgument(`${where}: the bytes are not valid UTF-8 text`);
  }
}

export function stripByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** A parser's synchronous input: a string, or plain bytes. */
export function textOf(input: unknown, where: string): string {
  if (typeof input === 'string') return stripByteOrderMark(input);
  if (input instanceof Uint8Array) return decodeText(input, where);
  return invalidArgument(
    `${where}: expected the file's text as a string or Uint8Array, got ${describeType(input)}`,
  );
}

/** The text of a source, gunzipped when it starts with the gzip magic bytes. */
export async function readTextSource(
  source: TextSource,
  where: string,
  options: ReadOptions = {},
): Promise<string> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!(Number.isInteger(maxBytes) && maxBytes > 0)) {
    invalidArgument(`${where}: maxBytes must be a positive integer, got ${String(maxBytes)}`);
  }
  if (typeof source === 'string') return stripByteOrderMark(source);
  let bytes: Uint8Array;
  if (source instanceof Uint8Array) bytes = source;
  else if (typeof source === 'object' && source !== null && typeof source.path === 'string') {
    bytes = await readFileBytes(source.path, where, maxBytes);
  } else {
    return invalidArgument(
      `${where}: expected text (string), bytes (Uint8Array) or { path: string }, got ${describeType(source)}`,
    );
  }
  if (isGzip(bytes)) bytes = await gunzip(bytes, where, maxBytes);
  return decodeText(bytes, where);
}

async function readFileBytes(path: string, where: string, maxBytes: number): Promise<Uint8Array> {
  if (!isNode()) invalidArgument(`${where}: { path } sources need Node; in a browser pass the bytes`);
  const fs = await nodeFs();
  try {
    const { size } = await fs.stat(path);
    if (size > maxBytes) {
      invalidArgument(`${where}: ${path} has ${size} bytes, more than maxBytes ${maxBytes}`);
    }
    return new Uint8Array(await fs.readFile(path));
  } catch (error) {
    if (error instanceof MultiheadError) throw error;
    return invalidArgument(`${where}: cannot read ${path} (${(error as Error).message})`);
  }
}

/** Gzip bytes inflated by Node's zlib, or by DecompressionStream where there is no Node. */
export async function gunzip(bytes: Uint8Array, where: string, maxBytes: number): Promise<Uint8Array> {
  return isNode() ? gunzipWithZlib(bytes, where, maxBytes) : gunzipWithStreams(bytes, where, maxBytes);
}

export async function gunzipWithZlib(
  bytes: Uint8Array,
  where: string,
  maxBytes: number,
): Promise<Uint8Array> {
  const zlib = await nodeZlib();
  return new Promise((resolve, reject) => {
    // maxOutputLength makes zlib stop (RangeError) instead of inflating a bomb
    zlib.gunzip(bytes, { maxOutputLength: maxBytes }, (error, result) => {
      if (error === null) resolve(new Uint8Array(result.buffer, result.byteOffset, result.byteLength));
      else reject(gzipError(where, error, maxBytes));
    });
  });
}

/** The browser path (Compression Streams API); also runs in Node 20, which is how it is tested. */
export async function gunzipWithStreams(
  bytes: Uint8Array,
  where: string,
  maxBytes: number,
): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') {
    invalidArgument(`${where}: gzip input needs DecompressionStream (a browser) or Node's zlib`);
  }
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('gzip'));
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        invalidArgument(`${where}: gzip input inflates to more than maxBytes ${maxBytes}`);
      }
      chunks.push(value);
    }
  } catch (error) {
    throw gzipError(where, error, maxBytes);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function gzipError(where: string, error: unknown, maxBytes: number): Error {
  if (error instanceof MultiheadError) return error;
  if (error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
    return new MultiheadError(
      'INVALID_ARGUMENT',
      `${where}: gzip input inflates to more than maxBytes ${maxBytes}`,
    );
  }
  return new MultiheadError(
    'INVALID_ARGUMENT',
    `${where}: the input starts like gzip but does not inflate (${(error as Error).message})`,
  );
}

/** Lines of a text file: LF, CRLF (Windows) and lone CR (classic Mac) all end a line. */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\n|\r/);
}
