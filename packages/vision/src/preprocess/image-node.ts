/**
 * Images in Node through sharp (libvips): decode PNG, JPEG, WebP and GIF (first frame) to RGBA bytes, and
 * encode RGBA bytes to PNG. Everything between (resize, crop, normalize) is the shared code of pixels.ts,
 * the same the browser path (image-browser.ts) runs.
 *
 * Safety: the header is read first (our readImageHeader, then sharp's `metadata()`, which decodes no
 * pixels) and an image above `maxPixels` or of zero size is refused before any pixel buffer exists;
 * sharp's own `limitInputPixels` is set to the same limit as a second fence, and `failOn: 'warning'`
 * makes truncated or corrupt pixel data an error instead of a half-gray image.
 */
import { io, MultiheadError } from '@multihead/core';
import { describeType, invalidArgument, ioError, messageOf } from './errors.js';
import { checkImageSize, checkMaxPixels, type DecodeOptions, readImageHeader } from './image-header.js';
import { loadSharp, nodeFs } from './node.js';
import {
  checkRgbaImage,
  type ImageArray,
  type ImageBatch,
  type PreprocessOptions,
  preprocessImage,
  type RgbaImage,
  stackImages,
} from './pixels.js';

async function sourceBytes(
  source: string | Uint8Array,
  where: string,
): Promise<{ bytes: Uint8Array; name: string }> {
  if (source instanceof Uint8Array) return { bytes: source, name: 'bytes' };
  if (typeof source !== 'string')
    invalidArgument(`${where}: source must be a file path or a Uint8Array, got ${describeType(source)}`);
  const fs = await nodeFs();
  try {
    const file = await fs.readFile(source);
    return { bytes: new Uint8Array(file.buffer, file.byteOffset, file.byteLength), name: source };
  } catch (error) {
    return ioError(`${where}: cannot read image file ${source}: ${messageOf(error)}`);
  }
}

/**
 * Decodes an image file or its bytes to RGBA (8 bits per channel, sRGB, EXIF orientation applied as
 * browsers do). PNG, JPEG, WebP and GIF (first frame) only; others are refused (UNSUPPORTED).
 */
export async function decodeImage(
  source: string | Uint8Array,
  options: DecodeOptions = {},
): Promise<RgbaImage> {
  const where = 'decodeImage';
  const maxPixels = checkMaxPixels(options.maxPixels, where);
  const { bytes, name } = await sourceBytes(source, where);
  const header = readImageHeader(bytes, name);
  checkImageSize(header, maxPixels, where, name);
  const sharp = await loadSharp();
  const input = { limitInputPixels: maxPixels, failOn: 'warning', autoOrient: true, pages: 1 } as const;
  let metadata: import('sharp').Metadata;
  try {
    metadata = await sharp(bytes, input).metadata();
  } catch (error) {
    return invalidArgument(`${where}: image ${name} is corrupt (${header.format}): ${messageOf(error)}`);
  }
  if (metadata.format !== header.format)
    invalidArgument(`${where}: image ${name} looks like ${header.format} but sharp reads ${metadata.format}`);
  checkImageSize(
    { format: header.format, width: metadata.width, height: metadata.height },
    maxPixels,
    where,
    name,
  );
  try {
    const { data, info } = await sharp(bytes, input)
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4 || data.length !== info.width * info.height * 4)
      invalidArgument(`${where}: image ${name} decoded to ${info.channels} channels, expected RGBA`);
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
  } catch (error) {
    if (error instanceof MultiheadError) throw error;
    return invalidArgument(
      `${where}: image ${name} is corrupt or truncated (${header.format}): ${messageOf(error)}`,
    );
  }
}

/** decodeImage, then preprocessImage: a file or bytes -> a `[C, H, W]` float array. */
export async function loadImage(
  source: string | Uint8Array,
  options: PreprocessOptions & DecodeOptions = {},
): Promise<ImageArray> {
  return preprocessImage(await decodeImage(source, options), options);
}

/**
 * Several files or byte arrays -> `[B, C, H, W]`, one after another (so only one decoded image is alive at
 * a time). Every image must come out the same size: give `resize` and `crop` (or `resize` as `{ width,
 * height }`) when their sizes differ.
 */
export async function loadImageBatch(
  sources: readonly (string | Uint8Array)[],
  options: PreprocessOptions & DecodeOptions = {},
): Promise<ImageBatch> {
  if (!Array.isArray(sources) || sources.length === 0)
    invalidArgument(`loadImageBatch: sources must be a non-empty array, got ${describeType(sources)}`);
  const images: ImageArray[] = [];
  for (const source of sources) images.push(await loadImage(source, options));
  return stackImages(images);
}

/** RGBA bytes -> PNG file bytes (sharp; 8-bit RGBA, no color profile chunks). */
export async function encodePng(image: RgbaImage): Promise<Uint8Array> {
  const { width, height, data } = checkRgbaImage(image, 'encodePng');
  const sharp = await loadSharp();
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const png = await sharp(raw, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
}

/** encodePng, written to `path` atomically (a crash leaves no half file). */
export async function writePng(path: string, image: RgbaImage): Promise<void> {
  if (typeof path !== 'string' || path === '')
    invalidArgument(`writePng: path must be a non-empty string, got ${describeType(path)}`);
  await io.writeFileAtomic(path, await encodePng(image), 'writePng');
}
