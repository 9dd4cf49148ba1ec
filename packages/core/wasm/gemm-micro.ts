/**
 * AssemblyScript: the packed matmul's building blocks (GotoBLAS / BLIS; gemm.ts runs them): the
 * register block's size, packing A into [K][MR] panels and B into [K][8] panels, and the MRx8
 * micro-kernels that run a panel pair over the whole K. Pointers are byte addresses in the shared
 * memory; strides and sizes are in f32 elements.
 */
import { madd } from './simd';

/**
 * Rows of the micro-kernel's block: 4x8 (8 accumulators) with plain SIMD, where each multiply-add is two
 * instructions and needs a temporary register; 6x8 (12 accumulators) with fused multiply-add, which
 * frees that register. Measured on the reference machine (one core, L1-resident panels): 4x8 27
 * GFLOP/s plain, 6x8 38 with FMA (4x8 with FMA: 33). The bigger block amortizes the loop's loads and
 * address arithmetic, which is what bounds these kernels (V8 emits ~30 instructions per k step).
 */
export const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 4;

/** Rows of A per task: MC/MR A panels reuse each B panel from L1. */
export const MC: i32 = MR * 8;

/** Lanes of four rows, transposed: returns column `c` of the 4x4 block [r0; r1; r2; r3]. */
function col0(r0: v128, r1: v128, r2: v128, r3: v128): v128 {
  return v128.shuffle<f32>(
    v128.shuffle<f32>(r0, r1, 0, 4, 1, 5),
    v128.shuffle<f32>(r2, r3, 0, 4, 1, 5),
    0,
    1,
    4,
    5,
  );
}
function col1(r0: v128, r1: v128, r2: v128, r3: v128): v128 {
  return v128.shuffle<f32>(
    v128.shuffle<f32>(r0, r1, 0, 4, 1, 5),
    v128.shuffle<f32>(r2, r3, 0, 4, 1, 5),
    2,
    3,
    6,
    7,
  );
}
function col2(r0: v128, r1: v128, r2: v128, r3: v128): v128 {
  return v128.shuffle<f32>(
    v128.shuffle<f32>(r0, r1, 2, 6, 3, 7),
    v128.shuffle<f32>(r2, r3, 2, 6, 3, 7),
    0,
    1,
    4,
    5,
  );
}
function col3(r0: v128, r1: v128, r2: v128, r3: v128): v128 {
  return v128.shuffle<f32>(
    v128.shuffle<f32>(r0, r1, 2, 6, 3, 7),
    v128.shuffle<f32>(r2, r3, 2, 6, 3, 7),
    2,
    3,
    6,
    7,
  );
}

/**
 * Packs rows [i0, i0 + MR) of A (element (i, k) at a + (i·sam + k·sak)·4) into one panel [K][MR] at
 * dst; rows at or past M are zeros.
 */
export function packA(dst: usize, a: usize, i0: i32, M: i32, K: i32, sam: i32, sak: i32): void {
  const rows = min(MR, M - i0);
  if (MR === 4 && rows === 4 && sak === 1) {
    // row-major A: four row loads and a 4x4 transpose per 4 values of k
    const p0 = a + ((<usize>(i0 * sam)) << 2);
    const rs = (<usize>sam) << 2;
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      const o = (<usize>k) << 2;
      const r0 = v128.load(p0 + o);
      const r1 = v128.load(p0 + rs + o);
      const r2 = v128.load(p0 + 2 * rs + o);
      const r3 = v128.load(p0 + 3 * rs + o);
      const d = dst + ((<usize>k) << 4);
      v128.store(d, col0(r0, r1, r2, r3));
      v128.store(d, col1(r0, r1, r2, r3), 16);
      v128.store(d, col2(r0, r1, r2, r3), 32);
      v128.store(d, col3(r0, r1, r2, r3), 48);
    }
    for (; k < K; k++) {
      for (let r = 0; r < 4; r++) {
        store<f32>(dst + ((<usize>(k * 4 + r)) << 2), load<f32>(p0 + <usize>r * rs + ((<usize>k) << 2)));
      }
    }
    return;
  }
  if (MR === 4 && rows === 4 && sam === 1) {
    // transposed A (a .mT view): the four rows of one k are contiguous
    for (let k = 0; k < K; k++) {
      v128.store(dst + ((<usize>k) << 4), v128.load(a + ((<usize>(i0 + k * sak)) << 2)));
    }
    return;
  }
  for (let r = 0; r < MR; r++) {
    let d = dst + ((<usize>r) << 2);
    if (r < rows) {
      let s = a + ((<usize>((i0 + r) * sam)) << 2);
      const ks = (<usize>sak) << 2;
      for (let k = 0; k < K; k++) {
        store<f32>(d, load<f32>(s));
        s += ks;
        d += (<usize>MR) << 2;
      }
    } else {
      for (let k = 0; k < K; k++) {
        store<f32>(d, 0);
        d += (<usize>MR) << 2;
      }
    }
  }
}

/**
 * Packs columns [j0, j0 + 8) of B (element (k, j) at b + (k·sbk + j·sbn)·4) into one panel [K][8] at
 * dst; columns at or past N are zeros.
 */
export function packB8(dst: usize, b: usize, j0: i32, N: i32, K: i32, sbk: i32, sbn: i32): void {
  const cols = min(8, N - j0);
  if (cols === 8 && sbn === 1) {
    for (let k = 0; k < K; k++) {
      const s = b + ((<usize>(k * sbk + j0)) << 2);
      const d = dst + ((<usize>k) << 5);
      v128.store(d, v128.load(s));
      v128.store(d, v128.load(s, 16), 16);
    }
    return;
  }
  if (cols === 8 && sbk === 1) {
    // B = Wᵀ (x·Wᵀ in a linear layer): each column is a contiguous row of W; 4x4 transposes
    const p0 = b + ((<usize>(j0 * sbn)) << 2);
    const cs = (<usize>sbn) << 2;
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      const o = (<usize>k) << 2;
      const d = dst + ((<usize>k) << 5);
      for (let h = 0; h < 2; h++) {
        const q = p0 + <usize>(4 * h) * cs + o;
        const r0 = v128.load(q);
        const r1 = v128.load(q + cs);
        const r2 = v128.load(q + 2 * cs);
        const r3 = v128.load(q + 3 * cs);
        const dh = d + <usize>(16 * h);
        v128.store(dh, col0(r0, r1, r2, r3));
        v128.store(dh, col1(r0, r1, r2, r3), 32);
        v128.store(dh, col2(r0, r1, r2, r3), 64);
        v128.store(dh, col3(r0, r1, r2, r3), 96);
      }
    }
    for (; k < K; k++) {
      for (let c = 0; c < 8; c++) {
        store<f32>(dst + ((<usize>(k * 8 + c)) << 2), load<f32>(p0 + <usize>c * cs + ((<usize>k) << 2)));
      }
    }
    return;
  }
  for (let k = 0; k < K; k++) {
    for (let c = 0; c < 8; c++) {
      const v: f32 = c < cols ? load<f32>(b + ((<usize>(k * sbk + (j0 + c) * sbn)) << 2)) : 0;
      store<f32>(dst + ((<usize>(k * 8 + c)) << 2), v);
    }
  }
}

/** Stores the first `rows` x `cols` of a [6 or 4, 8] tile held in `tmp` (edge tiles). */
function storeEdge(tmp: usize, c: usize, ld: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      store<f32>(c + <usize>r * ld + ((<usize>j) << 2), load<f32>(tmp + ((<usize>(r * 8 + j)) << 2)));
    }
  }
}

/**
 * C[MR, 8] = A panel [K][MR] · B panel [K][8] (packed), written at c with row stride ldc (elements);
 * only `rows` x `cols` are stored (edges), through `tmp` (MR·8 floats) when partial. Rows 4 and 5 exist
 * in the relaxed build only: the branches test `ASC_FEATURE_RELAXED_SIMD` (MR === 6 exactly then),
 * which the compiler folds, where a test of the global MR would leave code behind in both builds.
 */
export function kernelMRx8(
  K: i32,
  pa: usize,
  pb: usize,
  c: usize,
  ldc: i32,
  rows: i32,
  cols: i32,
  tmp: usize,
): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0);
  let c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0);
  let c51 = f32x4.splat(0);
  const end = pb + ((<usize>K) << 5);
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    if (ASC_FEATURE_RELAXED_SIMD) {
      a = v128.load32_splat(pa, 16);
      c40 = madd(a, b0, c40);
      c41 = madd(a, b1, c41);
      a = v128.load32_splat(pa, 20);
      c50 = madd(a, b0, c50);
      c51 = madd(a, b1, c51);
    }
    pa += ASC_FEATURE_RELAXED_SIMD ? 24 : 16; // MR floats
    pb += 32;
  }
  const ld = (<usize>ldc) << 2;
  if (!ASC_FEATURE_RELAXED_SIMD) {
    if (rows === 4 && cols === 8) {
      v128.store(c, c00);
      v128.store(c, c01, 16);
      v128.store(c + ld, c10);
      v128.store(c + ld, c11, 16);
      v128.store(c + 2 * ld, c20);
      v128.store(c + 2 * ld, c21, 16);
      v128.store(c + 3 * ld, c30);
      v128.store(c + 3 * ld, c31, 16);
      return;
    }
    v128.store(tmp, c00);
    v128.store(tmp, c01, 16);
    v128.store(tmp, c10, 32);
    v128.store(tmp, c11, 48);
    v128.store(tmp, c20, 64);
    v128.store(tmp, c21, 80);
    v128.store(tmp, c30, 96);
    v128.store(tmp, c31, 112);
    storeEdge(tmp, c, ld, rows, cols);
    return;
  }
  const full = rows === 6 && cols === 8;
  const t = full ? c : tmp;
  const lt: usize = full ? ld : 32;
  v128.store(t, c00);
  v128.store(t, c01, 16);
  v128.store(t + lt, c10);
  v128.store(t + lt, c11, 16);
  v128.store(t + 2 * lt, c20);
  v128.store(t + 2 * lt, c21, 16);
  v128.store(t + 3 * lt, c30);
  v128.store(t + 3 * lt, c31, 16);
  v128.store(t + 4 * lt, c40);
  v128.store(t + 4 * lt, c41, 16);
  v128.store(t + 5 * lt, c50);
  v128.store(t + 5 * lt, c51, 16);
  if (!full) storeEdge(tmp, c, ld, rows, cols);
}
