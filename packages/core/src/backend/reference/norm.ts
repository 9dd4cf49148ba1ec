/** LayerNorm and RMSNorm on the reference backend, forward and backward (PyTorch's formulas). */
import type { KernelSignatures } from '../../kernels/signatures.js';

type Sig = KernelSignatures;

/**
 * The mean (0 for RMSNorm) and 1 / sqrt(variance + eps) of the `dim` values of one row from `base`:
 * forward and backward normalise each row with the same two numbers.
 */
function rowStats(
  kind: Sig['Norm']['args']['kind'],
  xs: ArrayLike<number>,
  base: number,
  dim: number,
  eps: number,
): { mean: number; inv: number } {
  let mean = 0;
  if (kind === 'layer') {
    for (let j = 0; j < dim; j++) mean += xs[base + j]!;
    mean /= dim;
  }
  let v = 0;
  for (let j = 0; j < dim; j++) v += (xs[base + j]! - mean) ** 2;
  return { mean, inv: 1 / Math.sqrt(v / dim + eps) };
}

export function normReference({ kind, x, weight, bias, out, rows, dim, eps }: Sig['Norm']['args']): void {
  const src = x.storage.array!;
  const dst = out.storage.array!;
  const wa = weight?.storage.array;
  const ba = bias?.storage.array;
  for (let r = 0; r < rows; r++) {
    const base = x.offset + r * dim;
    const { mean, inv } = rowStats(kind, src, base, dim, eps);
    for (let j = 0; j < dim; j++) {
      const y = (src[base + j]! - mean) * inv;
      dst[r * dim + j] = y * (wa ? wa[weight!.offset + j]! : 1) + (ba ? ba[bias!.offset + j]! : 0);
    }
  }
}

/**
 * With xhat = (x - mean)·rstd and g = dy·weight: dx = rstd·(g - mean(g) - xhat·mean(g·xhat)) (RMSNorm
 * drops mean(g)); with a weight also dy·xhat per element.
 */
export function normGradReference(args: Sig['NormGrad']['args']): void {
  const { kind, x, gy, weight, dx, gyXhat, rows, dim, eps } = args;
  const xs = x.storage.array!;
  const gs = gy.storage.array!;
  const ws = weight?.storage.array;
  const dxs = dx.storage.array!;
  const gxs = gyXhat?.storage.array;
  for (let r = 0; r < rows; r++) {
    const base = x.offset + r * dim;
    const gbase = gy.offset + r * dim;
    const { mean, inv } = rowStats(kind, xs, base, dim, eps);
    const w = (k: number) => (ws ? ws[weight!.offset + k]! : 1);
    let sg = 0;
    let sgx = 0;
    for (let k = 0; k < dim; k++) {
      const g = gs[gbase + k]! * w(k);
      sg += g;
      sgx += g * (xs[base + k]! - mean) * inv;
    }
    const cg = kind === 'layer' ? sg / dim : 0;
    const cx = sgx / dim;
    for (let k = 0; k < dim; k++) {
      const xhat = (xs[base + k]! - mean) * inv;
      const gk = gs[gbase + k]!;
      dxs[r * dim + k] = inv * (gk * w(k) - cg - xhat * cx);
      if (gxs) gxs[r * dim + k] = gk * xhat;
    }
  }
}
