/**
 * A contact-style map from attention (Rao et al. 2021, "Transformer protein language models are
 * unsupervised structure learners", §3): the heads' weights between residues are averaged, symmetrized
 * and corrected by the average product correction (Dunn et al. 2008) that removes the background each
 * position carries whatever its partner; what stays are the pairs attended to more than their positions'
 * averages predict. Rao et al. fit a logistic regression over the heads on known structures; there are
 * none here, so the heads are averaged with equal weight.
 */
import { invalidArgument } from '../errors.js';

/**
 * maps: `[heads, N, N]` weights of one or more layers over the same N positions; `from`/`to` select the
 * residues (e.g. 1 .. N - 1 to leave out <cls> and <eos>). Returns `[R, R]`, R = to - from, with zeros
 * on the diagonal.
 */
export function contactMap(
  maps: readonly { heads: number; weights: Float32Array }[],
  n: number,
  from: number,
  to: number,
): Float32Array {
  if (maps.length === 0) invalidArgument('contactMap: no attention maps');
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from < to && to <= n))
    invalidArgument(`contactMap: residues [${from}, ${to}) must lie in [0, ${n}) and hold at least one`);
  const R = to - from;
  const mean = new Float64Array(R * R);
  let count = 0;
  for (const { heads, weights } of maps) {
    if (weights.length !== heads * n * n)
      invalidArgument(`contactMap: a map has ${weights.length} weights; expected [${heads}, ${n}, ${n}]`);
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < R; i++)
        for (let j = 0; j < R; j++) mean[i * R + j]! += weights[(h * n + from + i) * n + from + j]!;
      count++;
    }
  }
  const sym = new Float64Array(R * R);
  for (let i = 0; i < R; i++)
    for (let j = 0; j < R; j++)
      sym[i * R + j] = i === j ? 0 : (mean[i * R + j]! + mean[j * R + i]!) / (2 * count);
  const rowSum = new Float64Array(R);
  let total = 0;
  for (let i = 0; i < R; i++) {
    for (let j = 0; j < R; j++) rowSum[i]! += sym[i * R + j]!;
    total += rowSum[i]!;
  }
  const out = new Float32Array(R * R);
  if (total <= 0) return out;
  for (let i = 0; i < R; i++)
    for (let j = 0; j < R; j++)
      if (i !== j) out[i * R + j] = sym[i * R + j]! - (rowSum[i]! * rowSum[j]!) / total;
  return out;
}
