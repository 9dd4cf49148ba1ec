/** Row addressing on the reference backend (the TS twin of backend/webgpu/kernels/rows.ts `rowBase`). */
import type { RowLayout } from '../../kernels/rows.js';
import type { Tensor } from '../../tensor.js';

/** Input offset of outer index `o`'s first element. */
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
