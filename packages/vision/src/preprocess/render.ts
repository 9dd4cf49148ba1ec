/**
 * From float arrays back to 8-bit RGBA pixels, and grids of images: pure pixel functions that both
 * environments' PNG encoders (image-node.ts, image-browser.ts) take as input.
 */
import { checkPositiveInteger, describeType, invalidArgument } from './errors.js';
import { checkRgbaImage, type RgbaImage } from './pixels.js';

export interface ToRgbaOptions {
  /** Undo a normalization: x * std[c] + mean[c] (give the mean and std that preprocessImage used). */
  mean?: readonly number[];
  std?: readonly number[];
  /** The values that become 0 and 255 (after undoing the normalization). Default [0, 1]. */
  range?: readonly [low: number, high: number];
}

export interface FloatImage {
  data: Float32Array | Float64Array | readonly number[];
  /** `[C, H, W]` with C = 1 (gray), 3 (RGB) or 4 (RGBA), or `[H, W]` (gray). */
  shape: readonly number[];
}

/**
 * A float image (`[C, H, W]` or `[H, W]`) -> RGBA bytes: un-normalized, mapped from `range` to [0, 255],
 * clamped and rounded to the nearest byte. NaN becomes 0. Gray images fill R, G and B; alpha is 255
 * unless C = 4.
 */
export function imageArrayToRgba(image: FloatImage, options: ToRgbaOptions = {}): RgbaImage {
  const where = 'imageArrayToRgba';
  if (typeof image !== 'object' || image === null || !Array.isArray(image.shape))
    invalidArgument(`${where}: image must be { data, shape }, got ${describeType(image)}`);
  const shape = Array.from(image.shape);
  const [channels, height, width] = shape.length === 2 ? [1, shape[0]!, shape[1]!] : shape;
  if (shape.length !== 2 && shape.length !== 3)
    invalidArgument(`${where}: shape must be [C, H, W] or [H, W], got [${shape.join(', ')}]`);
  if (channels !== 1 && channels !== 3 && channels !== 4)
    invalidArgument(
      `${where}: channels (shape[0]) must be 1, 3 or 4, got ${channels} in [${shape.join(', ')}]`,
    );
  checkPositiveInteger(height, 'height (shape[1])', where);
  checkPositiveInteger(width, 'width (shape[2])', where);
  const plane = height! * width!;
  if (image.data.length !== channels * plane)
    invalidArgument(
      `${where}: data has ${image.data.length} values, shape [${shape.join(', ')}] needs ${channels * plane}`,
    );
  const { mean, std } = options;
  if ((mean === undefined) !== (std === undefined))
    invalidArgument(`${where}: give mean and std together (got only ${mean === undefined ? 'std' : 'mean'})`);
  const perChannel = (values: readonly number[] | undefined, fallback: number, name: string) => {
    if (values === undefined) return new Array<number>(channels).fill(fallback);
    if (!Array.isArray(values) || (values.length !== 1 && values.length !== channels))
      invalidArgument(
        `${where}: ${name} must have 1 or ${channels} values, got ${describeType(values)} of ${values.length}`,
      );
    return Array.from({ length: channels }, (_, c) => values[values.length === 1 ? 0 : c]!);
  };
  const means = perChannel(mean, 0, 'mean');
  const stds = perChannel(std, 1, 'std');
  const [low, high] = options.range ?? [0, 1];
  if (!Number.isFinite(low) || !Number.isFinite(high) || !(high > low))
    invalidArgument(`${where}: range must be [low, high] with finite low < high, got [${low}, ${high}]`);
  const out = new Uint8Array(plane * 4);
  const toByte = (value: number, c: number) => {
    const v = ((value * stds[c]! + means[c]! - low) / (high - low)) * 255;
    return Number.isNaN(v) ? 0 : Math.min(255, Math.max(0, Math.round(v)));
  };
  for (let i = 0; i < plane; i++) {
    if (channels === 1) {
      const g = toByte(image.data[i]!, 0);
      out[4 * i] = g;
      out[4 * i + 1] = g;
      out[4 * i + 2] = g;
    } else for (let c = 0; c < 3; c++) out[4 * i + c] = toByte(image.data[c * plane + i]!, c);
    out[4 * i + 3] = channels === 4 ? toByte(image.data[3 * plane + i]!, 3) : 255;
  }
  return { width: width!, height: height!, data: out };
}

export interface GridOptions {
  /** Images per row. Default ceil(sqrt(N)). */
  columns?: number;
  /** Pixels between images and around the border. Default 2 (torchvision `make_grid`'s padding). */
  margin?: number;
  /** RGBA of the margin. Default white [255, 255, 255, 255]. */
  background?: readonly [number, number, number, number];
}

/**
 * Tiles images row by row, left to right, as torchvision's `make_grid`: cells take the largest width and
 * height among the images, a smaller image sits centered in its cell, `margin` pixels separate cells and
 * frame the grid.
 */
export function imageGrid(images: readonly RgbaImage[], options: GridOptions = {}): RgbaImage {
  const where = 'imageGrid';
  if (!Array.isArray(images) || images.length === 0)
    invalidArgument(`${where}: images must be a non-empty array of RGBA images, got ${describeType(images)}`);
  for (const [i, image] of images.entries()) checkRgbaImage(image, where, `images[${i}]`);
  const columns = checkPositiveInteger(
    options.columns ?? Math.ceil(Math.sqrt(images.length)),
    'columns',
    where,
  );
  const margin = options.margin ?? 2;
  if (!Number.isSafeInteger(margin) || margin < 0)
    invalidArgument(`${where}: margin must be a non-negative integer, got ${String(margin)}`);
  const background = options.background ?? [255, 255, 255, 255];
  if (background.length !== 4 || background.some((v) => !Number.isInteger(v) || v < 0 || v > 255))
    invalidArgument(
      `${where}: background must be 4 integers in [0, 255] (RGBA), got [${background.join(', ')}]`,
    );
  const cellWidth = Math.max(...images.map((image) => image.width));
  const cellHeight = Math.max(...images.map((image) => image.height));
  const rows = Math.ceil(images.length / columns);
  const width = columns * (cellWidth + margin) + margin;
  const height = rows * (cellHeight + margin) + margin;
  const out = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) out.set(background, 4 * i);
  images.forEach((image, i) => {
    const left = margin + (i % columns) * (cellWidth + margin) + Math.floor((cellWidth - image.width) / 2);
    const top =
      margin + Math.floor(i / columns) * (cellHeight + margin) + Math.floor((cellHeight - image.height) / 2);
    for (let y = 0; y < image.height; y++)
      out.set(
        image.data.subarray(y * image.width * 4, (y + 1) * image.width * 4),
        ((top + y) * width + left) * 4,
      );
  });
  return { width, height, data: out };
}
