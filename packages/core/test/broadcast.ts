/** Index arithmetic the op tests' float64 references share, written from NumPy's broadcasting rules. */

/**
 * The flat index, in a row-major operand of `shape` broadcast to `outShape` (shapes aligned on the
 * right; a dimension of 1 repeats), of the operand element that output element `i` reads.
 */
export function broadcastIndex(i: number, outShape: readonly number[], shape: readonly number[]): number {
  const lead = outShape.length - shape.length;
  let rem = i;
  let index = 0;
  let stride = 1;
  for (let d = outShape.length - 1; d >= 0; d--) {
    const c = rem % outShape[d]!;
    rem = Math.floor(rem / outShape[d]!);
    const od = d - lead;
    if (od >= 0) {
      index += (shape[od] === 1 ? 0 : c) * stride;
      stride *= shape[od]!;
    }
  }
  return index;
}
