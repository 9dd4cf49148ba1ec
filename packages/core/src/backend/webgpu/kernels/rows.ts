/** WGSL addressing for kernels that walk one axis per invocation (kernels/rows.ts has the geometry). */
import type { RowLayout } from '../../../kernels/rows.js';
import type { Tensor } from '../../../tensor.js';
import { perItemMain } from '../shader.js';
import { dimFields, type Field, packDims } from '../uniforms.js';

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

/**
 * WGSL: the row helpers, then `main` with one invocation per outer row `index` (u.n of them) and `base`,
 * the input offset of that row's first element (softmax, cross-entropy).
 */
export function perRowMain(index: string): string {
  return `${ROW_WGSL}
${perItemMain(index, 'u.n')}
  let base = rowBase(${index});`;
}
