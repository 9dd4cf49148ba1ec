/**
 * Images as token sequences for autoregressive image models (ImageGPT, Chen et al. 2020): downsampled
 * (area), quantized to a small gray palette found by k-means on the training pixels (ImageGPT clusters
 * RGB values the same way), read in raster order. Token v < K is palette entry v.
 */
import { seededUniform } from '@multihead/core';
import { invalidArgument } from '../preprocess/errors.js';
import { resizePlanes } from '../preprocess/resample.js';
import type { ImageDataset } from './fashion-mnist.js';

/** `count` images of `side` x `side`, downsampled from `data` by area averaging, values in [0, 1]. */
export function downsampleImages(data: ImageDataset, side: number, count = data.count): Float32Array {
  if (!Number.isInteger(side) || side < 1)
    invalidArgument(`downsampleImages: side must be a positive integer, got ${side}`);
  const { height, width } = data;
  const out = new Float32Array(count * side * side);
  const plane = new Float32Array(height * width);
  for (let n = 0; n < count; n++) {
    for (let p = 0; p < plane.length; p++) plane[p] = data.images[n * plane.length + p]! / 255;
    out.set(resizePlanes(plane, 1, height, width, side, side, 'area'), n * side * side);
  }
  return out;
}

/**
 * A palette of `levels` gray values (ascending) by 1-D k-means (Lloyd's algorithm from quantile starts) on
 * a seeded sample of `values`.
 */
export function grayPalette(values: Float32Array, levels: number, seed = 0, sample = 200_000): number[] {
  if (!Number.isInteger(levels) || levels < 2 || levels > 256)
    invalidArgument(`grayPalette: levels must be an integer in [2, 256], got ${levels}`);
  if (values.length === 0) invalidArgument('grayPalette: no values');
  const uniform = seededUniform(seed);
  const n = Math.min(sample, values.length);
  const xs = Float64Array.from({ length: n }, () => values[Math.floor(uniform() * values.length)]!).sort();
  let centers = Array.from(
    { length: levels },
    (_, k) => xs[Math.min(n - 1, Math.floor(((k + 0.5) / levels) * n))]!,
  );
  for (let iter = 0; iter < 50; iter++) {
    const sum = new Float64Array(levels);
    const cnt = new Float64Array(levels);
    for (const x of xs) {
      const k = nearest(centers, x);
      sum[k]! += x;
      cnt[k]!++;
    }
    const next = centers.map((c, k) => (cnt[k]! > 0 ? sum[k]! / cnt[k]! : c));
    const moved = next.some((c, k) => Math.abs(c - centers[k]!) > 1e-7);
    centers = next;
    if (!moved) break;
  }
  return centers.sort((a, b) => a - b);
}

function nearest(palette: readonly number[], x: number): number {
  let best = 0;
  for (let k = 1; k < palette.length; k++)
    if (Math.abs(x - palette[k]!) < Math.abs(x - palette[best]!)) best = k;
  return best;
}

/** Values in [0, 1] -> palette indices (the nearest entry). */
export function quantize(values: Float32Array, palette: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = nearest(palette, values[i]!);
  return out;
}

/** Palette indices -> gray bytes. */
export function dequantize(tokens: ArrayLike<number>, palette: readonly number[]): Uint8Array {
  const out = new Uint8Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!(t >= 0 && t < palette.length))
      invalidArgument(`dequantize: token ${t} is not a palette index (0-${palette.length - 1})`);
    out[i] = Math.round(palette[t]! * 255);
  }
  return out;
}
