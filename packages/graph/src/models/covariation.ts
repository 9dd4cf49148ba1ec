/**
 * Co-variation of alignment columns, the classic signal of residue contacts before deep learning:
 * mutual information between two columns (21 states: 20 amino acids and the gap; anything else counts
 * as a gap), with the average product correction of Dunn et al. 2008 (Bioinformatics 24:333) that
 * removes the per-column background (entropy, phylogeny): MIp(i, j) = MI(i, j) - MI(i,·)·MI(·,j) / MI(·,·).
 * The corrected values are standardized over all off-diagonal pairs (mean 0, std 1) so they can be fed to
 * attention as a bias feature. `residueCovariation` maps a sequence's residues onto its alignment row.
 */
import { invalidArgument } from '../errors.js';

const STATES = 21;
const GAP = 20;
const CODE = new Map([...'ACDEFGHIKLMNPQRSTVWY'].map((c, i) => [c, i]));

export interface ColumnCovariation {
  columns: number;
  /** [columns, columns] row-major, symmetric, 0 on the diagonal; standardized MIp. */
  values: Float32Array;
}

/** MIp of every pair of columns of aligned rows (all of one length; case is ignored, '.', '-' are gaps). */
export function columnCovariation(rows: readonly string[]): ColumnCovariation {
  const where = 'columnCovariation';
  if (rows.length < 2) invalidArgument(`${where}: need at least 2 aligned rows, got ${rows.length}`);
  const C = rows[0]!.length;
  rows.forEach((row, r) => {
    if (row.length !== C)
      invalidArgument(`${where}: row ${r} has ${row.length} columns; expected ${C} as row 0 (an alignment)`);
  });
  const N = rows.length;
  // codes [C, N]: column-major, so a column pair reads two contiguous runs
  const codes = new Uint8Array(C * N);
  rows.forEach((row, r) => {
    for (let c = 0; c < C; c++) codes[c * N + r] = CODE.get(row[c]!.toUpperCase()) ?? GAP;
  });
  // frequencies with a pseudo-count weight λ spread evenly over the states (pairs over the q² pairs), as
  // in direct-coupling analysis (Morcos et al. 2011): f = (1 - λ)·observed + λ/q, f_ab = (1 - λ)·observed + λ/q²
  const lambda = 1 / (N + 1);
  const pairPrior = lambda / (STATES * STATES);
  const single = new Float64Array(C * STATES);
  const logSum = new Float64Array(C); // Σ_a log f_i(a)
  for (let c = 0; c < C; c++) {
    for (let r = 0; r < N; r++) single[c * STATES + codes[c * N + r]!]! += 1;
    for (let a = 0; a < STATES; a++) {
      single[c * STATES + a] = (1 - lambda) * (single[c * STATES + a]! / N) + lambda / STATES;
      logSum[c]! += Math.log(single[c * STATES + a]!);
    }
  }
  const mi = new Float64Array(C * C);
  const joint = new Map<number, number>();
  for (let i = 0; i < C; i++) {
    for (let j = i + 1; j < C; j++) {
      joint.clear();
      for (let r = 0; r < N; r++) {
        const key = codes[i * N + r]! * STATES + codes[j * N + r]!;
        joint.set(key, (joint.get(key) ?? 0) + 1);
      }
      // every pair as if unobserved (in closed form), then the observed ones corrected
      let value = lambda * Math.log(pairPrior) - (lambda / STATES) * (logSum[i]! + logSum[j]!);
      for (const [key, count] of joint) {
        const fa = single[i * STATES + Math.floor(key / STATES)]!;
        const fb = single[j * STATES + (key % STATES)]!;
        const fab = (1 - lambda) * (count / N) + pairPrior;
        value += fab * Math.log(fab / (fa * fb)) - pairPrior * Math.log(pairPrior / (fa * fb));
      }
      mi[i * C + j] = value;
      mi[j * C + i] = value;
    }
  }
  return { columns: C, values: standardize(averageProductCorrection(mi, C), C) };
}

function averageProductCorrection(mi: Float64Array, C: number): Float64Array {
  if (C < 3) return mi;
  const rowMean = new Float64Array(C);
  let total = 0;
  for (let i = 0; i < C; i++) {
    let s = 0;
    for (let j = 0; j < C; j++) if (j !== i) s += mi[i * C + j]!;
    rowMean[i] = s / (C - 1);
    total += s;
  }
  const overall = total / (C * (C - 1));
  const out = new Float64Array(C * C);
  if (overall <= 0) return out;
  for (let i = 0; i < C; i++)
    for (let j = 0; j < C; j++)
      if (j !== i) out[i * C + j] = mi[i * C + j]! - (rowMean[i]! * rowMean[j]!) / overall;
  return out;
}

function standardize(values: Float64Array, C: number): Float32Array {
  const pairs = C * (C - 1);
  const out = new Float32Array(C * C);
  if (pairs === 0) return out;
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < C; i++)
    for (let j = 0; j < C; j++)
      if (j !== i) {
        sum += values[i * C + j]!;
        squares += values[i * C + j]! ** 2;
      }
  const mean = sum / pairs;
  const std = Math.sqrt(Math.max(0, squares / pairs - mean * mean)) || 1;
  for (let i = 0; i < C; i++)
    for (let j = 0; j < C; j++) if (j !== i) out[i * C + j] = (values[i * C + j]! - mean) / std;
  return out;
}

/** Column of each residue of an aligned row ('.' and '-' are gaps; every other character a residue). */
export function residueColumns(aligned: string): Int32Array {
  const columns: number[] = [];
  for (let c = 0; c < aligned.length; c++) if (aligned[c] !== '.' && aligned[c] !== '-') columns.push(c);
  return Int32Array.from(columns);
}

/**
 * The co-variation of the residues `start .. start + length - 1` of a sequence whose alignment row is
 * `aligned`, written into `out` at offset (offset, offset) of an [L, L] block (`L` = stride).
 */
export function writeResidueCovariation(
  cov: ColumnCovariation,
  columns: Int32Array,
  start: number,
  length: number,
  out: Float32Array,
  stride: number,
  offset: number,
): void {
  const C = cov.columns;
  for (let a = 0; a < length; a++) {
    const ca = columns[start + a]!;
    for (let b = 0; b < length; b++) {
      const cb = columns[start + b]!;
      out[(offset + a) * stride + offset + b] = cov.values[ca * C + cb]!;
    }
  }
}
