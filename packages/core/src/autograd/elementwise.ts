/**
 * Differentiable elementwise ops: each wraps the op of ops/elementwise.ts and records its backward,
 * whose expressions live in the op tables (ops/elementwise-table.ts); broadcast operands get their
 * gradient summed back to their shape (PyTorch tools/autograd/derivatives.yaml).
 */
import type { BinaryName, UnaryName } from '../ops/elementwise.js';
import * as ew from '../ops/elementwise.js';
import type { Tensor } from '../tensor.js';
import { type Operand, using } from './backward-helpers.js';
import { alias, record, sumTo } from './engine.js';

export function unary(name: UnaryName, x: Tensor): Tensor {
  return record(
    name,
    [x],
    () => ew.unary(name, x),
    (save) => {
      const sx = save(x);
      return (gy) => [ew.unaryBackward(name, sx, gy)];
    },
  );
}

/** Gradient of a binary op for one operand: the table's expression, summed to the operand's shape. */
function binaryGrad(name: BinaryName, which: 0 | 1, a: Operand, b: Operand, gy: Tensor): Tensor {
  const row: ew.BinaryRow = ew.BINARY[name];
  const expr = (which === 0 ? row.da : row.db)?.wgsl;
  // pass-through gradients need no kernel
  const full =
    expr === 'x2' ? alias(gy) : expr === '-x2' ? ew.neg(gy) : ew.binaryBackward(name, which, a, b, gy);
  const operand = which === 0 ? a : b;
  return using([full], sumTo(full, typeof operand === 'number' ? [] : operand.shape));
}

export function binary(name: BinaryName, a: Operand, b: Operand): Tensor {
  if ('compare' in ew.BINARY[name]) return ew.binary(name, a, b); // comparisons carry no gradient
  return record(
    name,
    [a, b],
    () => ew.binary(name, a, b),
    (save) => {
      // add and sub pass the gradient through; the others read both operands
      const passThrough = name === 'add' || name === 'sub';
      const keep = (t: Operand) => (typeof t === 'number' || passThrough ? t : save(t));
      const [sa, sb] = [keep(a), keep(b)];
      return (gy, needs) => [
        needs[0] ? binaryGrad(name, 0, sa, sb, gy) : null,
        needs[1] ? binaryGrad(name, 1, sa, sb, gy) : null,
      ];
    },
  );
}

/** `cond ? a : b` elementwise with broadcasting (PyTorch `torch.where`); no gradient flows to cond. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  return record(
    'where',
    [a, b],
    () => ew.where(cond, a, b),
    (save) => {
      const sc = save(cond);
      const part = (t: Operand, picked: boolean, gy: Tensor) => {
        const full = picked ? ew.where(sc, gy, 0) : ew.where(sc, 0, gy);
        return using([full], sumTo(full, typeof t === 'number' ? [] : t.shape));
      };
      return (gy, needs) => [needs[0] ? part(a, true, gy) : null, needs[1] ? part(b, false, gy) : null];
    },
  );
}

/** Converts to `dtype`; gradients flow between float dtypes only. */
export function cast(x: Tensor, dtype: Parameters<typeof ew.cast>[1]): Tensor {
  if (dtype !== 'f32' && dtype !== 'f16') return ew.cast(x, dtype);
  return record(
    'cast',
    [x],
    () => ew.cast(x, dtype),
    () => (gy) => [ew.cast(gy, x.dtype)],
  );
}

/** A contiguous copy of `x`. */
export function copy(x: Tensor): Tensor {
  return record(
    'copy',
    [x],
    () => ew.copy(x),
    () => (gy) => [alias(gy)],
  );
}

export const neg = (x: Tensor) => unary('neg', x);
export const abs = (x: Tensor) => unary('abs', x);
export const exp = (x: Tensor) => unary('exp', x);
export const log = (x: Tensor) => unary('log', x);
export const sqrt = (x: Tensor) => unary('sqrt', x);
export const rsqrt = (x: Tensor) => unary('rsqrt', x);
export const tanh = (x: Tensor) => unary('tanh', x);
export const erf = (x: Tensor) => unary('erf', x);
export const relu = (x: Tensor) => unary('relu', x);
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
export const silu = (x: Tensor) => unary('silu', x);
export const square = (x: Tensor) => unary('square', x);
export const sin = (x: Tensor) => unary('sin', x);
export const cos = (x: Tensor) => unary('cos', x);
export const softplus = (x: Tensor) => unary('softplus', x);
/** GELU, exact (erf) or PyTorch's `approximate='tanh'`. */
export const gelu = (x: Tensor, opts: { approximate?: 'none' | 'tanh' } = {}) =>
  unary(opts.approximate === 'tanh' ? 'gelu_tanh' : 'gelu', x);

export const add = (a: Operand, b: Operand) => binary('add', a, b);
export const sub = (a: Operand, b: Operand) => binary('sub', a, b);
export const mul = (a: Operand, b: Operand) => binary('mul', a, b);
export const div = (a: Operand, b: Operand) => binary('div', a, b);
export const pow = (a: Operand, b: Operand) => binary('pow', a, b);
export const maximum = (a: Operand, b: Operand) => binary('maximum', a, b);
export const minimum = (a: Operand, b: Operand) => binary('minimum', a, b);
