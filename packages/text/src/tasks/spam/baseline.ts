/**
 * text/spam's bars: accuracy / precision / recall / F1 with spam as the positive class, and two
 * L2-regularized logistic regressions over the very tokens the model reads (plain bag of words, tf-idf).
 */
import { seededShuffle } from '../../data/split.js';
import { invalidArgument } from '../../errors.js';

export interface BinaryMetrics extends Record<string, number> {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Accuracy, and precision / recall / F1 of class 1, from predicted and true classes (0 or 1). */
export function binaryMetrics(predicted: ArrayLike<number>, actual: ArrayLike<number>): BinaryMetrics {
  if (predicted.length !== actual.length || actual.length === 0) {
    invalidArgument(
      `binaryMetrics: ${predicted.length} predictions for ${actual.length} labels; expected as many, at least one`,
    );
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let right = 0;
  for (let i = 0; i < actual.length; i++) {
    const [p, a] = [predicted[i]!, actual[i]!];
    if (p === a) right++;
    if (p === 1 && a === 1) tp++;
    else if (p === 1) fp++;
    else if (a === 1) fn++;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { accuracy: right / actual.length, precision, recall, f1 };
}

// ---- baselines: bag-of-words and tf-idf L2-regularized logistic regression -----------------------

/**
 * Features of a document: 'tfidf' is sublinear tf (1 + log count) times smoothed idf (scikit-learn's
 * `TfidfVectorizer(sublinear_tf=True)`); 'counts' is the plain bag of words (term counts,
 * `CountVectorizer`). Rows are L2-normalized either way.
 */
export type BagOfWordsWeighting = 'tfidf' | 'counts';

export interface BagOfWordsLogisticRegressionOptions {
  /** Feature ids are below this (the tokenizer's vocabSize). */
  vocabSize: number;
  /** Default 'tfidf'. */
  weighting?: BagOfWordsWeighting;
  /**
   * L2 penalty λ on the weights (the bias is not penalized). Default: the best of `l2Grid` on a seeded
   * 20% hold-out of the training documents, then refit on all of them.
   */
  l2?: number;
  l2Grid?: readonly number[];
  /** Full-batch gradient iterations (default 2000). */
  iterations?: number;
  seed?: number;
}

/** A document as sparse, L2-normalized tf-idf features. */
interface SparseRow {
  index: Int32Array;
  value: Float64Array;
}

/**
 * Bag-of-words logistic regression: tf-idf or count features (see BagOfWordsWeighting), rows
 * L2-normalized, then the mean logistic loss plus
 * λ/2·‖w‖² minimized by Nesterov's accelerated gradient with the step 1/L that the normalized rows give
 * (L ≤ 1/4 · 2 + λ: features and the constant bias feature each have norm ≤ 1). A strongly convex
 * problem, so the fit does not depend on initialization or order.
 */
export class BagOfWordsLogisticRegression {
  private constructor(
    readonly weighting: BagOfWordsWeighting,
    /** Per-id factor: the smoothed idf ('tfidf') or ones ('counts'). */
    readonly idf: Float64Array,
    readonly weights: Float64Array,
    readonly bias: number,
    readonly l2: number,
  ) {}

  static fit(
    docs: readonly ArrayLike<number>[],
    labels: ArrayLike<number>,
    opts: BagOfWordsLogisticRegressionOptions,
  ): BagOfWordsLogisticRegression {
    if (docs.length !== labels.length || docs.length === 0) {
      invalidArgument(
        `BagOfWordsLogisticRegression.fit: ${docs.length} documents for ${labels.length} labels; expected as many, at least one`,
      );
    }
    const V = opts.vocabSize;
    const weighting = opts.weighting ?? 'tfidf';
    if (weighting !== 'tfidf' && weighting !== 'counts') {
      invalidArgument(
        `BagOfWordsLogisticRegression.fit: weighting must be 'tfidf' or 'counts', got ${JSON.stringify(weighting)}`,
      );
    }
    const iterations = opts.iterations ?? 2000;
    let l2 = opts.l2;
    if (l2 === undefined) {
      const grid = opts.l2Grid ?? [1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6, 3e-7, 1e-7];
      const order = seededShuffle(
        Array.from({ length: docs.length }, (_, i) => i),
        opts.seed ?? 0,
      );
      const held = Math.max(1, Math.round(docs.length * 0.2));
      const [val, fit] = [order.slice(0, held), order.slice(held)];
      const fitDocs = fit.map((i) => docs[i]!);
      const fitLabels = fit.map((i) => labels[i]!);
      let best = Number.NEGATIVE_INFINITY;
      for (const candidate of grid) {
        const m = BagOfWordsLogisticRegression.fit(fitDocs, fitLabels, {
          ...opts,
          l2: candidate,
          iterations,
        });
        // accuracy first, then the mean log-likelihood breaks ties between equally accurate penalties
        let right = 0;
        let logLik = 0;
        for (const i of val) {
          const p = m.predictProba(docs[i]!);
          const y = labels[i]!;
          if ((p >= 0.5 ? 1 : 0) === y) right++;
          logLik += Math.log(Math.max(1e-12, y === 1 ? p : 1 - p));
        }
        const score = right / val.length + (1e-3 * logLik) / val.length;
        if (score > best) [best, l2] = [score, candidate];
      }
    }
    const lambda = l2!;
    // document frequencies -> smoothed idf = ln((1 + n) / (1 + df)) + 1
    const df = new Float64Array(V);
    for (const doc of docs) for (const id of new Set(Array.from(doc))) df[checkId(id, V)]!++;
    const idf =
      weighting === 'tfidf'
        ? df.map((d) => Math.log((1 + docs.length) / (1 + d)) + 1)
        : new Float64Array(V).fill(1);
    const rows = docs.map((doc) => featureRow(doc, weighting, idf));
    const y = Float64Array.from(labels as ArrayLike<number>);
    // Nesterov's accelerated gradient (FISTA without a prox term) on [w, b]
    const step = 1 / (0.5 + lambda);
    const n = rows.length;
    let w = new Float64Array(V);
    let b = 0;
    let prevW = new Float64Array(V);
    let prevB = 0;
    const lookW = new Float64Array(V);
    const grad = new Float64Array(V);
    let t = 1;
    for (let it = 0; it < iterations; it++) {
      const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
      const momentum = (t - 1) / tNext;
      for (let j = 0; j < V; j++) lookW[j] = w[j]! + momentum * (w[j]! - prevW[j]!);
      const lookB = b + momentum * (b - prevB);
      grad.fill(0);
      let gradB = 0;
      rows.forEach((row, i) => {
        const r = sigmoid(dot(row, lookW) + lookB) - y[i]!; // d(logistic loss)/d(score)
        for (let k = 0; k < row.index.length; k++) grad[row.index[k]!]! += r * row.value[k]!;
        gradB += r;
      });
      [prevW, w] = [w, prevW];
      prevB = b;
      for (let j = 0; j < V; j++) w[j] = lookW[j]! - step * (grad[j]! / n + lambda * lookW[j]!);
      b = lookB - (step * gradB) / n;
      t = tNext;
    }
    return new BagOfWordsLogisticRegression(weighting, idf, w, b, lambda);
  }

  /** P(class 1 | document). */
  predictProba(doc: ArrayLike<number>): number {
    return sigmoid(dot(featureRow(doc, this.weighting, this.idf), this.weights) + this.bias);
  }
}

function checkId(id: number, vocabSize: number): number {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
    invalidArgument(`BagOfWordsLogisticRegression: token id ${id} is outside [0, ${vocabSize})`);
  }
  return id;
}

function featureRow(doc: ArrayLike<number>, weighting: BagOfWordsWeighting, idf: Float64Array): SparseRow {
  const counts = new Map<number, number>();
  for (let i = 0; i < doc.length; i++) {
    const id = doc[i]!;
    if (id >= 0 && id < idf.length) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const index = Int32Array.from(counts.keys());
  const tf = (count: number) => (weighting === 'tfidf' ? 1 + Math.log(count) : count);
  const value = Float64Array.from(index, (id) => tf(counts.get(id)!) * idf[id]!);
  let squares = 0;
  for (const v of value) squares += v * v;
  const norm = Math.sqrt(squares) || 1;
  for (let k = 0; k < value.length; k++) value[k]! /= norm;
  return { index, value };
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

function dot(row: SparseRow, w: Float64Array): number {
  let s = 0;
  for (let k = 0; k < row.index.length; k++) s += row.value[k]! * w[row.index[k]!]!;
  return s;
}
