/** Fused cross-entropy on the reference backend (ops/cross-entropy.ts has the formulas). */
import { fail } from '../../errors.js';
import type { CrossEntropyRowOptions, KernelSignatures } from '../../kernels/signatures.js';
import { fmt } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { rowBaseCpu } from './rows.js';

type Sig = KernelSignatures;

/** Out-of-range targets (other than ignoreIndex) throw INDEX_OUT_OF_RANGE at once. */
export function checkTargets(logits: Tensor, targets: Tensor, opts: CrossEntropyRowOptions): void {
  const ids = targets.storage.array!;
  const classes = logits.shape[logits.rank - 1]!;
  for (let r = 0; r < targets.size; r++) {
    const t = ids[targets.offset + r]!;
    if (t !== opts.ignoreIndex && (t < 0 || t >= classes)) {
      fail(
        'INDEX_OUT_OF_RANGE',
        `crossEntropy: target ${t} at position ${r} of targets ${fmt(targets.shape)} is out of range [0, ${classes}) ` +
          `for logits ${fmt(logits.shape)} (and is not ignoreIndex ${opts.ignoreIndex})`,
      );
    }
  }
}

export function crossEntropyReference(args: Sig['CrossEntropy']['args']): void {
  const { logits, targets, rows: r, lossRows, lse, opts } = args;
  checkTargets(logits, targets, opts);
  const n = r.outerCount;
  const x = logits.storage.array!;
  const ids = targets.storage.array!;
  const out = lossRows.storage.array!;
  const lseOut = lse.storage.array!;
  const eps = opts.labelSmoothing;
  for (let o = 0; o < n; o++) {
    const base = rowBaseCpu(logits, r, o);
    let m = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < r.length; k++) m = Math.max(m, x[base + k * r.stride]!);
    let s = 0;
    let shifted = 0;
    for (let k = 0; k < r.length; k++) {
      const v = x[base + k * r.stride]! - m;
      s += Math.exp(v);
      shifted += v;
    }
    const logS = Math.log(s);
    lseOut[o] = m + logS;
    const t = ids[targets.offset + o]!;
    if (t === opts.ignoreIndex) continue; // loss and weight stay 0
    const nll = logS - (x[base + t * r.stride]! - m);
    out[o] = eps > 0 ? (1 - eps) * nll + eps * (logS - shifted / r.length) : nll;
    out[n + o] = 1;
  }
}

export function crossEntropyGradReference(args: Sig['CrossEntropyGrad']['args']): void {
  const { logits, targets, rows: r, lse, g, gStride, dx, opts } = args;
  const n = r.outerCount;
  const x = logits.storage.array!;
  const ids = targets.storage.array!;
  const lseIn = lse.storage.array!;
  const gIn = g.storage.array!;
  const out = dx.storage.array!;
  const eps = opts.labelSmoothing;
  const C = r.length;
  for (let o = 0; o < n; o++) {
    const t = ids[targets.offset + o]!;
    if (t === opts.ignoreIndex || t < 0 || t >= C) continue; // zeros
    const base = rowBaseCpu(logits, r, o);
    const gr = gIn[g.offset + o * gStride]!;
    const l = lseIn[lse.offset + o]!;
    for (let k = 0; k < C; k++) {
      const p = Math.exp(x[base + k * r.stride]! - l);
      const target = (k === t ? 1 - eps : 0) + eps / C;
      out[o * C + k] = gr * (p - target);
    }
  }
}
