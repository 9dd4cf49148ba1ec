/**
 * Training-time augmentation on host float batches `[B, C, H, W]` (row-major, PyTorch's layout), seeded so a
 * run repeats exactly: torchvision's `RandomCrop(size, padding)` (zero padding, `padding_mode='constant'`,
 * `fill=0`) and `RandomHorizontalFlip(p)`. As with torchvision transforms applied per sample in a DataLoader,
 * every image of the batch gets its own draw. Pass a new seed per batch (for example one derived from the
 * epoch and the step); the same seed and batch always give the same pixels.
 */
import { MultiheadError, seededUniform } from '@multihead/core';

/** Float images stacked as `[B, C, H, W]`. */
interface Batch {
  data: Float32Array;
  shape: readonly [number, number, number, number];
}

type BatchOut = { data: Float32Array; shape: [number, number, number, number] };

export interface RandomCropOptions {
  /** Output side (a number for a square) or `{ width, height }`. */
  size: number | { width: number; height: number };
  /**
   * Zeros added before cropping, as torchvision: a number for all four sides, `[leftRight, topBottom]`, or
   * `[left, top, right, bottom]`. Default 0.
   */
  padding?: number | readonly [number, number] | readonly [number, number, number, number];
  /** Seed of the crop positions. */
  seed: number;
}

export interface RandomHorizontalFlipOptions {
  /** Probability that an image is mirrored left to right (default 0.5). */
  p?: number;
  /** Seed of the coin flips. */
  seed: number;
}

export interface AugmentOptions {
  /** A random crop first (see `randomCrop`); default none. */
  crop?: Omit<RandomCropOptions, 'seed'>;
  /** Then a horizontal flip with probability 0.5 (true) or `{ p }`; default none. */
  flip?: boolean | { p?: number };
  /** One seed for both; the crop and the flip draw from independent streams of it. */
  seed: number;
}

const invalid = (message: string): never => {
  throw new MultiheadError('INVALID_ARGUMENT', message);
};

function checkBatch(where: string, images: Batch): [number, number, number, number] {
  const shape = images?.shape;
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((d) => Number.isSafeInteger(d) && d >= 1))
    invalid(`${where}: images.shape must be [B, C, H, W] of positive integers, got ${JSON.stringify(shape)}`);
  if (!(images.data instanceof Float32Array))
    invalid(`${where}: images.data must be a Float32Array, got ${typeof images.data}`);
  const [B, C, H, W] = shape;
  if (images.data.length !== B * C * H * W) {
    invalid(
      `${where}: images.data has ${images.data.length} values; shape [${shape.join(', ')}] needs ${B * C * H * W}`,
    );
  }
  return [B, C, H, W];
}

/** A uniform stream for `seed` (any safe integer; its high bits are folded into the 32-bit state). */
function stream(where: string, seed: number, salt: number): () => number {
  if (!Number.isSafeInteger(seed)) invalid(`${where}: seed must be a safe integer, got ${seed}`);
  return seededUniform((Math.imul((seed ^ Math.floor(seed / 2 ** 32)) >>> 0, 0x9e3779b1) ^ salt) >>> 0);
}

function paddingOf(padding: RandomCropOptions['padding']): [number, number, number, number] {
  const p = padding ?? 0;
  const sides: readonly number[] =
    typeof p === 'number' ? [p, p, p, p] : p.length === 2 ? [p[0], p[1], p[0], p[1]] : p;
  if (sides.length !== 4 || !sides.every((s) => Number.isSafeInteger(s) && s >= 0)) {
    invalid(
      `randomCrop: padding must be a non-negative integer, [leftRight, topBottom] or [left, top, right, bottom], got ${JSON.stringify(padding)}`,
    );
  }
  return sides as [number, number, number, number];
}

function cropSize(size: RandomCropOptions['size']): [number, number] {
  const [h, w]: unknown[] = typeof size === 'number' ? [size, size] : [size?.height, size?.width];
  if (
    typeof h !== 'number' ||
    typeof w !== 'number' ||
    !Number.isSafeInteger(h) ||
    !Number.isSafeInteger(w) ||
    h < 1 ||
    w < 1
  )
    invalid(`randomCrop: size must be a positive integer or { width, height }, got ${JSON.stringify(size)}`);
  return [h as number, w as number];
}

/**
 * torchvision `RandomCrop(size, padding)`: pad each image with zeros, then cut a `size` window at a uniformly
 * drawn offset (top in [0, paddedH - h], left in [0, paddedW - w], drawn in that order per image).
 * images [B, C, H, W] -> [B, C, h, w].
 */
export function randomCrop(images: Batch, opts: RandomCropOptions): BatchOut {
  const [B, C, H, W] = checkBatch('randomCrop', images);
  const [th, tw] = cropSize(opts.size);
  const [left, top, right, bottom] = paddingOf(opts.padding);
  const [paddedH, paddedW] = [H + top + bottom, W + left + right];
  if (th > paddedH || tw > paddedW) {
    invalid(
      `randomCrop: crop ${th} × ${tw} (height × width) is larger than the padded image ${paddedH} × ${paddedW}`,
    );
  }
  const random = stream('randomCrop', opts.seed, 0x63726f70);
  const src = images.data;
  const out = new Float32Array(B * C * th * tw); // zeros: the padding
  for (let b = 0; b < B; b++) {
    const y0 = Math.floor(random() * (paddedH - th + 1)) - top; // window's top row in the unpadded image
    const x0 = Math.floor(random() * (paddedW - tw + 1)) - left;
    // the part of the window that lies on the image; the rest stays zero
    const [yFrom, yTo] = [Math.max(0, -y0), Math.min(th, H - y0)];
    const [xFrom, xTo] = [Math.max(0, -x0), Math.min(tw, W - x0)];
    for (let c = 0; c < C; c++) {
      const plane = (b * C + c) * H * W;
      const target = (b * C + c) * th * tw;
      for (let y = yFrom; y < yTo; y++) {
        const row = plane + (y0 + y) * W + x0;
        out.set(src.subarray(row + xFrom, row + xTo), target + y * tw + xFrom);
      }
    }
  }
  return { data: out, shape: [B, C, th, tw] };
}

/** torchvision `RandomHorizontalFlip(p)`: each image is mirrored left to right when its draw is below p. */
export function randomHorizontalFlip(images: Batch, opts: RandomHorizontalFlipOptions): BatchOut {
  const [B, C, H, W] = checkBatch('randomHorizontalFlip', images);
  const p = opts.p ?? 0.5;
  if (!(p >= 0 && p <= 1)) invalid(`randomHorizontalFlip: p must be in [0, 1], got ${opts.p}`);
  const random = stream('randomHorizontalFlip', opts.seed, 0x666c6970);
  const src = images.data;
  const out = Float32Array.from(src);
  for (let b = 0; b < B; b++) {
    if (!(random() < p)) continue;
    for (let r = 0; r < C * H; r++) {
      const row = (b * C * H + r) * W;
      for (let x = 0; x < W; x++) out[row + x] = src[row + W - 1 - x]!;
    }
  }
  return { data: out, shape: [B, C, H, W] };
}

/** The usual training pipeline: `randomCrop` (when `crop` is given), then `randomHorizontalFlip` (when `flip`). */
export function augment(images: Batch, opts: AugmentOptions): BatchOut {
  let out: BatchOut = { data: images.data, shape: [...checkBatch('augment', images)] };
  if (opts.crop) out = randomCrop(out, { ...opts.crop, seed: opts.seed });
  if (opts.flip) {
    const p = opts.flip === true ? 0.5 : (opts.flip.p ?? 0.5);
    out = randomHorizontalFlip(out, { p, seed: opts.seed });
  } else if (!opts.crop) out = { data: Float32Array.from(images.data), shape: out.shape };
  return out;
}
