/**
 * Geometry of ops that walk one axis per row (reductions, softmax, cross-entropy): the other ("outer")
 * dims are unravelled from the row index, so any axis of any strided view works without a copy.
 */
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
