/** The elementwise engine on the reference backend: a plain loop over the coalesced dims. */
import type { TypedArray } from '../../dtype.js';
import type { MapArgs } from '../../kernels/map.js';
import { size } from '../../shape.js';

export function mapReference({ op, inputs, out, shape, strides }: MapArgs): void {
  const arrays = inputs.map((t) => t.storage.array!);
  const dst = out.storage.array as TypedArray;
  const rank = shape.length;
  const n = size(shape);
  const offs = [out.offset, ...inputs.map((t) => t.offset)];
  const idx = new Array<number>(rank).fill(0);
  const args = new Array<number>(inputs.length);
  const f = op.cpu;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < arrays.length; k++) args[k] = arrays[k]![offs[k + 1]!]!;
    dst[offs[0]!] = f(...args);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      for (let k = 0; k < offs.length; k++) offs[k]! += strides[k]![d]!;
      if (idx[d]! < shape[d]!) break;
      for (let k = 0; k < offs.length; k++) offs[k]! -= strides[k]![d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}
