/**
 * Pairwise sequence identity, for splitting protein families so that test sequences are not near-copies
 * of training ones. Identity = identical residue pairs / aligned residue pairs (columns where both
 * sequences have a residue; PID1 in Raghava & Barton 2006's terms), from one of two alignments:
 * - `alignedIdentity`: two rows of the same multiple alignment (Pfam seeds), O(length). Their alignment
 *   was curated, so it is better than any pairwise one we could compute, and it is free.
 * - `globalAlignmentIdentity`: Needleman & Wunsch (1970) global alignment of two unaligned sequences with
 *   a simple score (match +2, mismatch -1, gap -2, linear), identity counted along the optimal path;
 *   O(length^2) time, O(length) memory.
 * Case is ignored (Stockholm insert states are lower case); gaps are `-` `.` `_` `~`.
 */
import { invalidArgument } from '../errors.js';

export interface AlignmentScores {
  match: number;
  mismatch: number;
  gap: number;
}

export const SIMPLE_SCORES: AlignmentScores = { match: 2, mismatch: -1, gap: -2 };

const isGap = (code: number) => code === 45 || code === 46 || code === 95 || code === 126; // - . _ ~
const upper = (code: number) => (code >= 97 && code <= 122 ? code - 32 : code);

/** Identity of two rows of one alignment (0 when they share no residue column). */
export function alignedIdentity(a: string, b: string): number {
  if (a.length !== b.length) {
    invalidArgument(
      `alignedIdentity: rows of one alignment must have the same length, got ${a.length} and ${b.length}`,
    );
  }
  let pairs = 0;
  let identical = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (isGap(x) || isGap(y)) continue;
    pairs++;
    if (upper(x) === upper(y)) identical++;
  }
  return pairs === 0 ? 0 : identical / pairs;
}

/** Residue codes (upper case), as the DP reads them. */
function codes(sequence: string): Uint16Array {
  const out = new Uint16Array(sequence.length);
  for (let i = 0; i < sequence.length; i++) out[i] = upper(sequence.charCodeAt(i));
  return out;
}

export interface GlobalAlignment {
  /** The optimal global alignment score. */
  score: number;
  /** Identical and aligned residue pairs on the chosen optimal path. */
  identical: number;
  pairs: number;
}

/** Identity along a Needleman-Wunsch optimal global alignment of two ungapped sequences (0 if none). */
export function globalAlignmentIdentity(
  a: string,
  b: string,
  scores: AlignmentScores = SIMPLE_SCORES,
): number {
  const { identical, pairs } = globalAlignment(a, b, scores);
  return pairs === 0 ? 0 : identical / pairs;
}

/**
 * Needleman-Wunsch with a linear gap score. Ties between optimal paths go diagonal first, then a gap in
 * `b`, then a gap in `a`, so the counts are deterministic (another optimal path may count differently).
 */
export function globalAlignment(
  a: string,
  b: string,
  scores: AlignmentScores = SIMPLE_SCORES,
): GlobalAlignment {
  const x = codes(a);
  const y = codes(b);
  const n = x.length;
  const m = y.length;
  for (const name of ['match', 'mismatch', 'gap'] as const) {
    // the DP rows are int32
    if (!Number.isInteger(scores[name]) || Math.abs(scores[name]) > 1e4) {
      invalidArgument(
        `globalAlignment: scores.${name} must be an integer in [-10000, 10000], got ${String(scores[name])}`,
      );
    }
  }
  const { match, mismatch, gap } = scores;
  // one row, updated in place, of: best score, identical pairs and aligned pairs on that best path;
  // the previous row's diagonal entries are carried in locals
  const score = new Int32Array(m + 1);
  const same = new Int32Array(m + 1);
  const pairs = new Int32Array(m + 1);
  for (let j = 0; j <= m; j++) score[j] = j * gap;
  for (let i = 1; i <= n; i++) {
    const xi = x[i - 1]!;
    let diagonalScore = score[0]!;
    let diagonalSame = 0;
    let diagonalPairs = 0;
    let leftScore = i * gap;
    let leftSame = 0;
    let leftPairs = 0;
    score[0] = leftScore;
    same[0] = 0;
    pairs[0] = 0;
    for (let j = 1; j <= m; j++) {
      const upScore = score[j]!;
      const upSame = same[j]!;
      const upPairs = pairs[j]!;
      const equal = xi === y[j - 1]! ? 1 : 0;
      const diagonal = diagonalScore + (equal === 1 ? match : mismatch);
      const up = upScore + gap; // x[i-1] against a gap
      const left = leftScore + gap; // y[j-1] against a gap
      if (diagonal >= up && diagonal >= left) {
        leftScore = diagonal;
        leftSame = diagonalSame + equal;
        leftPairs = diagonalPairs + 1;
      } else if (up >= left) {
        leftScore = up;
        leftSame = upSame;
        leftPairs = upPairs;
      }
      // else: left stays (a gap in a); its counts are already in leftSame / leftPairs
      else leftScore = left;
      score[j] = leftScore;
      same[j] = leftSame;
      pairs[j] = leftPairs;
      diagonalScore = upScore;
      diagonalSame = upSame;
      diagonalPairs = upPairs;
    }
  }
  return { score: score[m]!, identical: same[m]!, pairs: pairs[m]! };
}
