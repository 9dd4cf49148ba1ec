/**
 * Classic baselines for clip classification, on the host, fitted in the same call as the model is scored:
 * each clip becomes one vector, the mean and the standard deviation over its frames of every log-mel bin
 * (the summary statistics behind mean-MFCC classifiers: MFCCs are a fixed linear map of the log-mel, a
 * DCT, so a linear model on the mean log-mel sees what one on the mean MFCCs sees). Two classifiers read
 * it after standardization: multinomial logistic regression (L2, its strength chosen on a seeded tenth of
 * the training clips) and nearest centroid.
 */
import { seededUniform } from '@multihead/core';
import { invalidArgument } from '../io/errors.js';

/** Vectors `[count, dims]` row-major, with integer labels in [0, classes). */
export interface LabelledVectors {
  x: Float32Array;
  labels: ArrayLike<number>;
  count: number;
  dims: number;
  classes: number;
}

/**
 * Mean and standard deviation over frames [first, first + frames) of each bin: `features` is one
 * example's `[totalFrames, bins]` row-major; returns `[2 * bins]` (means, then deviations).
 */
export function poolFrames(
  features: Float32Array,
  bins: number,
  first: number,
  frames: number,
): Float32Array {
  const total = features.length / bins;
  if (!Number.isInteger(total) || first < 0 || frames < 1 || first + frames > total) {
    invalidArgument(
      `poolFrames: frames [${first}, ${first + frames}) of an example of ${total} frames x ${bins} bins`,
    );
  }
  const out = new Float32Array(2 * bins);
  for (let b = 0; b < bins; b++) {
    let sum = 0;
    let squares = 0;
    for (let t = first; t < first + frames; t++) {
      const v = features[t * bins + b]!;
      sum += v;
      squares += v * v;
    }
    const mean = sum / frames;
    out[b] = mean;
    out[bins + b] = Math.sqrt(Math.max(0, squares / frames - mean * mean));
  }
  return out;
}

function checkVectors(fn: string, data: LabelledVectors): void {
  const { x, labels, count, dims, classes } = data;
  if (x.length !== count * dims || labels.length !== count || count < 1) {
    invalidArgument(
      `${fn}: ${x.length} values and ${labels.length} labels; expected ${count} x ${dims} and ${count}`,
    );
  }
  for (let i = 0; i < count; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= classes)
      invalidArgument(`${fn}: label ${i} is ${y}; expected [0, ${classes})`);
  }
}

/** Per-dimension mean and deviation of the training vectors (deviation 1 where a dimension is constant). */
export function standardizer(x: Float32Array, count: number, dims: number) {
  const mean = new Float64Array(dims);
  const std = new Float64Array(dims);
  for (let i = 0; i < count; i++) for (let d = 0; d < dims; d++) mean[d]! += x[i * dims + d]! / count;
  for (let i = 0; i < count; i++)
    for (let d = 0; d < dims; d++) std[d]! += (x[i * dims + d]! - mean[d]!) ** 2 / count;
  for (let d = 0; d < dims; d++) std[d] = Math.sqrt(std[d]!) || 1;
  return (v: Float32Array): Float64Array =>
    Float64Array.from(v, (value, i) => (value - mean[i % dims]!) / std[i % dims]!);
}

/** Nearest centroid (Euclidean, on standardized vectors). */
export class NearestCentroid {
  private constructor(
    private readonly centroids: Float64Array,
    private readonly dims: number,
    private readonly standardize: (v: Float32Array) => Float64Array,
  ) {}

  static fit(data: LabelledVectors): NearestCentroid {
    checkVectors('NearestCentroid.fit', data);
    const { x, labels, count, dims, classes } = data;
    const standardize = standardizer(x, count, dims);
    const z = standardize(x);
    const centroids = new Float64Array(classes * dims);
    const counts = new Float64Array(classes);
    for (let i = 0; i < count; i++) {
      counts[labels[i]!]!++;
      for (let d = 0; d < dims; d++) centroids[labels[i]! * dims + d]! += z[i * dims + d]!;
    }
    for (let c = 0; c < classes; c++)
      for (let d = 0; d < dims; d++) centroids[c * dims + d]! /= Math.max(1, counts[c]!);
    return new NearestCentroid(centroids, dims, standardize);
  }

  /** The class of each row of `x` `[count, dims]`. */
  predict(x: Float32Array): Int32Array {
    const z = this.standardize(x);
    const classes = this.centroids.length / this.dims;
    return Int32Array.from({ length: z.length / this.dims }, (_, i) => {
      let [best, bestDistance] = [0, Number.POSITIVE_INFINITY];
      for (let c = 0; c < classes; c++) {
        let distance = 0;
        for (let d = 0; d < this.dims; d++)
          distance += (z[i * this.dims + d]! - this.centroids[c * this.dims + d]!) ** 2;
        if (distance < bestDistance) [best, bestDistance] = [c, distance];
      }
      return best;
    });
  }
}

export interface LogisticOptions {
  /** L2 strengths tried (on a tenth of the training rows); default [1e-4, 1e-3, 1e-2, 1e-1]. */
  l2Grid?: readonly number[];
  /** Full-batch gradient steps (default 300). */
  iterations?: number;
  seed?: number;
}

/** Softmax regression by full-batch gradient descent with Nesterov momentum on standardized rows. */
function fitWeights(
  z: Float64Array,
  labels: ArrayLike<number>,
  rows: readonly number[],
  dims: number,
  classes: number,
  l2: number,
  iterations: number,
) {
  const width = dims + 1; // + bias
  const w = new Float64Array(classes * width);
  const velocity = new Float64Array(w.length);
  const grad = new Float64Array(w.length);
  const logits = new Float64Array(classes);
  const lr = 0.5;
  for (let it = 0; it < iterations; it++) {
    grad.fill(0);
    const look = w.map((v, i) => v + 0.9 * velocity[i]!);
    for (const r of rows) {
      let top = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < classes; c++) {
        let s = look[c * width + dims]!;
        for (let d = 0; d < dims; d++) s += look[c * width + d]! * z[r * dims + d]!;
        logits[c] = s;
        top = Math.max(top, s);
      }
      let total = 0;
      for (let c = 0; c < classes; c++) total += logits[c] = Math.exp(logits[c]! - top);
      for (let c = 0; c < classes; c++) {
        const g = logits[c]! / total - (labels[r] === c ? 1 : 0);
        for (let d = 0; d < dims; d++) grad[c * width + d]! += g * z[r * dims + d]!;
        grad[c * width + dims]! += g;
      }
    }
    for (let i = 0; i < w.length; i++) {
      const decay = i % width === dims ? 0 : l2 * look[i]!;
      velocity[i] = 0.9 * velocity[i]! - lr * (grad[i]! / rows.length + decay);
      w[i]! += velocity[i]!;
    }
  }
  return w;
}

export class LogisticRegression {
  private constructor(
    private readonly weights: Float64Array,
    private readonly dims: number,
    private readonly classes: number,
    private readonly standardize: (v: Float32Array) => Float64Array,
    /** The L2 strength chosen. */
    readonly l2: number,
  ) {}

  static fit(data: LabelledVectors, opts: LogisticOptions = {}): LogisticRegression {
    checkVectors('LogisticRegression.fit', data);
    const { x, labels, count, dims, classes } = data;
    const grid = opts.l2Grid ?? [1e-4, 1e-3, 1e-2, 1e-1];
    const iterations = opts.iterations ?? 300;
    if (grid.length === 0 || grid.some((l) => !(l >= 0)))
      invalidArgument(`LogisticRegression.fit: l2Grid ${grid.join(', ')}; expected values >= 0`);
    const standardize = standardizer(x, count, dims);
    const z = standardize(x);
    const all = Array.from({ length: count }, (_, i) => i);
    let l2 = grid[0]!;
    if (grid.length > 1 && count >= 20) {
      const random = seededUniform(opts.seed ?? 0);
      const held = new Set(all.filter(() => random() < 0.1));
      const fitRows = all.filter((i) => !held.has(i));
      let best = -1;
      for (const candidate of grid) {
        const model = new LogisticRegression(
          fitWeights(z, labels, fitRows, dims, classes, candidate, iterations),
          dims,
          classes,
          (v) => Float64Array.from(v),
          candidate,
        );
        const predicted = model.predictStandardized(z);
        const right = [...held].filter((i) => predicted[i] === labels[i]).length;
        if (right > best) [best, l2] = [right, candidate];
      }
    }
    return new LogisticRegression(
      fitWeights(z, labels, all, dims, classes, l2, iterations),
      dims,
      classes,
      standardize,
      l2,
    );
  }

  private predictStandardized(z: ArrayLike<number>): Int32Array {
    const width = this.dims + 1;
    return Int32Array.from({ length: z.length / this.dims }, (_, i) => {
      let [best, bestScore] = [0, Number.NEGATIVE_INFINITY];
      for (let c = 0; c < this.classes; c++) {
        let s = this.weights[c * width + this.dims]!;
        for (let d = 0; d < this.dims; d++) s += this.weights[c * width + d]! * z[i * this.dims + d]!;
        if (s > bestScore) [best, bestScore] = [c, s];
      }
      return best;
    });
  }

  /** The class of each row of `x` `[count, dims]`. */
  predict(x: Float32Array): Int32Array {
    return this.predictStandardized(this.standardize(x));
  }
}
