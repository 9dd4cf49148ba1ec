/**
 * AssemblyScript: what the fused attention kernels share (attention-forward.ts, attention-backward.ts):
 * the parameter block's fields (backend/wasm/attention.ts writes it), visible key ranges, dropout's
 * keep factors, the score tile, and the K/V transposes of the pre-pass.
 */
import { exp2v, tanhv } from './simd';

export const LOG2E: f32 = <f32>Math.LOG2E;
export const LN2: f32 = <f32>Math.LN2;
export const NEG_INF: f32 = -Infinity;

// Parameter block written by JavaScript (src/backend/wasm/attention.ts): 4-byte fields by index.
export const P_B = 0;
export const P_H = 1;
export const P_HKV = 2;
export const P_NQ = 3;
export const P_NK = 4;
export const P_D = 5;
export const P_DV = 6;
export const P_DP = 7;
export const P_DVP = 8;
export const P_NKP = 9;
export const P_SCALE = 10;
export const P_SOFTCAP = 11;
export const P_SHIFT = 12;
export const P_LEFT = 13;
export const P_RIGHT = 14;
export const P_KVLENS = 15;
export const P_MASK = 16;
export const P_M_SB = 17;
export const P_M_SH = 18;
export const P_M_SI = 19;
export const P_M_SJ = 20;
export const P_BIAS = 21;
export const P_BI_SB = 22;
export const P_BI_SH = 23;
export const P_BI_SI = 24;
export const P_BI_SJ = 25;
export const P_Q = 26;
export const P_K = 27;
export const P_KT = 28;
export const P_V = 29;
export const P_VT = 30;
export const P_OUT = 31;
export const P_LSE = 32;
export const P_DOUT = 33;
export const P_DELTA = 34;
export const P_DQ = 35;
export const P_DK = 36;
export const P_DV_OUT = 37;
export const P_DBIAS = 38;
export const P_QT = 39;
export const P_KB = 40;
export const P_DROP_P = 41;
export const P_DROP_SCALE = 42;
export const P_DROP_KEY0 = 43;
export const P_DROP_KEY1 = 44;

export function pi(p: usize, field: i32): i32 {
  return load<i32>(p + ((<usize>field) << 2));
}
export function pf(p: usize, field: i32): f32 {
  return load<f32>(p + ((<usize>field) << 2));
}
export function pp(p: usize, field: i32): usize {
  return <usize>load<u32>(p + ((<usize>field) << 2));
}

/** First key row i sees before per-element masks: i + shift - left (at least 0). */
export function rowLo(p: usize, i: i32): i32 {
  return max(0, i + pi(p, P_SHIFT) - pi(p, P_LEFT));
}
/** One past the last key row i sees: i + shift + right + 1, at most kvLens[b] (or Nk). */
export function rowHi(p: usize, b: i32, i: i32): i32 {
  const lens = pp(p, P_KVLENS);
  const end = lens ? load<i32>(lens + ((<usize>b) << 2)) : pi(p, P_NK);
  return max(rowLo(p, i), min(end, i + pi(p, P_SHIFT) + pi(p, P_RIGHT) + 1));
}

/** PCG output permutation (ops/random.ts `pcg`, u32 arithmetic). */
export function pcg(v: u32): u32 {
  const s = v * 747796405 + 2891336453;
  const w = ((s >> ((s >> 28) + 4)) ^ s) * 277803737;
  return (w >> 22) ^ w;
}

/**
 * Dropout factors of four consecutive entries of one score row, counters c .. c + 3 (the flat
 * [B, H, Nq, Nk] index, wrapping as u32): 1/(1-p) where unit(c) >= p, else 0 (ops/random.ts `unit`,
 * exact in f32: a 24-bit integer times 2^-24). Lanes past the row's end get some factor; their P is 0.
 */
export function keep4(p: usize, c: u32): v128 {
  const k0 = <u32>pi(p, P_DROP_KEY0);
  const k1 = <u32>pi(p, P_DROP_KEY1);
  const drop = pf(p, P_DROP_P);
  const scale = pf(p, P_DROP_SCALE);
  return f32x4(
    keep1(c, k0, k1, drop, scale),
    keep1(c + 1, k0, k1, drop, scale),
    keep1(c + 2, k0, k1, drop, scale),
    keep1(c + 3, k0, k1, drop, scale),
  );
}

export function keep1(c: u32, k0: u32, k1: u32, drop: f32, scale: f32): f32 {
  const u = <f32>(pcg(pcg(c ^ k0) + k1) >> 8) * <f32>5.9604644775390625e-8;
  return u >= drop ? scale : 0;
}

/** Counter of (b·H + h, i, k0): the flat [B, H, Nq, Nk] index of key k0 in query row i. */
export function dropCounter(p: usize, bh: i32, i: i32, k0: i32): u32 {
  return <u32>((bh * pi(p, P_NQ) + i) * pi(p, P_NK) + k0);
}

/**
 * Steps on one row of a score tile that the dense and neighbourhood kernels share. They run per tile row
 * inside the hot loops, so each is `@inline` (AssemblyScript pastes the body at the call: the compiled
 * code is what it was when the kernels spelled them out); a class holds them because decorators are
 * valid TypeScript on class members only.
 */
// biome-ignore lint/complexity/noStaticOnlyClass: `@inline` needs a class member (see above)
export class TileRow {
  /**
   * Softcap over one row of n4 raw dots, `at` bytes into the score tile: c·tanh(scale·dot / c) in place,
   * and softcap's derivative 1 - tanh² at the same place of `dcap` (the backward's tile) when non-zero.
   */
  @inline
  static softcap(row: usize, dcap: usize, at: usize, n4: i32, scale: f32, cap: f32): void {
    const inv = f32x4.splat(scale / cap);
    const cv = f32x4.splat(cap);
    const drow = dcap + at;
    for (let c = 0; c < n4; c += 4) {
      const t = tanhv(f32x4.mul(v128.load(row + ((<usize>c) << 2)), inv));
      v128.store(row + ((<usize>c) << 2), f32x4.mul(t, cv));
      if (dcap) v128.store(drow + ((<usize>c) << 2), f32x4.sub(f32x4.splat(1), f32x4.mul(t, t)));
    }
  }

  /** Scales one row of n4 scores by `factor` (to base 2) and sets entries outside [lo, hi) to -inf. */
  @inline
  static scaleVisible(row: usize, n4: i32, factor: v128, lo: i32, hi: i32): void {
    const lanes = i32x4(0, 1, 2, 3);
    const ninf = f32x4.splat(NEG_INF);
    const loV = i32x4.splat(lo);
    const hiV = i32x4.splat(hi);
    for (let c = 0; c < n4; c += 4) {
      const a = row + ((<usize>c) << 2);
      const j = i32x4.add(lanes, i32x4.splat(c));
      const visible = v128.and(i32x4.ge_s(j, loV), i32x4.lt_s(j, hiV));
      v128.store(a, v128.bitselect(f32x4.mul(v128.load(a), factor), ninf, visible));
    }
  }
}

/**
 * Steps of the online softmax (FlashAttention-2 Alg. 1) that the dense and neighbourhood forwards share:
 * when a query row's running max grows, its running sum and output row are rescaled. `@inline` for the
 * same reason as TileRow (the compiled modules stay what they were with the steps spelled out).
 */
// biome-ignore lint/complexity/noStaticOnlyClass: `@inline` needs a class member (see TileRow)
export class OnlineSoftmax {
  /** What the row's sum and output take when its running max moves from mOld to mNew: 2^(mOld - mNew). */
  @inline
  static rescaleFactor(mOld: f32, mNew: f32): f32 {
    return mOld === NEG_INF ? <f32>0 : f32x4.extract_lane(exp2v(f32x4.splat(mOld - mNew)), 0);
  }

  /** Multiplies the n4 floats at `row` by `factor`. */
  @inline
  static scale(row: usize, n4: i32, factor: f32): void {
    const av = f32x4.splat(factor);
    for (let c = 0; c < n4; c += 4)
      v128.store(row + ((<usize>c) << 2), f32x4.mul(v128.load(row + ((<usize>c) << 2)), av));
  }
}

/**
 * Turns raw dot products S[r, 0..n4) (keys k0 + c) of rows i0 + r, r in [r0, r1), into base-2 logits:
 * s2 = (softcap(scale·dot) + bias)·log2 e, -inf where masked (key range, mask tensor). With `dcap`
 * non-zero it also writes softcap's derivative 1 - tanh² there (backward).
 */
export function scoreTile(
  p: usize,
  b: i32,
  h: i32,
  i0: i32,
  r0: i32,
  r1: i32,
  k0: i32,
  n4: i32,
  s: usize,
  ld: i32,
  dcap: usize,
): void {
  const scale = pf(p, P_SCALE);
  const cap = pf(p, P_SOFTCAP);
  const mask = pp(p, P_MASK);
  const bias = pp(p, P_BIAS);
  for (let r = r0; r < r1; r++) {
    const i = i0 + r;
    const row = s + ((<usize>(r * ld)) << 2);
    const lo = rowLo(p, i);
    const hi = rowHi(p, b, i);
    if (cap > 0) TileRow.softcap(row, dcap, (<usize>(r * ld)) << 2, n4, scale, cap);
    if (bias) {
      let bp = bias + ((<usize>(b * pi(p, P_BI_SB) + h * pi(p, P_BI_SH) + i * pi(p, P_BI_SI))) << 2);
      const sj = pi(p, P_BI_SJ);
      bp += (<usize>(k0 * sj)) << 2;
      const pre: f32 = cap > 0 ? 1 : scale;
      for (let c = 0; c < n4; c++) {
        const a = row + ((<usize>c) << 2);
        const bv = k0 + c < pi(p, P_NK) ? load<f32>(bp + ((<usize>(c * sj)) << 2)) : 0;
        store<f32>(a, load<f32>(a) * pre + bv);
      }
    }
    // now in natural units except the plain case, where scale is still to apply
    TileRow.scaleVisible(row, n4, f32x4.splat(cap > 0 || bias ? LOG2E : scale * LOG2E), lo - k0, hi - k0);
    if (mask) {
      const mp = mask + <usize>(b * pi(p, P_M_SB) + h * pi(p, P_M_SH) + i * pi(p, P_M_SI));
      const sj = pi(p, P_M_SJ);
      const end = min(n4, hi - k0);
      for (let c = max(0, lo - k0); c < end; c++) {
        if (!load<u8>(mp + <usize>((k0 + c) * sj))) store<f32>(row + ((<usize>c) << 2), NEG_INF);
      }
    }
  }
}

/**
 * Query tile of task `task` in the forward / dQ passes, last tile first within each head: under a causal
 * mask the last rows see the most keys, so threads claiming tasks in order take the long ones first and
 * the short ones fill in at the end (longest-processing-time-first; tasks write disjoint rows).
 */
export function queryTile(p: usize, task: i32): i32 {
  const QT = pi(p, P_QT);
  const tiles = (pi(p, P_NQ) + QT - 1) / QT;
  return tiles - 1 - (task % tiles);
}

/**
 * Pre-pass, task = b·Hkv + hk: K [Nk][DP] -> Kt in 8-key panels [NkP / 8][D][8] and, for the
 * backward (vt != 0), V [Nk][DvP] -> Vt [NkP / 8][Dv][8]; padding keys are zeros.
 */
export function attnPackKt(task: i32, _scratch: usize, p: usize): void {
  const Nk = pi(p, P_NK);
  const NkP = pi(p, P_NKP);
  transpose(
    pp(p, P_K) + ((<usize>(task * Nk * pi(p, P_DP))) << 2),
    pi(p, P_DP),
    pi(p, P_D),
    Nk,
    NkP,
    pp(p, P_KT) + ((<usize>(task * pi(p, P_D) * NkP)) << 2),
  );
  const vt = pp(p, P_VT);
  if (vt) {
    transpose(
      pp(p, P_V) + ((<usize>(task * Nk * pi(p, P_DVP))) << 2),
      pi(p, P_DVP),
      pi(p, P_DV),
      Nk,
      NkP,
      vt + ((<usize>(task * pi(p, P_DV) * NkP)) << 2),
    );
  }
}

/**
 * Packs rows [0, rows) of src ([rows][sld], first `cols` columns) transposed into 8-row panels:
 * dst[j / 8][d][j % 8] for j < ld, zeros past `rows`. The score product then reads 8 keys x D
 * contiguously (a plain [D][Nk] transpose has rows 4 KiB apart at N = 1024, which alias in L1).
 */
export function transpose(src: usize, sld: i32, cols: i32, rows: i32, ld: i32, dst: usize): void {
  for (let j = 0; j < ld; j++) {
    const out = dst + ((<usize>((j >> 3) * cols * 8 + (j & 7))) << 2);
    if (j < rows) {
      const s = src + ((<usize>(j * sld)) << 2);
      for (let d = 0; d < cols; d++)
        store<f32>(out + ((<usize>(d * 8)) << 2), load<f32>(s + ((<usize>d) << 2)));
    } else {
      for (let d = 0; d < cols; d++) store<f32>(out + ((<usize>(d * 8)) << 2), 0);
    }
  }
}
