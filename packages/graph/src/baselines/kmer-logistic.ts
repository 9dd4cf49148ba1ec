/**
 * graph/pfam's baseline: a bag of k-mers (default 3-mers, the features of ProtVec-era family classifiers
 * and of k-mer spectrum methods, Leslie et al. 2002) under a multinomial logistic regression. A sequence
 * becomes the counts of its overlapping k-mers over the 20 standard amino acids plus X (anything else),
 * sublinear (1 + log count) and L2-normalized; the model minimizes the mean softmax cross-entropy plus
 * λ/2·‖W‖² (bias free) by Nesterov's accelerated gradient with the step 1/L the normalized rows allow
 * (L ≤ 1/2 · (1 + 1) + λ: softmax curvature is at most 1/2 per unit-norm row, plus the bias feature).
 * λ is chosen on a hold-out of the training sequences (given, or a seeded 20%), then the model is refit on
 * all of them. graph/pfam gives a hold-out split by identity as its test split is: a random one keeps
 * near-duplicates of held-out sequences in the fit, so it rewards memorizing and picks the weakest λ.
 */
import { seededUniform } from '@multihead/core';
import { invalidArgument } from '../errors.js';

const ALPHABET = 'ACDEFGHIKLMNPQRSTVWY';
const LETTER_INDEX = new Map([...ALPHABET].map((c, i) => [c, i]));
/** Index of X: every residue outside the 20 standard ones. */
const OTHER = ALPHABET.length;

export interface KmerLogisticOptions {
  /** k of the k-mers (default 3). */
  k?: number;
  /** L2 penalty; default: the best of `l2Grid` on a hold-out of the training sequences. */
  l2?: number;
  l2Grid?: readonly number[];
  /** Indices of the sequences held out to choose `l2` (default a seeded 20%). */
  holdout?: readonly number[];
  /** Full-batch iterations (default 300). */
  iterations?: number;
  seed?: number;
}

interface SparseRow {
  index: Int32Array;
  value: Float64Array;
}

/** The sublinear, L2-normalized k-mer counts of one sequence. */
export function kmerFeatures(sequence: string, k: number): SparseRow {
  const counts = new Map<number, number>();
  const codes = Array.from(sequence.toUpperCase(), (c) => LETTER_INDEX.get(c) ?? OTHER);
  for (let i = 0; i + k <= codes.length; i++) {
    let id = 0;
    for (let j = 0; j < k; j++) id = id * (OTHER + 1) + codes[i + j]!;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const index = Int32Array.from(counts.keys());
  const value = Float64Array.from(index, (id) => 1 + Math.log(counts.get(id)!));
  const norm = Math.hypot(...value) || 1;
  for (let i = 0; i < value.length; i++) value[i]! /= norm;
  return { index, value };
}

export class KmerLogisticRegression {
  /** Use `fit`. */
  constructor(
    readonly k: number,
    readonly classes: number,
    /** [features, classes] row-major. */
    private readonly weights: Float64Array,
    private readonly bias: Float64Array,
    readonly l2: number,
  ) {}

  static fit(
    sequences: readonly string[],
    labels: ArrayLike<number>,
    classes: number,
    opts: KmerLogisticOptions = {},
  ): KmerLogisticRegression {
    const where = 'KmerLogisticRegression.fit';
    if (sequences.length !== labels.length || sequences.length === 0) {
      invalidArgument(
        `${where}: ${sequences.length} sequences for ${labels.length} labels; expected as many, at least one`,
      );
    }
    const k = opts.k ?? 3;
    if (!Number.isInteger(k) || k < 1 || k > 5) invalidArgument(`${where}: k must be 1 to 5, got ${k}`);
    if (!Number.isInteger(classes) || classes < 2)
      invalidArgument(`${where}: classes must be an integer >= 2, got ${classes}`);
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i]!;
      if (!Number.isInteger(y) || y < 0 || y >= classes)
        invalidArgument(`${where}: labels[${i}] = ${y} is outside [0, ${classes})`);
    }
    const iterations = opts.iterations ?? 300;
    const rows = sequences.map((s) => kmerFeatures(s, k));
    let l2 = opts.l2;
    if (l2 === undefined) {
      const [val, fit] = holdoutSplit(rows.length, opts.holdout, opts.seed ?? 0, where);
      let best = Number.NEGATIVE_INFINITY;
      for (const candidate of opts.l2Grid ?? [1e-2, 1e-3, 1e-4, 1e-5]) {
        const model = fitRows(
          fit.map((i) => rows[i]!),
          fit.map((i) => labels[i]!),
          classes,
          k,
          candidate,
          iterations,
        );
        // accuracy first; the mean log-likelihood breaks ties
        let score = 0;
        for (const i of val) {
          const p = model.probabilitiesOfRow(rows[i]!);
          score += (argmax(p) === labels[i] ? 1 : 0) + 1e-3 * Math.log(Math.max(1e-12, p[labels[i]!]!));
        }
        if (score > best) [best, l2] = [score, candidate];
      }
    }
    return fitRows(rows, Array.from(labels), classes, k, l2!, iterations);
  }

  /** Class probabilities of one sequence. */
  predictProba(sequence: string): Float64Array {
    return this.probabilitiesOfRow(kmerFeatures(sequence, this.k));
  }

  predict(sequence: string): number {
    return argmax(this.predictProba(sequence));
  }

  private probabilitiesOfRow(row: SparseRow): Float64Array {
    const scores = Float64Array.from(this.bias);
    const C = this.classes;
    for (let n = 0; n < row.index.length; n++) {
      const base = row.index[n]! * C;
      for (let c = 0; c < C; c++) scores[c]! += row.value[n]! * this.weights[base + c]!;
    }
    return softmaxInPlace(scores);
  }
}

/** [held-out, fitted] indices: the given hold-out, else a seeded 20% of `n`. */
function holdoutSplit(
  n: number,
  holdout: readonly number[] | undefined,
  seed: number,
  where: string,
): [number[], number[]] {
  if (holdout !== undefined) {
    const held = new Set(holdout);
    for (const i of held)
      if (!Number.isInteger(i) || i < 0 || i >= n)
        invalidArgument(`${where}: holdout index ${i} is outside the ${n} sequences`);
    if (held.size === 0 || held.size === n)
      invalidArgument(`${where}: holdout has ${held.size} of ${n} sequences; expected some but not all`);
    const all = Array.from({ length: n }, (_, i) => i);
    return [[...held].sort((a, b) => a - b), all.filter((i) => !held.has(i))];
  }
  const random = seededUniform(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const held = Math.max(1, Math.round(n * 0.2));
  return [order.slice(0, held), order.slice(held)];
}

function fitRows(
  rows: readonly SparseRow[],
  labels: readonly number[],
  C: number,
  k: number,
  l2: number,
  iterations: number,
): KmerLogisticRegression {
  const F = (OTHER + 1) ** k;
  const n = rows.length;
  const step = 1 / (1 + l2);
  let w = new Float64Array(F * C);
  let b = new Float64Array(C);
  let prevW = new Float64Array(F * C);
  let prevB = new Float64Array(C);
  const lookW = new Float64Array(F * C);
  const lookB = new Float64Array(C);
  const gradW = new Float64Array(F * C);
  const gradB = new Float64Array(C);
  const scores = new Float64Array(C);
  let t = 1;
  for (let it = 0; it < iterations; it++) {
    const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    const momentum = (t - 1) / tNext;
    for (let j = 0; j < w.length; j++) lookW[j] = w[j]! + momentum * (w[j]! - prevW[j]!);
    for (let c = 0; c < C; c++) lookB[c] = b[c]! + momentum * (b[c]! - prevB[c]!);
    gradW.fill(0);
    gradB.fill(0);
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
      scores.set(lookB);
      for (let m = 0; m < row.index.length; m++) {
        const base = row.index[m]! * C;
        for (let c = 0; c < C; c++) scores[c]! += row.value[m]! * lookW[base + c]!;
      }
      softmaxInPlace(scores);
      scores[labels[i]!]! -= 1; // d(cross-entropy)/d(score)
      for (let m = 0; m < row.index.length; m++) {
        const base = row.index[m]! * C;
        for (let c = 0; c < C; c++) gradW[base + c]! += scores[c]! * row.value[m]!;
      }
      for (let c = 0; c < C; c++) gradB[c]! += scores[c]!;
    }
    [prevW, w] = [w, prevW];
    [prevB, b] = [b, prevB];
    for (let j = 0; j < w.length; j++) w[j] = lookW[j]! - step * (gradW[j]! / n + l2 * lookW[j]!);
    for (let c = 0; c < C; c++) b[c] = lookB[c]! - (step * gradB[c]!) / n;
    t = tNext;
  }
  return new KmerLogisticRegression(k, C, w, b, l2);
}

function softmaxInPlace(scores: Float64Array): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (const s of scores) max = Math.max(max, s);
  let total = 0;
  for (let c = 0; c < scores.length; c++) {
    scores[c] = Math.exp(scores[c]! - max);
    total += scores[c]!;
  }
  for (let c = 0; c < scores.length; c++) scores[c]! /= total;
  return scores;
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
