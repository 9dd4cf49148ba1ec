/** Reductions on the reference backend, with PyTorch's NaN and tie rules (as the WGSL). */
import type { KernelSignatures } from '../../kernels/signatures.js';
import type { Tensor } from '../../tensor.js';
import { rowBaseCpu } from './rows.js';

export function reduceReference({ kind, x, rows: r, outDtype }: KernelSignatures['Reduce']['args']): Tensor {
  const out = x.device.empty(r.outerShape, outDtype);
  const src = x.storage.array!;
  const dst = out.storage.array!;
  for (let o = 0; o < r.outerCount; o++) {
    const base = rowBaseCpu(x, r, o);
    let acc =
      kind === 'max' || kind === 'argmax' ? -Infinity : kind === 'min' || kind === 'argmin' ? Infinity : 0;
    let m = -Infinity;
    let s = 0;
    let bi = 0;
    for (let k = 0; k < r.length; k++) {
      const v = src[base + k * r.stride]!;
      if (kind === 'sum') acc += v;
      else if (kind === 'max') acc = Number.isNaN(v) || Number.isNaN(acc) ? Number.NaN : Math.max(acc, v);
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
