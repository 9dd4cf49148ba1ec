/**
 * Reads an image's format and size from its first bytes, before any decoder runs, so that an image whose
 * header claims 100000 x 100000 pixels is refused without allocating them (Node checks sharp's
 * `metadata()` as well; in a browser this is the only look before `createImageBitmap`). Only the four
 * formats this package decodes are recognized; anything else (SVG, TIFF, HEIF, ...) never reaches a decoder.
 * Layouts: PNG (ISO/IEC 15948, IHDR), GIF89a (logical screen descriptor: libvips and browsers size the
 * frames to it), JPEG (ITU T.81 B.2: the first SOFn segment), WebP (RIFF container: VP8, VP8L or VP8X).
 */
import { invalidArgument, unsupported } from './errors.js';

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

/** The default of every `maxPixels` option: 50 megapixels (a 48 MP photo fits; 200 MB as RGBA bytes). */
export const DEFAULT_MAX_PIXELS = 50_000_000;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const startsWith = (bytes: Uint8Array, prefix: readonly number[], at = 0) =>
  bytes.length >= at + prefix.length && prefix.every((byte, i) => bytes[at + i] === byte);
const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));
const u16be = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
const u16le = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const u24le = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16);
const u32be = (b: Uint8Array, at: number) =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

/**
 * The format and size an image's header declares. `name` (a file name, or 'bytes') goes into messages.
 * Throws UNSUPPORTED for a format outside PNG/JPEG/WebP/GIF, INVALID_ARGUMENT for an empty or truncated
 * header. It does not check the size: see `checkImageSize`.
 */
export function readImageHeader(bytes: Uint8Array, name = 'bytes'): ImageHeader {
  if (!(bytes instanceof Uint8Array))
    invalidArgument(`readImageHeader: ${name} must be a Uint8Array, got ${typeof bytes}`);
  if (bytes.length === 0) invalidArgument(`image ${name} is empty (0 bytes)`);
  const truncated = (format: string, need: string): never =>
    invalidArgument(`image ${name}: truncated ${format} header (${bytes.length} bytes; ${need})`);
  if (startsWith(bytes, PNG_SIGNATURE)) {
    if (bytes.length < 24) truncated('PNG', 'the IHDR chunk needs 24');
    if (!startsWith(bytes, ascii('IHDR'), 12))
      invalidArgument(`image ${name}: corrupt PNG (the first chunk is not IHDR)`);
    return { format: 'png', width: u32be(bytes, 16), height: u32be(bytes, 20) };
  }
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) {
    if (bytes.length < 10) truncated('GIF', 'the screen descriptor needs 10');
    return { format: 'gif', width: u16le(bytes, 6), height: u16le(bytes, 8) };
  }
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return jpegHeader(bytes, name, truncated);
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8))
    return webpHeader(bytes, name, truncated);
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return unsupported(`image ${name}: not a PNG, JPEG, WebP or GIF file (first bytes: ${head})`);
}

function jpegHeader(bytes: Uint8Array, name: string, truncated: (f: string, need: string) => never) {
  let at = 2;
  while (at < bytes.length) {
    if (bytes[at] !== 0xff) invalidArgument(`image ${name}: corrupt JPEG (no marker at byte ${at})`);
    while (bytes[at] === 0xff) at++; // fill bytes before a marker (T.81 B.1.1.2)
    const marker = bytes[at];
    if (marker === undefined) break;
    at++;
    // markers without a length: TEM, RSTn, SOI, EOI
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      if (marker === 0xd9) invalidArgument(`image ${name}: corrupt JPEG (end of image before any frame)`);
      continue;
    }
    if (at + 2 > bytes.length) break;
    const length = u16be(bytes, at);
    if (length < 2) invalidArgument(`image ${name}: corrupt JPEG (segment length ${length} at byte ${at})`);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (at + 7 > bytes.length) break;
      return { format: 'jpeg' as const, width: u16be(bytes, at + 5), height: u16be(bytes, at + 3) };
    }
    if (marker === 0xda) invalidArgument(`image ${name}: corrupt JPEG (scan data before any frame header)`);
    at += length;
  }
  return truncated('JPEG', 'it ends before the frame header (SOFn)');
}

function webpHeader(bytes: Uint8Array, name: string, truncated: (f: string, need: string) => never) {
  if (bytes.length < 30) truncated('WebP', 'the first chunk needs 30');
  const data = 20;
  if (startsWith(bytes, ascii('VP8 '), 12)) {
    // VP8 key frame (RFC 6386 9.1): 3-byte frame tag, start code 9d 01 2a, 14-bit width and height
    if (!startsWith(bytes, [0x9d, 0x01, 0x2a], data + 3))
      invalidArgument(`image ${name}: corrupt WebP (VP8 start code missing)`);
    return {
      format: 'webp' as const,
      width: u16le(bytes, data + 6) & 0x3fff,
      height: u16le(bytes, data + 8) & 0x3fff,
    };
  }
  if (startsWith(bytes, ascii('VP8L'), 12)) {
    // lossless bitstream: signature 0x2f, then 14 bits width - 1 and 14 bits height - 1, little-endian
    if (bytes[data] !== 0x2f) invalidArgument(`image ${name}: corrupt WebP (VP8L signature missing)`);
    const bits =
      (bytes[data + 1]! | (bytes[data + 2]! << 8) | (bytes[data + 3]! << 16) | (bytes[data + 4]! << 24)) >>>
      0;
    return { format: 'webp' as const, width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (startsWith(bytes, ascii('VP8X'), 12)) {
    // extended format: 24-bit canvas width - 1 and height - 1 after 4 bytes of flags
    return { format: 'webp' as const, width: u24le(bytes, data + 4) + 1, height: u24le(bytes, data + 7) + 1 };
  }
  return invalidArgument(`image ${name}: corrupt WebP (first chunk is not VP8, VP8L or VP8X)`);
}

export interface DecodeOptions {
  /** Refuse images with more pixels than this (width x height). Default DEFAULT_MAX_PIXELS (50 M). */
  maxPixels?: number;
}

/**
 * Refuses a zero-sized image or one above `maxPixels` (width x height), before any decoding. `where` names
 * the caller, `name` the image; `format`, when given, says the size came from that format's header.
 */
export function checkImageSize(
  size: { width: number; height: number; format?: string },
  maxPixels: number,
  where: string,
  name: string,
): void {
  const { width, height, format } = size;
  const source = format === undefined ? 'its size' : `${format} header`;
  if (width < 1 || height < 1)
    invalidArgument(`${where}: image ${name} is zero-sized (${source}: ${width} x ${height})`);
  if (width * height > maxPixels)
    invalidArgument(
      `${where}: image ${name} is ${width} x ${height} = ${width * height} pixels (${source}), ` +
        `above maxPixels ${maxPixels}; pass a larger maxPixels to decode it`,
    );
}

export function checkMaxPixels(value: unknown, where: string): number {
  if (value === undefined) return DEFAULT_MAX_PIXELS;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    invalidArgument(`${where}: maxPixels must be a positive integer, got ${String(value)}`);
  return value;
}
