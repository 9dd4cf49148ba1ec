/** indexSelect / embedding and their adjoint on the reference backend; bad indices throw at once. */
import { fail } from '../../errors.js';
import type { KernelSignatures } from '../../kernels/signatures.js';
import { fmt } from '../../shape.js';

type Sig = KernelSignatures;

export function gatherReference({ op, x, indices, out, outer, axisLen, inner }: Sig['Gather']['args']): void {
  const src = x.storage.array!;
  const ids = indices.storage.array!;
  const dst = out.storage.array!;
  const count = indices.size;
  for (let p = 0; p < count; p++) {
    const j = ids[indices.offset + p]!;
    if (j < 0 || j >= axisLen) {
      fail(
        'INDEX_OUT_OF_RANGE',
        `${op}: index ${j} at position ${p} of indices ${fmt(indices.shape)} is out of range [0, ${axisLen})`,
      );
    }
  }
  if (inner === 1) {
    // one element per index (e.g. an STFT's frame gather): a plain indexed copy, no subarray per element
    for (let o = 0; o < outer; o++) {
      const from = x.offset + o * axisLen;
      const to = o * count;
      for (let p = 0; p < count; p++) dst[to + p] = src[from + ids[indices.offset + p]!]!;
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let p = 0; p < count; p++) {
      const from = x.offset + (o * axisLen + ids[indices.offset + p]!) * inner;
      dst.set(src.subarray(from, from + inner), (o * count + p) * inner);
    }
  }
}

export function indexAddReference(args: Sig['IndexAdd']['args']): void {
  const { src, indices, out, outer, axisLen, inner } = args;
  const s = src.storage.array!;
  const ids = indices.storage.array!;
  const dst = out.storage.array!;
  const count = indices.size;
  for (let o = 0; o < outer; o++) {
    for (let p = 0; p < count; p++) {
      const j = ids[indices.offset + p]!;
      const from = src.offset + (o * count + p) * inner;
      const to = (o * axisLen + j) * inner;
      for (let e = 0; e < inner; e++) dst[to + e]! += s[from + e]!;
    }
  }
}
