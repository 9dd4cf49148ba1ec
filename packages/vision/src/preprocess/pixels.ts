/**
 * The preprocessing both environments share, from 8-bit RGBA pixels (what sharp and a canvas decode to)
 * to float `[C, H, W]` arrays, in the order of torchvision's `Resize -> CenterCrop -> ToTensor ->
 * Normalize`: channel conversion, resize, center crop, scaling to [0, 1], per-channel (x - mean) / std.
 */
import { checkPositiveInteger, describeType, invalidArgument } from './errors.js';
import { RESAMPLE_MODES, type Resample, resizePlanes } from './resample.js';

/** 8-bit RGBA pixels, row-major, 4 bytes per pixel, not premultiplied (as in ImageData). */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** A float image `[C, H, W]` (PyTorch's layout), row-major. */
export interface ImageArray {
  data: Float32Array;
  shape: [channels: number, height: number, width: number];
}

/** Images stacked as `[B, C, H, W]`. */
export interface ImageBatch {
  data: Float32Array;
  shape: [batch: number, channels: number, height: number, width: number];
}

export type ChannelMode = 'rgb' | 'grayscale';

export interface Size {
  width: number;
  height: number;
}

export interface PreprocessOptions {
  /** 'rgb' (default: 3 channels, alpha dropped as PIL's convert('RGB') does) or 'grayscale' (1 channel). */
  channels?: ChannelMode;
  /**
   * A number: the shorter side becomes this and the longer one keeps the aspect ratio, truncated
   * (torchvision `Resize(int)`). `{ width, height }`: exactly this size. Default: no resize.
   */
  resize?: number | Size;
  /** Default 'bilinear' (antialiased when shrinking; see resample.ts). */
  resample?: Resample;
  /** A center crop after the resize: a number for a square, or `{ width, height }`. Default: none. */
  crop?: number | Size;
  /** Per-channel mean and std on the [0, 1] scale (one value, or one per channel). Default: none. */
  mean?: readonly number[];
  std?: readonly number[];
}

/** ImageNet's channel statistics (torchvision's and Hugging Face's ViT image processors). */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

// ITU-R BT.601 luma, as PIL's convert('L') (there rounded to 8 bits; here kept in float)
const LUMA = [0.299, 0.587, 0.114] as const;

export function checkRgbaImage(image: unknown, where: string, name = 'image'): RgbaImage {
  if (typeof image !== 'object' || image === null)
    invalidArgument(
      `${where}: ${name} must be { width, height, data } (RGBA bytes), got ${describeType(image)}`,
    );
  const { width, height, data } = image as Partial<RgbaImage>;
  checkPositiveInteger(width, `${name}.width`, where);
  checkPositiveInteger(height, `${name}.height`, where);
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray))
    invalidArgument(
      `${where}: ${name}.data must be a Uint8Array or Uint8ClampedArray, got ${describeType(data)}`,
    );
  if (data.length !== width! * height! * 4)
    invalidArgument(
      `${where}: ${name}.data has ${data.length} bytes, expected width x height x 4 = ${width} x ${height} x 4 = ${width! * height! * 4}`,
    );
  return image as RgbaImage;
}

/** RGBA bytes -> `[C, H, W]` floats in [0, 1]: C = 3 (RGB, alpha dropped) or 1 (BT.601 luma). */
export function rgbaToPlanes(image: RgbaImage, channels: ChannelMode = 'rgb'): ImageArray {
  const { width, height, data } = checkRgbaImage(image, 'rgbaToPlanes');
  const n = width * height;
  if (channels === 'grayscale') {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++)
      out[i] = (LUMA[0] * data[4 * i]! + LUMA[1] * data[4 * i + 1]! + LUMA[2] * data[4 * i + 2]!) / 255;
    return { data: out, shape: [1, height, width] };
  }
  if (channels !== 'rgb')
    invalidArgument(`rgbaToPlanes: channels must be 'rgb' or 'grayscale', got ${String(channels)}`);
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    out[i] = data[4 * i]! / 255;
    out[n + i] = data[4 * i + 1]! / 255;
    out[2 * n + i] = data[4 * i + 2]! / 255;
  }
  return { data: out, shape: [3, height, width] };
}

function checkSize(value: number | Size, name: string, where: string): void {
  if (typeof value === 'number') checkPositiveInteger(value, name, where);
  else if (typeof value === 'object' && value !== null) {
    checkPositiveInteger(value.width, `${name}.width`, where);
    checkPositiveInteger(value.height, `${name}.height`, where);
  } else
    invalidArgument(`${where}: ${name} must be a number or { width, height }, got ${describeType(value)}`);
}

/** The size `resize` gives an image of `height` x `width` (torchvision `Resize` for a number). */
export function resizedSize(height: number, width: number, resize: number | Size): Size {
  if (typeof resize !== 'number') return { width: resize.width, height: resize.height };
  if (width <= height) return { width: resize, height: Math.trunc((resize * height) / width) };
  return { width: Math.trunc((resize * width) / height), height: resize };
}

/**
 * Center crop of `[C, H, W]` to `height` x `width`. The offsets are floor((H - height) / 2) and
 * floor((W - width) / 2), as Hugging Face's `center_crop` (torchvision rounds half to even instead).
 * A crop larger than the image is refused.
 */
export function centerCrop(image: ImageArray, size: Size): ImageArray {
  const [channels, height, width] = image.shape;
  if (size.height > height || size.width > width)
    invalidArgument(
      `centerCrop: crop ${size.width} x ${size.height} (width x height) is larger than the image ` +
        `${width} x ${height}; resize to at least the crop size first`,
    );
  const top = Math.floor((height - size.height) / 2);
  const left = Math.floor((width - size.width) / 2);
  const out = new Float32Array(channels * size.height * size.width);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < size.height; y++) {
      const from = (c * height + top + y) * width + left;
      out.set(image.data.subarray(from, from + size.width), (c * size.height + y) * size.width);
    }
  return { data: out, shape: [channels, size.height, size.width] };
}

function channelValues(values: readonly number[], channels: number, name: string, where: string): number[] {
  if (!Array.isArray(values) || (values.length !== 1 && values.length !== channels))
    invalidArgument(
      `${where}: ${name} must be an array of 1 or ${channels} numbers (one per channel), got ${Array.isArray(values) ? `${values.length} values` : describeType(values)}`,
    );
  for (const value of values)
    if (typeof value !== 'number' || !Number.isFinite(value))
      invalidArgument(`${where}: ${name} must hold finite numbers, got ${String(value)}`);
  return Array.from({ length: channels }, (_, c) => values[values.length === 1 ? 0 : c]!);
}

/** (x - mean[c]) / std[c] per channel, into a new array. */
export function normalize(image: ImageArray, mean: readonly number[], std: readonly number[]): ImageArray {
  const where = 'normalize';
  const [channels, height, width] = image.shape;
  const means = channelValues(mean, channels, 'mean', where);
  const stds = channelValues(std, channels, 'std', where);
  for (const s of stds) if (s <= 0) invalidArgument(`${where}: std must be positive, got ${s}`);
  const plane = height * width;
  const out = new Float32Array(image.data.length);
  for (let c = 0; c < channels; c++)
    for (let i = c * plane; i < (c + 1) * plane; i++) out[i] = (image.data[i]! - means[c]!) / stds[c]!;
  return { data: out, shape: [channels, height, width] };
}

/** RGBA pixels -> a normalized `[C, H, W]` float array (see PreprocessOptions for each step). */
export function preprocessImage(image: RgbaImage, options: PreprocessOptions = {}): ImageArray {
  const where = 'preprocessImage';
  checkRgbaImage(image, where);
  const { resize, crop, mean, std } = options;
  const resample = options.resample ?? 'bilinear';
  if (!RESAMPLE_MODES.includes(resample))
    invalidArgument(`${where}: resample must be 'bilinear' or 'area', got ${String(resample)}`);
  if (resize !== undefined) checkSize(resize, 'resize', where);
  if (crop !== undefined) checkSize(crop, 'crop', where);
  if ((mean === undefined) !== (std === undefined))
    invalidArgument(`${where}: give mean and std together (got only ${mean === undefined ? 'std' : 'mean'})`);
  let array = rgbaToPlanes(image, options.channels ?? 'rgb');
  if (resize !== undefined) {
    const [channels, height, width] = array.shape;
    const size = resizedSize(height, width, resize);
    const data = resizePlanes(array.data, channels, height, width, size.height, size.width, resample);
    array = { data, shape: [channels, size.height, size.width] };
  }
  if (crop !== undefined)
    array = centerCrop(array, typeof crop === 'number' ? { width: crop, height: crop } : crop);
  if (mean !== undefined && std !== undefined) array = normalize(array, mean, std);
  return array;
}

/** Stacks equal-shaped `[C, H, W]` arrays into `[B, C, H, W]`. */
export function stackImages(images: readonly ImageArray[]): ImageBatch {
  const where = 'stackImages';
  if (!Array.isArray(images) || images.length === 0)
    invalidArgument(`${where}: images must be a non-empty array, got ${describeType(images)}`);
  const [channels, height, width] = images[0]!.shape;
  const size = channels * height * width;
  const data = new Float32Array(images.length * size);
  images.forEach((image, i) => {
    const [c, h, w] = image.shape;
    if (c !== channels || h !== height || w !== width)
      invalidArgument(
        `${where}: image ${i} has shape [${image.shape.join(', ')}], expected [${channels}, ${height}, ${width}] ` +
          'like image 0 (give every image the same resize and crop)',
      );
    if (image.data.length !== size)
      invalidArgument(
        `${where}: image ${i} has ${image.data.length} values for shape [${image.shape.join(', ')}]`,
      );
    data.set(image.data, i * size);
  });
  return { data, shape: [images.length, channels, height, width] };
}
