/** softmax / logSoftmax on the reference backend: three sweeps per row, as the WGSL. */
import type { KernelSignatures } from '../../kernels/signatures.js';
import { rowBaseCpu } from './rows.js';

export function softmaxReference({ x, out, log, rows: r, inner }: KernelSignatures['Softmax']['args']): void {
  const src = x.storage.array!;
  const dst = out.storage.array!;
  for (let o = 0; o < r.outerCount; o++) {
    const base = rowBaseCpu(x, r, o);
    const obase = Math.floor(o / inner) * r.length * inner + (o % inner);
    let m = -Infinity;
    for (let k = 0; k < r.length; k++) m = Math.max(m, src[base + k * r.stride]!);
    let s = 0;
    for (let k = 0; k < r.length; k++) s += Math.exp(src[base + k * r.stride]! - m);
    const ls = m + Math.log(s);
    for (let k = 0; k < r.length; k++) {
      const v = src[base + k * r.stride]!;
      dst[obase + k * inner] = log ? v - ls : Math.exp(v - m) / s;
    }
  }
}
