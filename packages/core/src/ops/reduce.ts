/**
 * Reductions over any axis: sum, mean, max, min, argmax, argmin, logsumexp. Each axis is one `Reduce`
 * kernel call (several axes reduce one after another).
 */
import type { DType } from '../dtype.js';
import { fail } from '../errors.js';
import { runKernel } from '../kernels/registry.js';
import { rowLayout } from '../kernels/rows.js';
import type { ReduceKind } from '../kernels/signatures.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { mul } from './elementwise.js';
import { sameDevice } from './map.js';

/** Reduces one axis; the result drops it. Ints and bools sum to i32, arg kinds give i32. */
function reduceAxis(kind: ReduceKind, x: Tensor, axis: number): Tensor {
  const rows = rowLayout(kind, x, axis);
  const outDtype: DType = kind.startsWith('arg')
    ? 'i32'
    : x.dtype === 'bool' || x.dtype === 'u32'
      ? 'i32'
      : x.dtype;
  return runKernel('Reduce', x.device, { kind, x, rows, outDtype });
}

export interface ReduceOptions {
  /** Keep reduced dims as size 1 (PyTorch `keepdim`). */
  keepdim?: boolean;
}

function axesOf(op: string, x: Tensor, axis: number | readonly number[] | undefined): number[] {
  if (axis === undefined) return x.shape.map((_, i) => i).reverse();
  const list = (typeof axis === 'number' ? [axis] : [...axis]).map((a) => normalizeAxis(op, a, x.rank));
  if (new Set(list).size !== list.length)
    fail('INVALID_ARGUMENT', `${op}: repeated axis in ${JSON.stringify(axis)}`);
  return list.sort((a, b) => b - a);
}

function reduceMany(
  kind: 'sum' | 'max' | 'min' | 'lse',
  x: Tensor,
  axis: number | readonly number[] | undefined,
  opts: ReduceOptions,
): Tensor {
  sameDevice(kind, [x], ['x']);
  const axes = axesOf(kind, x, axis);
  let cur = x;
  for (const a of axes) {
    const next = reduceAxis(kind, cur, a);
    if (cur !== x) cur.dispose();
    cur = next;
  }
  if (axes.length === 0) cur = cur === x ? x.contiguous() : cur;
  if (!opts.keepdim) return cur;
  const shape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const kept = cur.reshape(shape);
  cur.dispose();
  return kept;
}

/** Sum over `axis` (a number, a list, or every axis when omitted). Ints and bools sum to i32. */
export const sum = (x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}) =>
  reduceMany('sum', x, axis, opts);
export const max = (x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}) =>
  reduceMany('max', x, axis, opts);
export const min = (x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}) =>
  reduceMany('min', x, axis, opts);
/** log(sum(exp(x))) computed stably; rows of -inf give -inf. */
export const logsumexp = (x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}) =>
  reduceMany('lse', x, axis, opts);

export function mean(x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}): Tensor {
  if (x.dtype !== 'f32' && x.dtype !== 'f16')
    fail('DTYPE_MISMATCH', `mean: x has dtype ${x.dtype}; expected a float tensor`);
  const count = axesOf('mean', x, axis).reduce((n, a) => n * x.shape[a]!, 1);
  const s = sum(x, axis, opts);
  const out = mul(s, 1 / count);
  s.dispose();
  return out;
}

function argReduce(
  kind: 'argmax' | 'argmin',
  x: Tensor,
  axis: number | undefined,
  opts: ReduceOptions,
): Tensor {
  sameDevice(kind, [x], ['x']);
  if (axis === undefined) {
    // PyTorch: the index into the flattened tensor
    const flat = x.reshape([x.size]);
    const out = reduceAxis(kind, flat, 0);
    flat.dispose();
    return out;
  }
  const a = normalizeAxis(kind, axis, x.rank);
  const out = reduceAxis(kind, x, a);
  if (!opts.keepdim) return out;
  const kept = out.reshape(x.shape.map((d, i) => (i === a ? 1 : d)));
  out.dispose();
  return kept;
}

/** Index (i32) of the largest value along `axis`, or in the flattened tensor; NaN counts as largest. */
export const argmax = (x: Tensor, axis?: number, opts: ReduceOptions = {}) =>
  argReduce('argmax', x, axis, opts);
export const argmin = (x: Tensor, axis?: number, opts: ReduceOptions = {}) =>
  argReduce('argmin', x, axis, opts);
