/**
 * Differentiable reductions, softmax and norms (PyTorch's derivatives: ties of max/min share the
 * gradient evenly, softmax's y·(gy - sum(gy·y)), the layer-norm backward kernel of ops/norm.ts).
 */

import * as ew from '../ops/elementwise.js';
import type { NormOptions } from '../ops/norm.js';
import * as norms from '../ops/norm.js';
import type { ReduceOptions } from '../ops/reduce.js';
import * as reduce from '../ops/reduce.js';
import * as sm from '../ops/softmax.js';
import { normalizeAxis, size } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { using } from './backward-helpers.js';
import { record } from './engine.js';

type Axis = number | readonly number[] | undefined;

/** The reduced axes of `x` (every axis when `axis` is undefined). */
function reducedAxes(x: Tensor, axis: Axis): number[] {
  if (axis === undefined) return x.shape.map((_, i) => i);
  return (typeof axis === 'number' ? [axis] : [...axis]).map((a) => normalizeAxis('reduce', a, x.rank));
}

/** `y` (or its gradient) with the reduced axes put back as size 1, ready to broadcast against x. */
function keptShape(x: Tensor, axis: Axis): number[] {
  const axes = reducedAxes(x, axis);
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function reduction(
  kind: 'sum' | 'mean' | 'max' | 'min' | 'logsumexp',
  x: Tensor,
  axis: Axis,
  opts: ReduceOptions,
): Tensor {
  const forward = {
    sum: reduce.sum,
    mean: reduce.mean,
    max: reduce.max,
    min: reduce.min,
    logsumexp: reduce.logsumexp,
  }[kind];
  return record(
    kind,
    [x],
    () => forward(x, axis, opts),
    (save, out) => {
      const kept = keptShape(x, axis);
      const sx = kind === 'sum' || kind === 'mean' ? null : save(x);
      const sy = kind === 'sum' || kind === 'mean' ? null : save(out);
      return (gy) => {
        const g = gy.reshape(kept);
        if (kind === 'sum') return using([g], [g.expand(x.shape)]);
        if (kind === 'mean') {
          const spread = g.expand(x.shape);
          return using([g, spread], [ew.mul(spread, size(kept) / x.size)]);
        }
        const y = sy!.reshape(kept);
        if (kind === 'logsumexp') {
          // d/dx logsumexp = softmax(x) = exp(x - y)
          const shifted = ew.sub(sx!, y);
          const p = ew.exp(shifted);
          return using([g, y, shifted, p], [ew.mul(p, g)]);
        }
        // max / min: the gradient is shared evenly by the tied extreme values (PyTorch amax/amin)
        const same = ew.eq(sx!, y);
        const hit = ew.cast(same, 'f32');
        const ties = reduce.sum(hit, reducedAxes(x, axis), { keepdim: true });
        const share = ew.div(g, ties);
        return using([g, y, same, hit, ties, share], [ew.mul(hit, share)]);
      };
    },
  );
}

/** Sum over `axis` (a number, a list, or every axis when omitted). */
export const sum = (x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}) =>
  x.dtype === 'f32' || x.dtype === 'f16' ? reduction('sum', x, axis, opts) : reduce.sum(x, axis, opts);
export const mean = (x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}) =>
  reduction('mean', x, axis, opts);
export const max = (x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}) =>
  x.dtype === 'f32' || x.dtype === 'f16' ? reduction('max', x, axis, opts) : reduce.max(x, axis, opts);
export const min = (x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}) =>
  x.dtype === 'f32' || x.dtype === 'f16' ? reduction('min', x, axis, opts) : reduce.min(x, axis, opts);
/** log(sum(exp(x))) computed stably; rows of -inf give -inf. */
export const logsumexp = (x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}) =>
  reduction('logsumexp', x, axis, opts);

// ---- softmax, norms ----------------------------------------------------------------------------

/** Softmax along `axis` (default last), PyTorch `F.softmax(x, dim)`. */
export function softmax(x: Tensor, axis = -1): Tensor {
  return record(
    'softmax',
    [x],
    () => sm.softmax(x, axis),
    (save, out) => {
      const y = save(out);
      // dx = y * (gy - sum(gy * y))
      return (gy) => {
        const gyy = ew.mul(gy, y);
        const s = reduce.sum(gyy, axis, { keepdim: true });
        const d = ew.sub(gy, s);
        return using([gyy, s, d], [ew.mul(y, d)]);
      };
    },
  );
}

/** log-softmax along `axis` (default last). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return record(
    'logSoftmax',
    [x],
    () => sm.logSoftmax(x, axis),
    (save, out) => {
      const y = save(out);
      // dx = gy - exp(y) * sum(gy)
      return (gy) => {
        const s = reduce.sum(gy, axis, { keepdim: true });
        const p = ew.exp(y);
        const ps = ew.mul(p, s);
        return using([s, p, ps], [ew.sub(gy, ps)]);
      };
    },
  );
}

function normOp(
  kind: 'layer' | 'rms',
  x: Tensor,
  normalizedShape: readonly number[],
  opts: NormOptions,
): Tensor {
  const forward = kind === 'layer' ? norms.layerNorm : norms.rmsNorm;
  const weight = opts.weight ?? null;
  const bias = opts.bias ?? null;
  const eps = opts.eps ?? (kind === 'layer' ? 1e-5 : 1e-6);
  return record(
    kind === 'layer' ? 'layerNorm' : 'rmsNorm',
    [x, weight, bias],
    () => forward(x, normalizedShape, opts),
    (save) => {
      const sx = save(x);
      const sw = weight ? save(weight) : null;
      return (gy, needs) => {
        const { dx, gyXhat } = norms.normBackward(kind, sx, normalizedShape, gy, sw, eps);
        const dw = gyXhat && needs[1] ? reduce.sum(gyXhat, 0) : null;
        let db: Tensor | null = null;
        if (bias && needs[2]) {
          const rows = gy.reshape([-1, size(normalizedShape)]);
          db = using([rows], reduce.sum(rows, 0));
        }
        const shaped = (t: Tensor | null) => (t ? using([t], t.reshape(normalizedShape)) : null);
        gyXhat?.dispose();
        return [needs[0] ? dx : using([dx], null), shaped(dw), shaped(db)];
      };
    },
  );
}

/** Layer normalization over the trailing `normalizedShape` dims (PyTorch `F.layer_norm`). */
export const layerNorm = (x: Tensor, normalizedShape: readonly number[], opts: NormOptions = {}) =>
  normOp('layer', x, normalizedShape, opts);
/** RMS normalization over the trailing `normalizedShape` dims (PyTorch `F.rms_norm`). */
export const rmsNorm = (x: Tensor, normalizedShape: readonly number[], opts: NormOptions = {}) =>
  normOp('rms', x, normalizedShape, opts);
