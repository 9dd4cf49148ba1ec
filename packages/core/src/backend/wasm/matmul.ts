/**
 * `matmul` on the wasm kernels (wasm/gemm.ts): operands are read in place where they live in the wasm
 * memory, else copied in as the spans of storage they use (views keep their strides: the packing reads
 * any layout); B is packed in parallel, then tasks of MC rows each compute their block of C, written in
 * place or copied out.
 */
import type { MatmulGeometry } from '../../kernels/signatures.js';
import type { Tensor } from '../../tensor.js';
import { INLINE_MACS } from './heuristics.js';
import type { Ptr, WasmRuntime } from './runtime.js';

/**
 * Copies into the wasm memory the storage elements that matrices starting at `offsets` (each spanning
 * `extent` elements from its start) read, and returns where, with the offsets rebased onto the copy;
 * storage that lives in the memory is read in place.
 */
export function stageMatrices(
  rt: WasmRuntime,
  src: ArrayLike<number>,
  offsets: readonly number[],
  extent: number,
): { ptr: Ptr; offsets: number[] } {
  if (rt.owns(src)) return { ptr: src.byteOffset, offsets: [...offsets] };
  const distinct = [...new Set(offsets)].sort((x, y) => x - y);
  const lo = distinct[0]!;
  const hi = distinct[distinct.length - 1]! + extent;
  if (hi - lo <= 2 * distinct.length * extent + 16384) {
    const ptr = rt.putF32(src, lo, hi - lo);
    return { ptr, offsets: offsets.map((o) => o - lo) };
  }
  // sparse (a few matrices far apart in a big storage): copy each one
  const ptr = rt.alloc(distinct.length * extent * 4);
  const at = new Map<number, number>();
  distinct.forEach((o, i) => {
    at.set(o, i * extent);
    const dst = (ptr >> 2) + i * extent;
    if (src instanceof Float32Array) rt.f32.set(src.subarray(o, o + extent), dst);
    else for (let e = 0; e < extent; e++) rt.f32[dst + e] = src[o + e]!;
  });
  return { ptr, offsets: offsets.map((o) => at.get(o)!) };
}

/** Element offsets of every batch entry's matrix, through broadcast batch strides. */
function batchOffsets(base: number, shape: readonly number[], strides: readonly number[]): number[] {
  let total = 1;
  for (const d of shape) total *= d;
  const out = new Array<number>(total);
  for (let bt = 0; bt < total; bt++) {
    let rem = bt;
    let off = base;
    for (let d = shape.length - 1; d >= 0; d--) {
      const dim = shape[d]!;
      off += (rem % dim) * strides[d]!;
      rem = Math.floor(rem / dim);
    }
    out[bt] = off;
  }
  return out;
}

/** C = A·B into `out` (contiguous [batch, M, N]); false when the reference should run instead. */
export function matmulWasm(rt: WasmRuntime, a: Tensor, b: Tensor, out: Tensor, g: MatmulGeometry): boolean {
  const { M, N, K } = g;
  const batch = out.size / Math.max(1, M * N);
  if (M === 0 || N === 0 || K === 0 || batch === 0) return false;
  if ([g.sam, g.sak, g.sbk, g.sbn, ...g.sab, ...g.sbb].some((s) => s < 0)) return false;
  rt.scope(() => {
    const aOffs = batchOffsets(a.offset, g.batchShape, g.sab);
    const bOffs = batchOffsets(b.offset, g.batchShape, g.sbb);
    const A = stageMatrices(rt, a.storage.array!, aOffs, (M - 1) * g.sam + (K - 1) * g.sak + 1);
    const B = stageMatrices(rt, b.storage.array!, bOffs, (K - 1) * g.sbk + (N - 1) * g.sbn + 1);
    // one packed copy per distinct B matrix (a broadcast weight is packed once)
    const distinctB = [...new Set(B.offsets)];
    const bIndex = new Map(distinctB.map((o, i) => [o, i]));
    const aTable = rt.putI32(A.offsets);
    const bTable = rt.putI32(distinctB);
    const bIdx = rt.putI32(B.offsets.map((o) => bIndex.get(o)!));
    const packed = rt.alloc(distinctB.length * rt.call('packedBSize', K, N) * 4);
    const outArray = out.storage.array!;
    const c = rt.output(outArray, out.offset, batch * M * N, [a.storage.array, b.storage.array]);
    const inline = batch * M * N * K < INLINE_MACS;
    const panels = Math.ceil(N / 8);
    rt.parallel(
      'matmulPackB',
      distinctB.length * panels,
      0,
      [K, N, B.ptr, bTable, g.sbk, g.sbn, packed],
      inline,
    );
    const mc = rt.call('matmulRowsPerTask');
    rt.parallel(
      'matmulTask',
      batch * Math.ceil(M / mc),
      rt.call('matmulScratch', K),
      [M, N, K, A.ptr, aTable, g.sam, g.sak, packed, bIdx, c],
      inline,
    );
    rt.finishOutput(c, outArray, out.offset, batch * M * N);
  });
  return true;
}
