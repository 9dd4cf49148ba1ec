/**
 * Fused in-place updates: one kernel call per parameter per step updates the parameter and its
 * optimizer state together (as PyTorch's `foreach`/fused paths do). Hyper-parameters travel as
 * arguments (uniforms on WebGPU, so one pipeline serves every step and learning rate); derived
 * constants (bias corrections, 1 - beta) are computed in f64 here.
 *
 * Parameters and state are contiguous; the parameter and the gradient may start at an offset.
 */
import { runKernel } from '../kernels/registry.js';
import type { SgdHyper } from '../kernels/signatures.js';
import type { Tensor } from '../tensor.js';

export type { SgdHyper } from '../kernels/signatures.js';

/** SGD step on one parameter; `buf` is the momentum buffer (null without momentum). */
export function sgdUpdate(p: Tensor, g: Tensor, buf: Tensor | null, h: SgdHyper, first: boolean): void {
  runKernel('SgdStep', p.device, { p, g, buf, hyper: h, first });
}

export interface AdamWHyper {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

/** AdamW step `t` (1-based) on one parameter with moments m, v (and vmax for AMSGrad). */
export function adamwUpdate(
  p: Tensor,
  g: Tensor,
  m: Tensor,
  v: Tensor,
  vmax: Tensor | null,
  h: AdamWHyper,
  t: number,
): void {
  const [beta1, beta2] = h.betas;
  const consts = {
    decay: 1 - h.lr * h.weightDecay, // decoupled weight decay (Loshchilov & Hutter 2019)
    beta1,
    beta2,
    stepSize: h.lr / (1 - beta1 ** t),
    bc2Sqrt: Math.sqrt(1 - beta2 ** t),
    eps: h.eps,
  };
  runKernel('AdamWStep', p.device, { p, g, m, v, vmax, consts });
}

/** x *= c in place, with c a one-element tensor on the device (no read back to the host). */
export function scaleInPlace(x: Tensor, c: Tensor): void {
  runKernel('ScaleInPlace', x.device, { x, c });
}
