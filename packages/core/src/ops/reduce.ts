/**
 * Reductions over any axis: sum, mean, max, min, argmax, argmin, logsumexp. One invocation walks one
 * row (no barriers: SwiftShader punishes them); rows long enough to starve the device are cut into
 * chunks reduced in a second pass.
 */
import type { KernelSpec } from '../backend/webgpu.js';
import type { DType } from '../dtype.js';
import { fail } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { mul } from './elementwise.js';
import { sameDevice } from './map.js';
import { ROW_FIELDS, ROW_WGSL, type RowLayout, rowBaseCpu, rowLayout, rowValues } from './rows.js';

type ReduceKind = 'sum' | 'max' | 'min' | 'lse' | 'argmax' | 'argmin';

const NEG_INF = '-inf()';
const POS_INF = 'inf()';

/** Per kind: WGSL accumulator setup, step over `v` at index `k`, result; plus the CPU twin. */
const KINDS: Record<ReduceKind, { init: string; step: string; result: string; twoPass: boolean }> = {
  sum: { init: 'var acc = T(0);', step: 'acc += v;', result: 'acc', twoPass: true },
  max: {
    init: `var acc = T(${NEG_INF});`,
    step: 'acc = select(max(acc, v), acc + v, isNan(f32(v)) || isNan(f32(acc)));',
    result: 'acc',
    twoPass: true,
  },
  min: {
    init: `var acc = T(${POS_INF});`,
    step: 'acc = select(min(acc, v), acc + v, isNan(f32(v)) || isNan(f32(acc)));',
    result: 'acc',
    twoPass: true,
  },
  // online log-sum-exp (Milakov & Gimelshein 2018); -inf entries contribute nothing
  lse: {
    init: `var m = ${NEG_INF}; var s = 0.0;`,
    step: `if (v > m) { s = s * exp(m - v) + 1.0; m = v; } else if (v > ${NEG_INF}) { s += exp(v - m); } else if (isNan(f32(v))) { m = v; }`,
    result: `select(m + log(s), ${NEG_INF}, s == 0.0 && !isNan(m))`,
    twoPass: true,
  },
  // PyTorch: NaN counts as the largest value; ties give the first index
  argmax: {
    init: `var best = T(${NEG_INF}); var bi = 0u; var seen = false;`,
    step: 'if (!seen || (!isNan(f32(best)) && (v > best || isNan(f32(v))))) { best = v; bi = k; seen = true; }',
    result: 'i32(bi)',
    twoPass: false,
  },
  argmin: {
    init: `var best = T(${POS_INF}); var bi = 0u; var seen = false;`,
    step: 'if (!seen || (!isNan(f32(best)) && (v < best || isNan(f32(v))))) { best = v; bi = k; seen = true; }',
    result: 'i32(bi)',
    twoPass: false,
  },
};

export function reduceSpec(kind: ReduceKind, inDtype: DType, outDtype: DType): KernelSpec {
  const k = KINDS[kind];
  const t = inDtype === 'f16' ? 'f16' : inDtype === 'f32' ? 'f32' : 'i32';
  const load =
    inDtype === 'bool' || inDtype === 'u32' ? 'i32(x_ld(base + k * u.stride))' : 'x_ld(base + k * u.stride)';
  return {
    key: `reduce:${kind}:${inDtype}->${outDtype}`,
    uniforms: [...ROW_FIELDS, ['n', 'u32'], ['chunks', 'u32'], ['chunk', 'u32']],
    operands: [
      { name: 'x', dtype: inDtype },
      { name: 'out', dtype: outDtype, write: true },
    ],
    workgroupSize: 64,
    body: `
alias T = ${t};
${ROW_WGSL}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = workgroupIndex(wg, nwg) * WG + li;
  if (i >= u.n) { return; }
  let base = rowBase(i / u.chunks);
  let k0 = (i % u.chunks) * u.chunk;
  let k1 = min(u.len, k0 + u.chunk);
  ${k.init}
  for (var k = k0; k < k1; k++) {
    let v = T(${load});
    ${k.step}
  }
  out_st(i, ${k.result});
}`,
  };
}

function reduceCpu(kind: ReduceKind, x: Tensor, r: RowLayout, out: Tensor): void {
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
}

/** Reduces one axis; the result drops it. Long rows with few outputs take two passes on the GPU. */
function reduceAxis(kind: ReduceKind, x: Tensor, axis: number): Tensor {
  const r = rowLayout(kind, x, axis);
  const outDtype: DType = kind.startsWith('arg')
    ? 'i32'
    : x.dtype === 'bool' || x.dtype === 'u32'
      ? 'i32'
      : x.dtype;
  const device = x.device;
  const gpu = device.gpu;
  if (!gpu) {
    const out = device.empty(r.outerShape, outDtype);
    reduceCpu(kind, x, r, out);
    return out;
  }
  const spec = reduceSpec(kind, x.dtype, outDtype);
  // Enough parallel work for the device: split rows when there are few of them and they are long.
  const chunks =
    KINDS[kind].twoPass && r.outerCount < 1024 && r.length >= 4096
      ? Math.min(256, Math.ceil(r.length / 1024))
      : 1;
  const chunk = Math.ceil(r.length / chunks);
  const partial = device.empty(chunks === 1 ? r.outerShape : [...r.outerShape, chunks], outDtype);
  const n = r.outerCount * chunks;
  gpu.run(
    spec,
    [x.storage.buffer!, partial.storage.buffer!],
    { ...rowValues(x, r), n, chunks, chunk },
    Math.ceil(n / 64),
  );
  if (chunks === 1) return partial;
  const out = reduceAxis(kind === 'argmax' || kind === 'argmin' ? kind : kind, partial, -1);
  partial.dispose();
  return out;
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
