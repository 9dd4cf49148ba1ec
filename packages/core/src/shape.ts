import { fail } from './errors.js';

export type Shape = readonly number[];

export const fmt = (shape: Shape): string => `[${shape.join(', ')}]`;

export function size(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function checkShape(name: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    fail(
      'INVALID_ARGUMENT',
      `${name}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
  return [...shape];
}

/** Resolves a possibly negative axis (PyTorch style) against `rank`. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= Math.max(rank, 1)) {
    fail('INVALID_ARGUMENT', `${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return a;
}

/** NumPy broadcasting of two or more shapes; names the operands in the error. */
export function broadcastShapes(op: string, shapes: readonly Shape[], names: readonly string[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (let k = 0; k < shapes.length; k++) {
    const s = shapes[k]!;
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else {
        const listed = shapes.map((sh, j) => `${names[j]} ${fmt(sh)}`).join(', ');
        fail(
          'SHAPE_MISMATCH',
          `${op}: shapes do not broadcast: ${listed} (dimension ${o} is ${out[o]} vs ${d})`,
        );
      }
    }
  }
  return out;
}

/** Strides that read `shape` (with its `strides`) as if broadcast to `target` (0 on broadcast dims). */
export function broadcastStrides(shape: Shape, strides: Shape, target: Shape): number[] {
  const out = new Array<number>(target.length).fill(0);
  const lead = target.length - shape.length;
  for (let i = 0; i < shape.length; i++) out[lead + i] = shape[i] === 1 ? 0 : strides[i]!;
  return out;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
