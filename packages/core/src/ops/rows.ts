/**
 * Shared addressing for ops that walk one axis per invocation (reductions, softmax): the other
 * ("outer") dims are unravelled from the invocation index through uniforms, so any axis of any
 * strided view works without a transposing copy.
 */
import { dimFields, type Field, packDims } from '../backend/uniforms.js';
import { fail } from '../errors.js';
import { fmt, normalizeAxis, size } from '../shape.js';
import type { Tensor } from '../tensor.js';

export interface RowLayout {
  axis: number;
  /** Length of the walked axis. */
  length: number;
  /** Input stride along the axis. */
  stride: number;
  outerShape: number[];
  outerStrides: number[];
  outerCount: number;
}

export function rowLayout(op: string, x: Tensor, axisArg: number): RowLayout {
  const axis = normalizeAxis(op, axisArg, x.rank);
  const rank = x.rank;
  if (rank - 1 > 8) fail('UNSUPPORTED', `${op}: rank ${rank} ${fmt(x.shape)} exceeds 9`);
  const outerShape = x.shape.filter((_, d) => d !== axis);
  const outerStrides = x.strides.filter((_, d) => d !== axis);
  return {
    axis,
    length: rank === 0 ? 1 : x.shape[axis]!,
    stride: rank === 0 ? 0 : x.strides[axis]!,
    outerShape,
    outerStrides,
    outerCount: size(outerShape),
  };
}

export const ROW_FIELDS: Field[] = [
  ['orank', 'u32'],
  ['in_off', 'u32'],
  ['len', 'u32'],
  ['stride', 'u32'],
  ...dimFields('oshape'),
  ...dimFields('ostride'),
];

export function rowValues(x: Tensor, r: RowLayout): Record<string, number | number[]> {
  return {
    orank: r.outerShape.length,
    in_off: x.offset,
    len: r.length,
    stride: r.stride,
    ...packDims('oshape', r.outerShape),
    ...packDims('ostride', r.outerStrides),
  };
}

/** WGSL: `rowBase(o)` = input offset of outer index `o`'s first element. */
export const ROW_WGSL = `
fn dimAt(a: vec4u, b: vec4u, d: u32) -> u32 { if (d < 4u) { return a[d]; } return b[d - 4u]; }
fn rowBase(o: u32) -> u32 {
  var rem = o;
  var off = u.in_off;
  for (var d = u.orank; d > 0u; d--) {
    let dim = dimAt(u.oshape0, u.oshape1, d - 1u);
    off += (rem % dim) * dimAt(u.ostride0, u.ostride1, d - 1u);
    rem = rem / dim;
  }
  return off;
}`;

/** CPU twin of `rowBase`. */
export function rowBaseCpu(x: Tensor, r: RowLayout, o: number): number {
  let rem = o;
  let off = x.offset;
  for (let d = r.outerShape.length - 1; d >= 0; d--) {
    const dim = r.outerShape[d]!;
    off += (rem % dim) * r.outerStrides[d]!;
    rem = Math.floor(rem / dim);
  }
  return off;
}
