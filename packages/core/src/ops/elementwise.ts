/**
 * Elementwise ops over the tables of elementwise-table.ts: argument and dtype checks, broadcasting, and
 * the gradient expressions autograd runs; every op is one `Map` kernel call (kernels/map.ts).
 */
import type { DType } from '../dtype.js';
import { fail } from '../errors.js';
import { COPY } from '../kernels/map.js';
import { broadcastShapes, fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import {
  BINARY,
  type BinaryName,
  type BinaryRow,
  GRAD_WGSL,
  TANH_WGSL,
  UNARY,
  type UnaryName,
  type UnaryRow,
} from './elementwise-table.js';
import { type MapOp, map, mapInto, sameDevice } from './map.js';

export { BINARY, type BinaryName, type BinaryRow, UNARY, type UnaryName } from './elementwise-table.js';

export function unary(name: UnaryName, x: Tensor): Tensor {
  const row: UnaryRow = UNARY[name];
  sameDevice(name, [x], ['x']);
  const isBoolOut = name === 'isnan';
  if (x.dtype === 'bool' || (!row.ints && x.dtype !== 'f32' && x.dtype !== 'f16')) {
    fail(
      'DTYPE_MISMATCH',
      `${name}: x has dtype ${x.dtype}; expected a float tensor (cast it with cast(x, 'f32'))`,
    );
  }
  const op: MapOp = { name, wgsl: row.wgsl, cpu: row.cpu, ...(row.helpers ? { helpers: row.helpers } : {}) };
  return map(op, [x], x.shape, isBoolOut ? 'bool' : x.dtype);
}

/** A number operand becomes a 0-d tensor of the other operand's dtype. */
function operand(x: Tensor | number, like: Tensor): Tensor {
  return typeof x === 'number' ? like.device.scalar(x, like.dtype) : x;
}

export function binary(name: BinaryName, a: Tensor | number, b: Tensor | number): Tensor {
  const row: BinaryRow = BINARY[name];
  if (typeof a === 'number' && typeof b === 'number') {
    fail('INVALID_ARGUMENT', `${name}: at least one operand must be a tensor`);
  }
  const like = (typeof a === 'number' ? b : a) as Tensor;
  const ta = operand(a, like);
  const tb = operand(b, like);
  try {
    sameDevice(name, [ta, tb], ['a', 'b']);
    if (ta.dtype !== tb.dtype) {
      fail(
        'DTYPE_MISMATCH',
        `${name}: a is ${ta.dtype} ${fmt(ta.shape)} but b is ${tb.dtype} ${fmt(tb.shape)}; cast one`,
      );
    }
    const isFloat = ta.dtype === 'f32' || ta.dtype === 'f16';
    if ((!isFloat && !row.ints) || (ta.dtype === 'bool' && !row.compare)) {
      fail(
        'DTYPE_MISMATCH',
        `${name}: got ${ta.dtype} tensors; ${name} needs floats (cast with cast(x, 'f32'))`,
      );
    }
    const shape = broadcastShapes(name, [ta.shape, tb.shape], ['a', 'b']);
    const op: MapOp = {
      name,
      wgsl: row.wgsl,
      cpu: row.cpu,
      ...(row.helpers ? { helpers: row.helpers } : {}),
    };
    return map(op, [ta, tb], shape, row.compare ? 'bool' : ta.dtype);
  } finally {
    if (ta !== a) ta.dispose();
    if (tb !== b) tb.dispose();
  }
}

/** `cond ? a : b` elementwise, with broadcasting (PyTorch `torch.where`). */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const like = typeof a === 'number' ? (typeof b === 'number' ? null : b) : a;
  if (!like) fail('INVALID_ARGUMENT', 'where: a or b must be a tensor');
  const ta = operand(a, like);
  const tb = operand(b, like);
  try {
    sameDevice('where', [cond, ta, tb], ['cond', 'a', 'b']);
    if (cond.dtype !== 'bool') fail('DTYPE_MISMATCH', `where: cond has dtype ${cond.dtype}; expected bool`);
    if (ta.dtype !== tb.dtype) fail('DTYPE_MISMATCH', `where: a is ${ta.dtype} but b is ${tb.dtype}`);
    const shape = broadcastShapes('where', [cond.shape, ta.shape, tb.shape], ['cond', 'a', 'b']);
    const op: MapOp = { name: 'where', wgsl: 'select(x2, x1, x0 != 0u)', cpu: (c, x, y) => (c ? x : y) };
    return map(op, [cond, ta, tb], shape, ta.dtype);
  } finally {
    if (ta !== a) ta.dispose();
    if (tb !== b) tb.dispose();
  }
}

const CAST_WGSL: Record<DType, (from: DType) => string> = {
  f32: (from) => (from === 'f32' ? 'x0' : 'f32(x0)'),
  f16: (from) => (from === 'f16' ? 'x0' : from === 'bool' ? 'f16(f32(x0))' : 'f16(x0)'),
  i32: (from) => (from === 'i32' ? 'x0' : 'i32(x0)'),
  u32: (from) => (from === 'u32' || from === 'bool' ? 'x0' : 'u32(x0)'),
  bool: (from) => (from === 'f32' ? 'u32(x0 != 0.0)' : from === 'f16' ? 'u32(x0 != 0.0h)' : 'u32(x0 != 0)'),
};
const CAST_CPU: Record<DType, (x: number) => number> = {
  f32: (x) => x,
  f16: (x) => x,
  // WGSL saturates to the largest f32 values inside the integer range
  i32: (x) => (Number.isNaN(x) ? 0 : Math.trunc(Math.min(Math.max(x, -2147483648), 2147483520))),
  u32: (x) => (Number.isNaN(x) || x <= 0 ? 0 : Math.trunc(Math.min(x, 4294967040))),
  bool: (x) => (x !== 0 ? 1 : 0),
};

/**
 * Converts to `dtype`. Float to int truncates toward zero and saturates at the largest f32 inside the
 * integer range (2147483520 for i32), as WGSL conversions do; NaN becomes 0.
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  sameDevice('cast', [x], ['x']);
  if (x.dtype === dtype) return x.contiguous();
  const op: MapOp = { name: `cast_${dtype}`, wgsl: CAST_WGSL[dtype](x.dtype), cpu: CAST_CPU[dtype] };
  if (x.dtype === 'u32' && dtype === 'i32') op.wgsl = 'bitcast<i32>(x0)';
  return map(op, [x], x.shape, dtype);
}

/** Writes `src` (broadcast to `dst`'s shape) into the view `dst`. */
export function copyInto(dst: Tensor, src: Tensor): void {
  sameDevice('copyInto', [dst, src], ['dst', 'src']);
  if (dst.dtype !== src.dtype)
    fail('DTYPE_MISMATCH', `copyInto: dst is ${dst.dtype} but src is ${src.dtype}`);
  broadcastShapes('copyInto', [dst.shape, src.shape], ['dst', 'src']);
  mapInto(COPY, [src], dst);
}

/** Sets every element of `t` to `value` in place (initialization; not recorded by autograd). */
export function fillInPlace(t: Tensor, value: number): void {
  const src = t.device.full([], value, t.dtype);
  copyInto(t, src);
  src.dispose();
}

/** A contiguous copy of `x`. */
export function copy(x: Tensor): Tensor {
  return map(COPY, [x], x.shape, x.dtype);
}

/** Helpers of gradient expressions, each once (WGSL rejects a function defined twice). */
function gradHelpers(own: string | undefined): string {
  return [...new Set([own, TANH_WGSL, GRAD_WGSL].filter((h): h is string => h !== undefined))].join('\n');
}

/** dL/dx of `name` at x for dL/dy = dy (autograd's backward of `unary`). */
export function unaryBackward(name: UnaryName, x: Tensor, dy: Tensor): Tensor {
  const row: UnaryRow = UNARY[name];
  if (!row.dx) return fail('UNSUPPORTED', `${name}: has no gradient`);
  const op: MapOp = {
    name: `${name}_dx`,
    wgsl: row.dx.wgsl,
    cpu: row.dx.cpu,
    helpers: gradHelpers(row.helpers),
  };
  return map(op, [x, dy], dy.shape, dy.dtype);
}

/**
 * dL/da (`which` = 0) or dL/db (1) of `name` for dL/dy = dy, in the broadcast shape of the output
 * (autograd sums it down to the operand's shape).
 */
export function binaryBackward(
  name: BinaryName,
  which: 0 | 1,
  a: Tensor | number,
  b: Tensor | number,
  dy: Tensor,
): Tensor {
  const row: BinaryRow = BINARY[name];
  const grad = which === 0 ? row.da : row.db;
  if (!grad) return fail('UNSUPPORTED', `${name}: has no gradient`);
  const ta = operand(a, dy);
  const tb = operand(b, dy);
  try {
    const op: MapOp = {
      name: `${name}_d${which === 0 ? 'a' : 'b'}`,
      wgsl: grad.wgsl,
      cpu: grad.cpu,
      helpers: gradHelpers(row.helpers),
    };
    return map(op, [ta, tb, dy], dy.shape, dy.dtype);
  } finally {
    if (ta !== a) ta.dispose();
    if (tb !== b) tb.dispose();
  }
}

// ---- named wrappers ---------------------------------------------------------------------------------
// for the library below autograd (the public, differentiable ops are autograd/elementwise.ts's); the
// comparisons eq ... ge are public as they are (index.ts)
export const neg = (x: Tensor) => unary('neg', x);
export const abs = (x: Tensor) => unary('abs', x);
export const exp = (x: Tensor) => unary('exp', x);
export const sqrt = (x: Tensor) => unary('sqrt', x);
export const add = (a: Tensor | number, b: Tensor | number) => binary('add', a, b);
export const sub = (a: Tensor | number, b: Tensor | number) => binary('sub', a, b);
export const mul = (a: Tensor | number, b: Tensor | number) => binary('mul', a, b);
export const div = (a: Tensor | number, b: Tensor | number) => binary('div', a, b);
export const pow = (a: Tensor | number, b: Tensor | number) => binary('pow', a, b);
export const minimum = (a: Tensor | number, b: Tensor | number) => binary('minimum', a, b);
export const eq = (a: Tensor | number, b: Tensor | number) => binary('eq', a, b);
export const ne = (a: Tensor | number, b: Tensor | number) => binary('ne', a, b);
export const lt = (a: Tensor | number, b: Tensor | number) => binary('lt', a, b);
export const le = (a: Tensor | number, b: Tensor | number) => binary('le', a, b);
export const gt = (a: Tensor | number, b: Tensor | number) => binary('gt', a, b);
export const ge = (a: Tensor | number, b: Tensor | number) => binary('ge', a, b);
