/** Gradient clipping by global norm (PyTorch `torch.nn.utils.clip_grad_norm_`). */
import { fail } from '../errors.js';
import * as ew from '../ops/elementwise.js';
import { concat } from '../ops/layout.js';
import * as reduce from '../ops/reduce.js';
import type { Tensor } from '../tensor.js';
import { scaleInPlace } from './updates.js';

export interface ClipGradNormOptions {
  /** p of the p-norm over all gradients together: 2 (default), 1, any p > 0, or Infinity (max |g|). */
  normType?: number;
}

/**
 * Scales the gradients of `params` in place so that their joint `normType`-norm is at most `maxNorm`:
 * g *= min(1, maxNorm / (total + 1e-6)). Returns the norm before clipping as a 0-d tensor on the
 * device, without reading it back (so the GPU queue never stalls); read it when you need the number,
 * or call `clipGradNormValue`. Parameters without a gradient are skipped; with none, the norm is 0.
 */
export function clipGradNorm(
  params: readonly Tensor[] | Tensor,
  maxNorm: number,
  opts: ClipGradNormOptions = {},
): Tensor {
  const normType = opts.normType ?? 2;
  if (!(maxNorm >= 0))
    fail('INVALID_ARGUMENT', `clipGradNorm: maxNorm is ${maxNorm}; expected a number >= 0`);
  if (!(normType > 0)) {
    fail('INVALID_ARGUMENT', `clipGradNorm: normType is ${normType}; expected a number > 0 or Infinity`);
  }
  const list = Array.isArray(params) ? (params as readonly Tensor[]) : [params as Tensor];
  const grads = list.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (grads.length === 0) {
    if (list.length === 0) fail('INVALID_ARGUMENT', 'clipGradNorm: no parameters given');
    return list[0]!.device.scalar(0);
  }
  const device = grads[0]!.device;
  grads.forEach((g, i) => {
    if (g.device !== device) fail('DEVICE_MISMATCH', `clipGradNorm: grad ${i} is on another device`);
    if (g.dtype !== 'f32' || !g.isContiguous) {
      fail('INVALID_ARGUMENT', `clipGradNorm: grad ${i} must be a contiguous f32 tensor (got ${g.dtype})`);
    }
  });
  const temps: Tensor[] = [];
  const t = (x: Tensor) => {
    temps.push(x);
    return x;
  };
  try {
    // one partial per gradient: sum |g|^p, or max |g| for the infinity norm
    const partials = grads.map((g) => {
      if (normType === Number.POSITIVE_INFINITY) return t(t(reduce.max(t(ew.abs(g)))).reshape([1]));
      const powered =
        normType === 2 ? ew.unary('square', g) : normType === 1 ? ew.abs(g) : ew.pow(t(ew.abs(g)), normType);
      return t(t(reduce.sum(t(powered))).reshape([1]));
    });
    const stacked = t(concat(partials));
    const total =
      normType === Number.POSITIVE_INFINITY
        ? reduce.max(stacked)
        : normType === 2
          ? ew.sqrt(t(reduce.sum(stacked)))
          : normType === 1
            ? reduce.sum(stacked)
            : ew.pow(t(reduce.sum(stacked)), 1 / normType);
    const coef = t(ew.minimum(t(ew.div(maxNorm, t(ew.add(total, 1e-6)))), 1));
    for (const g of grads) scaleInPlace(g, coef);
    return total;
  } finally {
    for (const x of temps) x.dispose();
  }
}

/** `clipGradNorm`, then reads the norm before clipping as a number (waits for the device). */
export async function clipGradNormValue(
  params: readonly Tensor[] | Tensor,
  maxNorm: number,
  opts: ClipGradNormOptions = {},
): Promise<number> {
  const total = clipGradNorm(params, maxNorm, opts);
  try {
    return (await total.read())[0]!;
  } finally {
    total.dispose();
  }
}
