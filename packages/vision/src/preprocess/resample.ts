/**
 * Resizing float planes ([C, H, W]) in our own TypeScript, so Node (sharp) and the browser (canvas) share
 * one resampler: the decoders only deliver RGBA bytes, and everything after that is this code.
 *
 *   'bilinear': the triangle filter of PIL's `Image.resize(BILINEAR)` and PyTorch's
 *     `F.interpolate(mode='bilinear', align_corners=False, antialias=True)` (upsample_bilinear2d_aa): when
 *     enlarging it is plain bilinear interpolation with half-pixel centers; when shrinking the triangle
 *     widens to the scale, so every input pixel counts (no aliasing). Computed in float, not rounded to
 *     8 bits between the passes as PIL does.
 *   'area': each output pixel is the mean of the input area it covers, weighted by exact overlap (OpenCV's
 *     INTER_AREA when shrinking; for whole-number ratios it equals `F.adaptive_avg_pool2d`). It keeps the
 *     image's mean.
 * Both are separable: rows, then columns, with weights computed once per axis.
 */
import { invalidArgument } from './errors.js';

export type Resample = 'bilinear' | 'area';

export const RESAMPLE_MODES: readonly Resample[] = ['bilinear', 'area'];

/** For each output index: the first input index and the normalized weights of the inputs from there. */
interface AxisWeights {
  start: Int32Array;
  weights: Float64Array[];
}

function bilinearWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  // PyTorch's _compute_indices_weights_aa (interp_size 2) and PIL's precompute_coeffs
  const support = Math.max(scale, 1);
  const invScale = 1 / support;
  const start = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const center = scale * (o + 0.5);
    const first = Math.max(Math.trunc(center - support + 0.5), 0);
    const end = Math.min(Math.trunc(center + support + 0.5), inSize);
    const w = new Float64Array(Math.max(end - first, 0));
    let total = 0;
    for (let j = 0; j < w.length; j++) {
      const value = Math.max(0, 1 - Math.abs((j + first - center + 0.5) * invScale));
      w[j] = value;
      total += value;
    }
    for (let j = 0; j < w.length; j++) w[j]! /= total;
    start[o] = first;
    weights.push(w);
  }
  return { start, weights };
}

function areaWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const start = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let o = 0; o < outSize; o++) {
    // the output pixel covers [lo, hi) in input coordinates; input pixel i covers [i, i + 1)
    const lo = o * scale;
    const hi = Math.min((o + 1) * scale, inSize);
    const first = Math.floor(lo);
    const last = Math.min(Math.ceil(hi), inSize);
    const w = new Float64Array(last - first);
    for (let i = first; i < last; i++) w[i - first] = (Math.min(i + 1, hi) - Math.max(i, lo)) / (hi - lo);
    start[o] = first;
    weights.push(w);
  }
  return { start, weights };
}

function axisWeights(inSize: number, outSize: number, resample: Resample): AxisWeights {
  return resample === 'area' ? areaWeights(inSize, outSize) : bilinearWeights(inSize, outSize);
}

/**
 * Resizes `channels` planes of `height` x `width` floats (`[C, H, W]`, row-major) to `outHeight` x
 * `outWidth`. Returns a new array; the input is not changed. Equal sizes return a copy.
 */
export function resizePlanes(
  planes: Float32Array,
  channels: number,
  height: number,
  width: number,
  outHeight: number,
  outWidth: number,
  resample: Resample = 'bilinear',
): Float32Array {
  const where = 'resizePlanes';
  if (!RESAMPLE_MODES.includes(resample))
    invalidArgument(`${where}: resample must be 'bilinear' or 'area', got ${String(resample)}`);
  for (const [name, value] of Object.entries({ channels, height, width, outHeight, outWidth }))
    if (!Number.isSafeInteger(value) || value < 1)
      invalidArgument(`${where}: ${name} must be a positive integer, got ${value}`);
  if (planes.length !== channels * height * width)
    invalidArgument(
      `${where}: planes has ${planes.length} values, expected channels x height x width = ` +
        `${channels} x ${height} x ${width} = ${channels * height * width}`,
    );
  if (outHeight === height && outWidth === width) return planes.slice();
  const columns = axisWeights(width, outWidth, resample);
  const rows = axisWeights(height, outHeight, resample);
  const wide = new Float32Array(height * outWidth); // one channel after the horizontal pass: [H, outW]
  const out = new Float32Array(channels * outHeight * outWidth);
  for (let c = 0; c < channels; c++) {
    const plane = c * height * width;
    for (let y = 0; y < height; y++) {
      const row = plane + y * width;
      for (let x = 0; x < outWidth; x++) {
        const first = row + columns.start[x]!;
        const w = columns.weights[x]!;
        let sum = 0;
        for (let j = 0; j < w.length; j++) sum += w[j]! * planes[first + j]!;
        wide[y * outWidth + x] = sum;
      }
    }
    const target = c * outHeight * outWidth;
    for (let y = 0; y < outHeight; y++) {
      const first = rows.start[y]!;
      const w = rows.weights[y]!;
      for (let x = 0; x < outWidth; x++) {
        let sum = 0;
        for (let j = 0; j < w.length; j++) sum += w[j]! * wide[(first + j) * outWidth + x]!;
        out[target + y * outWidth + x] = sum;
      }
    }
  }
  return out;
}
