/**
 * Images in a browser: `ImageData`, `ImageBitmap`, canvases and `<img>` elements to RGBA bytes, file
 * bytes decoded by the browser (`createImageBitmap`), and RGBA bytes back to `ImageData` or PNG bytes.
 * Resize, crop and normalization are the shared code of pixels.ts, the same Node runs after sharp, so both
 * paths give the same numbers for the same RGBA pixels (packages/vision/test/browser.test.ts checks it).
 *
 * A canvas stores premultiplied alpha, so colors read back through one are exact only where alpha = 255;
 * elsewhere they are rounded to what alpha x color / 255 can hold (about 128 / alpha levels: at most 1 for
 * alpha >= 128, measured in test/browser.test.ts). ImageData given directly is read as it is.
 */
import { describeType, invalidArgument, messageOf, unsupported } from './errors.js';
import { checkImageSize, checkMaxPixels, type DecodeOptions, readImageHeader } from './image-header.js';
import {
  checkRgbaImage,
  type ImageArray,
  type PreprocessOptions,
  preprocessImage,
  type RgbaImage,
} from './pixels.js';

/** What a 2-D canvas can draw, plus ImageData. */
export type BrowserImageSource =
  | ImageData
  | ImageBitmap
  | HTMLCanvasElement
  | OffscreenCanvas
  | HTMLImageElement;

type Canvas2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

function makeCanvas(
  width: number,
  height: number,
  where: string,
): { canvas: OffscreenCanvas | HTMLCanvasElement; context: Canvas2D } {
  let canvas: OffscreenCanvas | HTMLCanvasElement;
  if (typeof OffscreenCanvas !== 'undefined') canvas = new OffscreenCanvas(width, height);
  else if (typeof document !== 'undefined') {
    canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
  } else
    return unsupported(
      `${where}: needs a browser (OffscreenCanvas or document); in Node use decodeImage / encodePng`,
    );
  const context = canvas.getContext('2d', { willReadFrequently: true }) as Canvas2D | null;
  if (context === null) return unsupported(`${where}: this browser gave no 2-D canvas context`);
  return { canvas, context };
}

function sourceSize(source: BrowserImageSource): { width: number; height: number } {
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement)
    return { width: source.naturalWidth, height: source.naturalHeight };
  return { width: source.width, height: source.height };
}

const isImageData = (source: unknown): source is ImageData =>
  typeof ImageData !== 'undefined' ? source instanceof ImageData : false;

/**
 * The RGBA bytes of an ImageData (shared, not copied), or of anything a canvas can draw (drawn at its
 * natural size into a scratch canvas and read back).
 */
export function rgbaFromBrowserImage(source: BrowserImageSource, options: DecodeOptions = {}): RgbaImage {
  const where = 'rgbaFromBrowserImage';
  const maxPixels = checkMaxPixels(options.maxPixels, where);
  if (typeof source !== 'object' || source === null)
    invalidArgument(
      `${where}: source must be ImageData, ImageBitmap, a canvas or an <img>, got ${describeType(source)}`,
    );
  const { width, height } = sourceSize(source);
  if (typeof width !== 'number' || typeof height !== 'number')
    invalidArgument(
      `${where}: source must be ImageData, ImageBitmap, a canvas or an <img>, got ${describeType(source)}`,
    );
  checkImageSize({ width, height }, maxPixels, where, 'source');
  if (isImageData(source)) return { width, height, data: source.data };
  const { context } = makeCanvas(width, height, where);
  context.drawImage(source as CanvasImageSource, 0, 0);
  return { width, height, data: context.getImageData(0, 0, width, height).data };
}

/**
 * Decodes PNG, JPEG, WebP or GIF (first frame) bytes with the browser's decoder, after checking the header
 * (format, zero size, `maxPixels`) as decodeImage does in Node. EXIF orientation is applied.
 */
export async function decodeImageInBrowser(
  source: Uint8Array | Blob,
  options: DecodeOptions = {},
): Promise<RgbaImage> {
  const where = 'decodeImageInBrowser';
  const maxPixels = checkMaxPixels(options.maxPixels, where);
  let bytes: Uint8Array;
  if (source instanceof Uint8Array) bytes = source;
  else if (typeof Blob !== 'undefined' && source instanceof Blob)
    bytes = new Uint8Array(await source.arrayBuffer());
  else return invalidArgument(`${where}: source must be a Uint8Array or a Blob, got ${describeType(source)}`);
  const header = readImageHeader(bytes, 'bytes');
  checkImageSize(header, maxPixels, where, 'bytes');
  let bitmap: ImageBitmap;
  try {
    const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: `image/${header.format}` });
    bitmap = await createImageBitmap(blob, { premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch (error) {
    return invalidArgument(
      `${where}: the browser could not decode the ${header.format} image (corrupt or truncated): ${messageOf(error)}`,
    );
  }
  try {
    return rgbaFromBrowserImage(bitmap, { maxPixels });
  } finally {
    bitmap.close();
  }
}

/** decodeImageInBrowser (bytes, Blob) or rgbaFromBrowserImage (the rest), then preprocessImage. */
export async function loadImageInBrowser(
  source: Uint8Array | Blob | BrowserImageSource,
  options: PreprocessOptions & DecodeOptions = {},
): Promise<ImageArray> {
  const decodeOptions = options.maxPixels === undefined ? {} : { maxPixels: options.maxPixels };
  const rgba =
    source instanceof Uint8Array || (typeof Blob !== 'undefined' && source instanceof Blob)
      ? await decodeImageInBrowser(source, decodeOptions)
      : rgbaFromBrowserImage(source as BrowserImageSource, decodeOptions);
  return preprocessImage(rgba, options);
}

/** RGBA bytes -> ImageData (copied), for `putImageData` or `createImageBitmap`. */
export function rgbaToImageData(image: RgbaImage): ImageData {
  const { width, height, data } = checkRgbaImage(image, 'rgbaToImageData');
  if (typeof ImageData === 'undefined') unsupported('rgbaToImageData: needs a browser (ImageData)');
  return new ImageData(new Uint8ClampedArray(data), width, height);
}

/** RGBA bytes -> PNG file bytes, through a canvas (see the file comment on alpha). */
export async function encodePngInBrowser(image: RgbaImage): Promise<Uint8Array> {
  const where = 'encodePngInBrowser';
  const { width, height } = checkRgbaImage(image, where);
  const { canvas, context } = makeCanvas(width, height, where);
  context.putImageData(rgbaToImageData(image), 0, 0);
  const blob =
    'convertToBlob' in canvas
      ? await canvas.convertToBlob({ type: 'image/png' })
      : await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (blob === null) unsupported(`${where}: the canvas gave no PNG (${width} x ${height})`);
  return new Uint8Array(await blob!.arrayBuffer());
}
