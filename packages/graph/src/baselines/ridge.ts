/**
 * graph/molecules' count baseline: ridge regression, ŷ = b + w·x, minimizing Σ (y - ŷ)² + λ‖w‖² with
 * an unpenalized intercept (features and targets centred first), solved exactly by Cholesky on the
 * d x d normal equations in float64. λ is the best of a grid by error on a seeded 20% hold-out of the
 * training rows (mean absolute error, the task's metric), then the model is refit on every row.
 */
import { seededUniform } from '@multihead/core';
import { invalidArgument } from '../errors.js';

export interface RidgeOptions {
  /** Default: the best of `grid` on the hold-out. */
  lambda?: number;
  grid?: readonly number[];
  seed?: number;
}

export class RidgeRegression {
  constructor(
    readonly weights: Float64Array,
    readonly intercept: number,
    readonly lambda: number,
  ) {}

  /** rows: [n][d] features; y: n targets. */
  static fit(
    rows: readonly ArrayLike<number>[],
    y: ArrayLike<number>,
    opts: RidgeOptions = {},
  ): RidgeRegression {
    const where = 'RidgeRegression.fit';
    if (rows.length === 0 || rows.length !== y.length)
      invalidArgument(
        `${where}: ${rows.length} rows for ${y.length} targets; expected as many, at least one`,
      );
    const d = rows[0]!.length;
    rows.forEach((r, i) => {
      if (r.length !== d) invalidArgument(`${where}: row ${i} has ${r.length} features; expected ${d}`);
    });
    if (opts.lambda !== undefined) return solve(rows, y, opts.lambda);
    const random = seededUniform(opts.seed ?? 0);
    const order = Array.from({ length: rows.length }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const held = Math.max(1, Math.round(rows.length * 0.2));
    const [val, fit] = [order.slice(0, held), order.slice(held)];
    let best = Number.POSITIVE_INFINITY;
    let lambda = 1;
    for (const candidate of opts.grid ?? [1e-3, 1e-2, 1e-1, 1, 10, 100, 1000]) {
      if (fit.length === 0) break;
      const model = solve(
        fit.map((i) => rows[i]!),
        fit.map((i) => y[i]!),
        candidate,
      );
      const error = val.reduce((s, i) => s + Math.abs(model.predict(rows[i]!) - y[i]!), 0);
      if (error < best) [best, lambda] = [error, candidate];
    }
    return solve(rows, y, lambda);
  }

  predict(row: ArrayLike<number>): number {
    let s = this.intercept;
    for (let j = 0; j < this.weights.length; j++) s += this.weights[j]! * row[j]!;
    return s;
  }
}

function solve(rows: readonly ArrayLike<number>[], y: ArrayLike<number>, lambda: number): RidgeRegression {
  const n = rows.length;
  const d = rows[0]!.length;
  const meanX = new Float64Array(d);
  let meanY = 0;
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) meanX[j]! += r[j]! / n;
    meanY += y[i]! / n;
  });
  // A = XcᵀXc + λI, b = Xcᵀyc
  const A = new Float64Array(d * d);
  const b = new Float64Array(d);
  const centred = new Float64Array(d);
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) centred[j] = r[j]! - meanX[j]!;
    const yc = y[i]! - meanY;
    for (let j = 0; j < d; j++) {
      b[j]! += centred[j]! * yc;
      for (let k = 0; k <= j; k++) A[j * d + k]! += centred[j]! * centred[k]!;
    }
  });
  for (let j = 0; j < d; j++) {
    A[j * d + j]! += lambda;
    for (let k = 0; k < j; k++) A[k * d + j] = A[j * d + k]!;
  }
  const w = choleskySolve(A, b, d);
  let intercept = meanY;
  for (let j = 0; j < d; j++) intercept -= w[j]! * meanX[j]!;
  return new RidgeRegression(w, intercept, lambda);
}

/** Solves A x = b for symmetric positive definite A (λ > 0 makes it so). */
function choleskySolve(A: Float64Array, b: Float64Array, d: number): Float64Array {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * d + j]!;
      for (let k = 0; k < j; k++) s -= L[i * d + k]! * L[j * d + k]!;
      if (i === j) {
        if (!(s > 0))
          invalidArgument('RidgeRegression: the normal equations are not positive definite (λ must be > 0)');
        L[i * d + i] = Math.sqrt(s);
      } else L[i * d + j] = s / L[j * d + j]!;
    }
  }
  const z = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * d + k]! * z[k]!;
    z[i] = s / L[i * d + i]!;
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < d; k++) s -= L[k * d + i]! * x[k]!;
    x[i] = s / L[i * d + i]!;
  }
  return x;
}
