/** Reductions on the reference backend, with PyTorch's NaN and tie rules (as the WGSL). */
import type { RowLayout } from '../../kernels/rows.js';
import type { KernelSignatures } from '../../kernels/signatures.js';
import type { Tensor } from '../../tensor.js';
import { rowBaseCpu } from './rows.js';

export function reduceReference({ kind, x, rows: r, outDtype }: KernelSignatures['Reduce']['args']): Tensor {
  const out = x.device.empty(r.outerShape, outDtype);
  const src = x.storage.array!;
  const dst = out.storage.array!;
  if (kind === 'sum') {
    sumRows(src, dst, x, r);
    return out;
  }
  for (let o = 0; o < r.outerCount; o++) {
    const base = rowBaseCpu(x, r, o);
    let acc =
      kind === 'max' || kind === 'argmax' ? -Infinity : kind === 'min' || kind === 'argmin' ? Infinity : 0;
    let m = -Infinity;
    let s = 0;
    let bi = 0;
    for (let k = 0; k < r.length; k++) {
      const v = src[base + k * r.stride]!;
      if (kind === 'max') acc = Number.isNaN(v) || Number.isNaN(acc) ? Number.NaN : Math.max(acc, v);
      else if (kind === 'min') acc = Number.isNaN(v) || Number.isNaN(acc) ? Number.NaN : Math.min(acc, v);
      else if (kind === 'lse') {
        if (v > m) {
          s = s * Math.exp(m - v) + 1;
          m = v;
        } else if (v > -Infinity) s += Math.exp(v - m);
        else if (Number.isNaN(v)) m = v;
      } else {
        const better = kind === 'argmax' ? v > acc : v < acc;
        if (k === 0 || (!Number.isNaN(acc) && (better || Number.isNaN(v)))) {
          acc = v;
          bi = k;
        }
      }
    }
    if (kind === 'lse') acc = s === 0 && !Number.isNaN(m) ? -Infinity : m + Math.log(s);
    dst[o] = kind === 'argmax' || kind === 'argmin' ? bi : acc;
  }
  return out;
}

/**
 * Sums four outputs at a time, each in its own f64 running sum: one sum is a chain of dependent adds
 * (an add latency per value), four chains overlap, and neighbouring outputs (a bias gradient's columns)
 * read the same cache lines. Every output still adds its values in order, so the results are those
 * of the one-at-a-time loop (1.15 -> 0.33 ms for the column sums of a [1024, 512] gradient).
 */
function sumRows(src: ArrayLike<number>, dst: { [i: number]: number }, x: Tensor, r: RowLayout): void {
  const { length, stride, outerCount } = r;
  let o = 0;
  for (; o + 4 <= outerCount; o += 4) {
    const [b0, b1, b2, b3] = [o, o + 1, o + 2, o + 3].map((i) => rowBaseCpu(x, r, i)) as [
      number,
      number,
      number,
      number,
    ];
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let k = 0, at = 0; k < length; k++, at += stride) {
      s0 += src[b0 + at]!;
      s1 += src[b1 + at]!;
      s2 += src[b2 + at]!;
      s3 += src[b3 + at]!;
    }
    dst[o] = s0;
    dst[o + 1] = s1;
    dst[o + 2] = s2;
    dst[o + 3] = s3;
  }
  for (; o < outerCount; o++) {
    const base = rowBaseCpu(x, r, o);
    let s = 0;
    for (let k = 0; k < length; k++) s += src[base + k * stride]!;
    dst[o] = s;
  }
}
