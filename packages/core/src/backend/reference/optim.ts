/** Optimizer updates on the reference backend, in place (PyTorch 1.13's single-tensor SGD and AdamW). */
import type { KernelSignatures } from '../../kernels/signatures.js';

type Sig = KernelSignatures;

export function sgdStepReference({ p, g, buf, hyper: h, first }: Sig['SgdStep']['args']): void {
  const pa = p.storage.array!;
  const ga = g.storage.array!;
  const ba = buf?.storage.array ?? null;
  for (let i = 0; i < p.size; i++) {
    const pv = pa[p.offset + i]!;
    let d = ga[g.offset + i]!;
    if (h.weightDecay !== 0) d += h.weightDecay * pv;
    if (ba) {
      const b = first ? d : h.momentum * ba[i]! + (1 - h.dampening) * d;
      ba[i] = b;
      d = h.nesterov ? d + h.momentum * b : b;
    }
    pa[p.offset + i] = pv - h.lr * d;
  }
}

export function adamwStepReference({ p, g, m, v, vmax, consts: c }: Sig['AdamWStep']['args']): void {
  const { decay, beta1, beta2, stepSize, bc2Sqrt } = c;
  const pa = p.storage.array!;
  const ga = g.storage.array!;
  const ma = m.storage.array!;
  const va = v.storage.array!;
  const xa = vmax?.storage.array ?? null;
  for (let i = 0; i < p.size; i++) {
    const pv = pa[p.offset + i]! * decay;
    const gv = ga[g.offset + i]!;
    const mv = beta1 * ma[i]! + (1 - beta1) * gv;
    const vv = beta2 * va[i]! + (1 - beta2) * gv * gv;
    ma[i] = mv;
    va[i] = vv;
    let vd = vv;
    if (xa) {
      vd = Math.max(xa[i]!, vv);
      xa[i] = vd;
    }
    pa[p.offset + i] = pv - (stepSize * mv) / (Math.sqrt(vd) / bc2Sqrt + c.eps);
  }
}

export function scaleInPlaceReference({ x, c }: Sig['ScaleInPlace']['args']): void {
  const xa = x.storage.array!;
  const cv = c.storage.array![c.offset]!;
  for (let i = 0; i < x.size; i++) xa[x.offset + i]! *= cv;
}
