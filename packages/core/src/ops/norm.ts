/**
 * LayerNorm and RMSNorm over the trailing `normalizedShape` dims (PyTorch `F.layer_norm`,
 * `torch.nn.RMSNorm`), forward and backward; each backend's `Norm` / `NormGrad` kernel walks rows of
 * contiguous operands (biased variance, as PyTorch).
 */
import { fail } from '../errors.js';
import { runKernel } from '../kernels/registry.js';
import type { NormKind } from '../kernels/signatures.js';
import { fmt, sameShape, size } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sameDevice } from './map.js';

export type { NormKind } from '../kernels/signatures.js';

export interface NormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Added to the variance (LayerNorm default 1e-5, RMSNorm default 1e-6). */
  eps?: number;
}

function norm(kind: NormKind, x: Tensor, normalizedShape: readonly number[], opts: NormOptions): Tensor {
  const op = kind === 'layer' ? 'layerNorm' : 'rmsNorm';
  const { weight, bias } = opts;
  const eps = opts.eps ?? (kind === 'layer' ? 1e-5 : 1e-6);
  const tensors = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  sameDevice(op, tensors, ['x', ...(weight ? ['weight'] : []), ...(bias ? ['bias'] : [])]);
  for (const t of tensors) {
    if (t.dtype !== 'f32')
      fail('DTYPE_MISMATCH', `${op}: expected f32 tensors, got ${t.dtype} ${fmt(t.shape)}`);
  }
  const k = normalizedShape.length;
  if (k === 0 || k > x.rank || !sameShape(x.shape.slice(x.rank - k), normalizedShape)) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: normalizedShape ${fmt(normalizedShape)} is not the trailing shape of x ${fmt(x.shape)}`,
    );
  }
  for (const [name, t] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t && !sameShape(t.shape, normalizedShape)) {
      fail(
        'SHAPE_MISMATCH',
        `${op}: ${name} has shape ${fmt(t.shape)}; expected normalizedShape ${fmt(normalizedShape)}`,
      );
    }
  }
  if (bias && !weight) fail('INVALID_ARGUMENT', `${op}: a bias needs a weight`);
  const dim = size(normalizedShape);
  const rows = dim === 0 ? 0 : x.size / dim;
  const xc = x.contiguous();
  const wc = weight?.contiguous() ?? null;
  const bc = bias?.contiguous() ?? null;
  const out = x.device.empty(x.shape, 'f32');
  try {
    runKernel('Norm', x.device, { kind, x: xc, weight: wc, bias: bc, out, rows, dim, eps });
    return out;
  } finally {
    xc.dispose();
    wc?.dispose();
    bc?.dispose();
  }
}

export const layerNorm = (x: Tensor, normalizedShape: readonly number[], opts: NormOptions = {}) =>
  norm('layer', x, normalizedShape, opts);
export const rmsNorm = (x: Tensor, normalizedShape: readonly number[], opts: NormOptions = {}) =>
  norm('rms', x, normalizedShape, opts);

/**
 * Gradients of layerNorm / rmsNorm for dL/dy = gy: `dx` in x's shape, and with a weight `gyXhat`
 * [rows, dim] (dweight is its sum over rows, dbias the sum of gy over rows).
 */
export function normBackward(
  kind: NormKind,
  x: Tensor,
  normalizedShape: readonly number[],
  gy: Tensor,
  weight: Tensor | null,
  eps: number,
): { dx: Tensor; gyXhat: Tensor | null } {
  const dim = size(normalizedShape);
  const rows = dim === 0 ? 0 : x.size / dim;
  const xc = x.contiguous();
  const gc = gy.contiguous();
  const wc = weight?.contiguous() ?? null;
  const dx = x.device.empty(x.shape, 'f32');
  const gyXhat = wc ? x.device.empty([rows, dim], 'f32') : null;
  try {
    runKernel('NormGrad', x.device, { kind, x: xc, gy: gc, weight: wc, dx, gyXhat, rows, dim, eps });
    return { dx, gyXhat };
  } finally {
    xc.dispose();
    gc.dispose();
    wc?.dispose();
  }
}
