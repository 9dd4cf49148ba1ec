/**
 * AssemblyScript: matrix products. Pointers are byte addresses in the shared memory; strides and sizes
 * are in f32 elements.
 *
 * `matmul` follows GotoBLAS / BLIS: B is packed once into panels of 8 columns ([K][8], zero-padded),
 * each task packs a block of MC rows of A into panels of 4 rows ([K][4]), and a 4x8 register-blocked
 * micro-kernel runs over the whole K for every (A panel, B panel) pair: 8 accumulators, 2 B vectors and
 * one broadcast A value stay in registers (x86 has 16 xmm registers and V8 keeps one as scratch, so a
 * bigger block spills), each loaded B vector feeds 4 multiply-adds and each A value 2. The B panel
 * (K·32 bytes) stays in L1 while the task's MC/4 A panels stream from L2. Packing also makes any layout
 * (transposed views, x·Wᵀ) read contiguously in the micro-kernel: it costs O(K·(M + N)) against the
 * product's O(M·N·K).
 *
 * `gemm` is the unpacked variant for the attention kernels' small tiles, which already sit in L1/L2:
 * A read through any strides (broadcast loads), B row-major.
 */
import { kernelMRx8, MC, MR, packA, packB8 } from './gemm-micro';
import { madd } from './simd';

/** Scratch bytes one thread needs for `matmulTask`. */
export function matmulScratch(K: i32): i32 {
  return 256 + MC * K * 4;
}

/** Floats of a packed B: per distinct B matrix, ceil(N/8) panels of [K][8]. */
export function packedBSize(K: i32, N: i32): i32 {
  return ((N + 7) >> 3) * K * 8;
}

/**
 * Task of the packing phase: packs panel `task % panels` of B matrix `task / panels`, whose element
 * offset is read from the i32 table `bOffs`.
 */
export function matmulPackB(
  task: i32,
  _scratch: usize,
  K: i32,
  N: i32,
  b: usize,
  bOffs: usize,
  sbk: i32,
  sbn: i32,
  packed: usize,
): void {
  const panels = (N + 7) >> 3;
  const m = task / panels;
  const p = task % panels;
  const src = b + ((<usize>load<i32>(bOffs + ((<usize>m) << 2))) << 2);
  const dst = packed + ((<usize>(m * packedBSize(K, N) + p * K * 8)) << 2);
  packB8(dst, src, p * 8, N, K, sbk, sbn);
}

/**
 * Task of the compute phase: rows [MC·(task % blocks), +MC) of product `task / blocks`. Its A offset is
 * in `aOffs`, the index of its packed B in `bIdx`; C is [batch, M, N] row-major. Scratch: the packed A
 * block (MC·K floats) after 64 floats for edge tiles: `matmulScratch` bytes.
 */
export function matmulTask(
  task: i32,
  scratch: usize,
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  aOffs: usize,
  sam: i32,
  sak: i32,
  packed: usize,
  bIdx: usize,
  c: usize,
): void {
  const blocks = (M + MC - 1) / MC;
  const bt = task / blocks;
  const i0 = (task % blocks) * MC;
  const rowsHere = min(MC, M - i0);
  const src = a + ((<usize>load<i32>(aOffs + ((<usize>bt) << 2))) << 2);
  const pbBase = packed + ((<usize>(load<i32>(bIdx + ((<usize>bt) << 2)) * packedBSize(K, N))) << 2);
  const panelsA = (rowsHere + MR - 1) / MR;
  const tmp = scratch;
  const pa = scratch + 256;
  for (let p = 0; p < panelsA; p++)
    packA(pa + ((<usize>(p * K * MR)) << 2), src, i0 + p * MR, M, K, sam, sak);
  const cBase = c + ((<usize>(bt * M + i0) * <usize>N) << 2);
  const panelsB = (N + 7) >> 3;
  for (let q = 0; q < panelsB; q++) {
    const pb = pbBase + ((<usize>(q * K * 8)) << 2);
    const cols = min(8, N - q * 8);
    for (let p = 0; p < panelsA; p++) {
      const rows = min(MR, rowsHere - p * MR);
      const cp = cBase + ((<usize>(p * MR * N + q * 8)) << 2);
      const pap = pa + ((<usize>(p * K * MR)) << 2);
      kernelMRx8(K, pap, pb, cp, N, rows, cols, tmp);
    }
  }
}

/**
 * One 6x8 block of `gemm` (fused multiply-add builds): 12 accumulators; A rows at a, a + ra, ...
 * (broadcast loads), B rows of 8 at b, b + kb, ...
 */
function gemmBlock6x8(
  K: i32,
  a: usize,
  ra: usize,
  ka: usize,
  b: usize,
  kb: usize,
  c: usize,
  rc: usize,
  accumulate: bool,
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
  if (accumulate) {
    c00 = v128.load(c);
    c01 = v128.load(c, 16);
    c10 = v128.load(c + rc);
    c11 = v128.load(c + rc, 16);
    c20 = v128.load(c + 2 * rc);
    c21 = v128.load(c + 2 * rc, 16);
    c30 = v128.load(c + 3 * rc);
    c31 = v128.load(c + 3 * rc, 16);
    c40 = v128.load(c + 4 * rc);
    c41 = v128.load(c + 4 * rc, 16);
    c50 = v128.load(c + 5 * rc);
    c51 = v128.load(c + 5 * rc, 16);
  }
  let pa = a;
  let pb = b;
  const ra3 = 3 * ra;
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const p3 = pa + ra3;
    let x = v128.load32_splat(pa);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    x = v128.load32_splat(pa + ra);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    x = v128.load32_splat(pa + 2 * ra);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    x = v128.load32_splat(p3);
    c30 = madd(x, b0, c30);
    c31 = madd(x, b1, c31);
    x = v128.load32_splat(p3 + ra);
    c40 = madd(x, b0, c40);
    c41 = madd(x, b1, c41);
    x = v128.load32_splat(p3 + 2 * ra);
    c50 = madd(x, b0, c50);
    c51 = madd(x, b1, c51);
    pa += ka;
    pb += kb;
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + rc, c10);
  v128.store(c + rc, c11, 16);
  v128.store(c + 2 * rc, c20);
  v128.store(c + 2 * rc, c21, 16);
  v128.store(c + 3 * rc, c30);
  v128.store(c + 3 * rc, c31, 16);
  v128.store(c + 4 * rc, c40);
  v128.store(c + 4 * rc, c41, 16);
  v128.store(c + 5 * rc, c50);
  v128.store(c + 5 * rc, c51, 16);
}

/** `rows` rows x 4 columns of `gemm`, one row at a time (the column tail of the 6-row blocks). */
function gemmRows4(
  rows: i32,
  K: i32,
  a: usize,
  ra: usize,
  ka: usize,
  b: usize,
  kb: usize,
  c: usize,
  rc: usize,
  accumulate: bool,
): void {
  for (let r = 0; r < rows; r++) {
    const cr = c + <usize>r * rc;
    let acc = accumulate ? v128.load(cr) : f32x4.splat(0);
    let pa = a + <usize>r * ra;
    let pb = b;
    for (let k = 0; k < K; k++) {
      acc = madd(v128.load32_splat(pa), v128.load(pb), acc);
      pa += ka;
      pb += kb;
    }
    v128.store(cr, acc);
  }
}

/** Address of column j (a multiple of 4) of B row 0, with 8-column groups `bg` bytes apart. */
function bColumn(b: usize, j: i32, bg: usize): usize {
  return b + <usize>(j >> 3) * bg + ((<usize>(j & 7)) << 2);
}

/**
 * C[M, N] (+)= A[M, K]·B[K, N] for small tiles: A element (i, k) at a + (i·sam + k·sak)·4 (broadcast
 * loads, any layout); B element (k, j) at b + ((j / 8)·bGroup + k·sbk + j % 8)·4: a row-major B has
 * bGroup = 8, a B packed in 8-column panels ([N/8][K][8], sbk = 8) has bGroup = 8·K; C row i at
 * c + i·scm·4. N must be a multiple of 4. `accumulate` adds to C instead of overwriting it.
 */
export function gemm(
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  sam: i32,
  sak: i32,
  b: usize,
  sbk: i32,
  bGroup: i32,
  c: usize,
  scm: i32,
  accumulate: bool,
): void {
  const bg = (<usize>bGroup) << 2;
  const ra = (<usize>sam) << 2;
  const ka = (<usize>sak) << 2;
  const kb = (<usize>sbk) << 2;
  const rc = (<usize>scm) << 2;
  let i = 0;
  if (MR === 6) {
    for (; i + 6 <= M; i += 6) {
      const ai = a + <usize>i * ra;
      const ci = c + <usize>i * rc;
      let j = 0;
      for (; j + 8 <= N; j += 8)
        gemmBlock6x8(K, ai, ra, ka, bColumn(b, j, bg), kb, ci + ((<usize>j) << 2), rc, accumulate);
      if (j < N) gemmRows4(6, K, ai, ra, ka, bColumn(b, j, bg), kb, ci + ((<usize>j) << 2), rc, accumulate);
    }
  }
  for (; i + 4 <= M; i += 4) {
    const ai = a + <usize>i * ra;
    const ci = c + <usize>i * rc;
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      const cj = ci + ((<usize>j) << 2);
      let c00 = f32x4.splat(0);
      let c01 = f32x4.splat(0);
      let c10 = f32x4.splat(0);
      let c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0);
      let c21 = f32x4.splat(0);
      let c30 = f32x4.splat(0);
      let c31 = f32x4.splat(0);
      if (accumulate) {
        c00 = v128.load(cj);
        c01 = v128.load(cj, 16);
        c10 = v128.load(cj + rc);
        c11 = v128.load(cj + rc, 16);
        c20 = v128.load(cj + 2 * rc);
        c21 = v128.load(cj + 2 * rc, 16);
        c30 = v128.load(cj + 3 * rc);
        c31 = v128.load(cj + 3 * rc, 16);
      }
      let pa = ai;
      let pb = bColumn(b, j, bg);
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        let x = v128.load32_splat(pa);
        c00 = madd(x, b0, c00);
        c01 = madd(x, b1, c01);
        x = v128.load32_splat(pa + ra);
        c10 = madd(x, b0, c10);
        c11 = madd(x, b1, c11);
        x = v128.load32_splat(pa + 2 * ra);
        c20 = madd(x, b0, c20);
        c21 = madd(x, b1, c21);
        x = v128.load32_splat(pa + 3 * ra);
        c30 = madd(x, b0, c30);
        c31 = madd(x, b1, c31);
        pa += ka;
        pb += kb;
      }
      v128.store(cj, c00);
      v128.store(cj, c01, 16);
      v128.store(cj + rc, c10);
      v128.store(cj + rc, c11, 16);
      v128.store(cj + 2 * rc, c20);
      v128.store(cj + 2 * rc, c21, 16);
      v128.store(cj + 3 * rc, c30);
      v128.store(cj + 3 * rc, c31, 16);
    }
    if (j < N) {
      // a last group of 4 columns
      const cj = ci + ((<usize>j) << 2);
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let c2 = f32x4.splat(0);
      let c3 = f32x4.splat(0);
      if (accumulate) {
        c0 = v128.load(cj);
        c1 = v128.load(cj + rc);
        c2 = v128.load(cj + 2 * rc);
        c3 = v128.load(cj + 3 * rc);
      }
      let pa = ai;
      let pb = bColumn(b, j, bg);
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        c0 = madd(v128.load32_splat(pa), b0, c0);
        c1 = madd(v128.load32_splat(pa + ra), b0, c1);
        c2 = madd(v128.load32_splat(pa + 2 * ra), b0, c2);
        c3 = madd(v128.load32_splat(pa + 3 * ra), b0, c3);
        pa += ka;
        pb += kb;
      }
      v128.store(cj, c0);
      v128.store(cj + rc, c1);
      v128.store(cj + 2 * rc, c2);
      v128.store(cj + 3 * rc, c3);
    }
  }
  // remaining rows, one at a time: 8 columns as two accumulator chains, then 4
  for (; i < M; i++) {
    const ai = a + <usize>i * ra;
    const ci = c + <usize>i * rc;
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      const cj = ci + ((<usize>j) << 2);
      let c0 = accumulate ? v128.load(cj) : f32x4.splat(0);
      let c1 = accumulate ? v128.load(cj, 16) : f32x4.splat(0);
      let pa = ai;
      let pb = bColumn(b, j, bg);
      for (let k = 0; k < K; k++) {
        const x = v128.load32_splat(pa);
        c0 = madd(x, v128.load(pb), c0);
        c1 = madd(x, v128.load(pb, 16), c1);
        pa += ka;
        pb += kb;
      }
      v128.store(cj, c0);
      v128.store(cj, c1, 16);
    }
    for (; j < N; j += 4) {
      const cj = ci + ((<usize>j) << 2);
      let c0 = accumulate ? v128.load(cj) : f32x4.splat(0);
      let pa = ai;
      let pb = bColumn(b, j, bg);
      for (let k = 0; k < K; k++) {
        c0 = madd(v128.load32_splat(pa), v128.load(pb), c0);
        pa += ka;
        pb += kb;
      }
      v128.store(cj, c0);
    }
  }
}

/** Rows of A one `matmulTask` covers (JavaScript sizes the task grid with it). */
export function matmulRowsPerTask(): i32 {
  return MC;
}

/** Rows of `gemm`'s register block (6 with fused multiply-add, else 4): tiles sized to a multiple run whole blocks. */
export function gemmRowBlock(): i32 {
  return MR;
}
