/**
 * The elementwise engine's contract, shared by ops and backends: an op is a WGSL expression with its
 * TypeScript twin (`MapOp`), and a call is that op over operands whose dims have been coalesced (dims
 * every operand walks contiguously merged, size-1 dims dropped), so backends loop over few dims.
 */

import { fail } from '../errors.js';
import { broadcastStrides, fmt, type Shape, size } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { runKernel } from './registry.js';

export interface MapOp {
  /** Pipeline key part; must identify the expression. */
  name: string;
  /** WGSL expression over `x0`, `x1`, `x2` (storage types) giving the output's storage type. */
  wgsl: string;
  /** CPU twin over numbers (bools as 0/1). */
  cpu: (...x: number[]) => number;
  /** Extra WGSL functions the expression uses. */
  helpers?: string;
}

/** The `Map` kernel's arguments: strides of the output first, then of each input, over `shape`. */
export interface MapArgs {
  op: MapOp;
  inputs: readonly Tensor[];
  out: Tensor;
  shape: number[];
  strides: number[][];
}

/** Dims a Map call may keep after coalescing (two vec4 uniforms on WebGPU). */
export const MAX_MAP_RANK = 8;

export const COPY: MapOp = { name: 'copy', wgsl: 'x0', cpu: (x) => x };

/** Merges dims that every operand walks contiguously, and drops size-1 dims: fewer loop steps. */
export function coalesce(shape: Shape, strideSets: number[][]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strideSets.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    const mergeable = last >= 0 && strideSets.every((s, k) => outStrides[k]![last] === s[d]! * n);
    if (mergeable) {
      outShape[last]! *= n;
      strideSets.forEach((s, k) => {
        outStrides[k]![last] = s[d]!;
      });
    } else {
      outShape.push(n);
      strideSets.forEach((s, k) => {
        outStrides[k]!.push(s[d]!);
      });
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** Whether `strides` walk `shape` row-major with no gaps. */
export function isDense(strides: readonly number[], shape: readonly number[]): boolean {
  let expect = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (strides[d] !== expect) return false;
    expect *= shape[d]!;
  }
  return true;
}

/** `op` over `inputs` (broadcast-compatible with `out`) into `out`, which may be a strided view. */
export function mapInto(op: MapOp, inputs: readonly Tensor[], out: Tensor): void {
  const shape = out.shape;
  if (size(shape) === 0) return;
  const inStrides = inputs.map((t) => broadcastStrides(t.shape, t.strides, shape));
  const c = coalesce(shape, [[...out.strides], ...inStrides]);
  if (c.shape.length > MAX_MAP_RANK) {
    fail(
      'UNSUPPORTED',
      `${op.name}: ${fmt(shape)} with these strides needs rank ${c.shape.length} > ${MAX_MAP_RANK}`,
    );
  }
  runKernel('Map', out.device, { op, inputs, out, shape: c.shape, strides: c.strides });
}

/**
 * A contiguous copy of `x` at offset 0 (for kernels that need a layout their operand does not have:
 * a vec4-aligned row, a packed matrix). Not recorded by autograd.
 */
export function copyOf(x: Tensor): Tensor {
  const out = x.device.empty(x.shape, x.dtype, false); // the copy writes every element
  mapInto(COPY, [x], out);
  return out;
}
