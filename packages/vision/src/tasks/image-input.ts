/**
 * A task's image input (the protocol's `image` kind) as RGBA pixels, in any environment: a file (a path in
 * Node, bytes, a Blob) decoded by sharp in Node or the browser's decoder in a page; decoded pixels
 * (`ImageData`, or `{ width, height, data, channels }` with 1, 3 or 4 channels); an `ImageBitmap` or a
 * canvas (drawn in the page).
 */
import { type InputValue, tasks } from '@multihead/core';
import { invalidArgument } from '../preprocess/errors.js';
import { decodeImageInBrowser, rgbaFromBrowserImage } from '../preprocess/image-browser.js';
import { decodeImage } from '../preprocess/image-node.js';
import type { RgbaImage } from '../preprocess/pixels.js';
import { resizePlanes } from '../preprocess/resample.js';

const inNode = () => typeof globalThis.process?.versions?.node === 'string';

function isPixels(value: object): value is tasks.PixelsInput {
  const v = value as Partial<tasks.PixelsInput>;
  return (
    typeof v.width === 'number' &&
    typeof v.height === 'number' &&
    (v.data instanceof Uint8Array || v.data instanceof Uint8ClampedArray)
  );
}

/** Gray, RGB or RGBA pixels as RGBA. */
function expand(p: tasks.PixelsInput, who: string): RgbaImage {
  const n = p.width * p.height;
  const channels = p.channels ?? (p.data.length === n ? 1 : p.data.length === 3 * n ? 3 : 4);
  if (![1, 3, 4].includes(channels) || p.data.length !== n * channels) {
    invalidArgument(
      `${who}: pixels of ${p.width} x ${p.height} with ${p.data.length} bytes; expected 1, 3 or 4 bytes a pixel (channels ${p.channels ?? 'not given'})`,
    );
  }
  if (channels === 4) return { width: p.width, height: p.height, data: p.data };
  const data = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) data[4 * i + c] = p.data[channels === 1 ? i : 3 * i + c]!;
    data[4 * i + 3] = 255;
  }
  return { width: p.width, height: p.height, data };
}

/** The RGBA pixels of an image input; `who` names the task in errors. */
export async function inputImage(value: InputValue | undefined, who: string): Promise<RgbaImage> {
  if (value === undefined || value === null || typeof value !== 'object') {
    return invalidArgument(
      `${who}: expected an image (a file, ImageData or pixels), got ${tasks.describeInput(value)}`,
    );
  }
  if (tasks.isFileInput(value)) {
    const { bytes } = await tasks.inputBytes(value, who);
    return inNode() ? decodeImage(bytes) : decodeImageInBrowser(bytes);
  }
  if (isPixels(value)) return expand(value, who);
  if (!inNode()) return rgbaFromBrowserImage(value as Parameters<typeof rgbaFromBrowserImage>[0]);
  return invalidArgument(
    `${who}: expected an image (a file, ImageData or pixels), got ${tasks.describeInput(value)}`,
  );
}

/** RGBA -> gray bytes (BT.601 luma, as PIL's convert('L')), row-major. */
export function grayBytes(image: RgbaImage): Uint8Array {
  const n = image.width * image.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const [r, g, b] = [image.data[4 * i]!, image.data[4 * i + 1]!, image.data[4 * i + 2]!];
    out[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
  }
  return out;
}

/** Gray bytes -> RGBA (for PNG encoders and overlays). */
export function grayToRgba(gray: Uint8Array, width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data.fill(gray[i]!, 4 * i, 4 * i + 3);
    data[4 * i + 3] = 255;
  }
  return { width, height, data };
}

/**
 * Any picture as a dataset image: gray, scaled (area resampling) so its longer side is `size`, centered
 * on a `size` x `size` canvas. Fashion-MNIST draws light garments on black: `invert` 'auto' inverts a
 * picture whose border is mostly light (a product photo on white), 'yes' and 'no' force it.
 */
export function fitGray(image: RgbaImage, size: number, invert: 'auto' | 'yes' | 'no'): Uint8Array {
  const { width, height } = image;
  const gray = Float32Array.from(grayBytes(image), (v) => v / 255);
  let border = 0;
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (y === 0 || x === 0 || y === height - 1 || x === width - 1) {
        border += gray[y * width + x]!;
        count++;
      }
    }
  }
  const flip = invert === 'yes' || (invert === 'auto' && border / count > 0.5);
  if (flip) for (let i = 0; i < gray.length; i++) gray[i] = 1 - gray[i]!;
  const scale = size / Math.max(width, height);
  const [w, h] = [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
  const resized = resizePlanes(gray, 1, height, width, h, w, 'area');
  const out = new Uint8Array(size * size);
  const [top, left] = [Math.floor((size - h) / 2), Math.floor((size - w) / 2)];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++)
      out[(top + y) * size + left + x] = Math.round(Math.min(1, Math.max(0, resized[y * w + x]!)) * 255);
  }
  return out;
}
