/**
 * AssemblyScript: fused attention forward and backward, flash-style (FlashAttention-2, Dao 2023): one
 * task owns a tile of QT query rows (forward, dQ) or a block of KB keys (dK, dV), walks the other side
 * in blocks, and never holds more than a [QT, KB] tile of scores, so memory stays linear in N.
 *
 * Each tile step is two small matrix products on the unpacked `gemm` (the tiles sit in L1/L2) around an
 * element-wise pass: S = Q·Kᵀ reads K transposed in 8-key panels (made once per call by `attnPackKt`, so the
 * product's B operand is row-major); P·V reads V as it is. Scores are kept in base 2 (scale·log2 e folded
 * in, exp2 in the inner loop, lse converted back at the end). Blocks that no row of the tile can see
 * (causal, windows, kvLens) are skipped, and inside a visible block the row and key ranges are trimmed
 * to what some row sees, so causal attention does about half the work.
 *
 * Every option of the attention contract that the TypeScript reference runs is here except scoreMod and
 * maskMod (JavaScript callbacks), which stay on the reference. Dropout uses the WGSL / TypeScript hash
 * (ops/random.ts: PCG twice over the flat [B, H, Nq, Nk] index), so all three backends drop the same
 * entries for the same seed.
 */
import { gemm } from './gemm';
import { exp2v, hmax, hsum, tanhv } from './simd';

const LOG2E: f32 = <f32>Math.LOG2E;
const LN2: f32 = <f32>Math.LN2;
const NEG_INF: f32 = -Infinity;

// Parameter block written by JavaScript (src/backend/wasm/attention.ts): 4-byte fields by index.
const P_B = 0;
const P_H = 1;
const P_HKV = 2;
const P_NQ = 3;
const P_NK = 4;
const P_D = 5;
const P_DV = 6;
const P_DP = 7;
const P_DVP = 8;
const P_NKP = 9;
const P_SCALE = 10;
const P_SOFTCAP = 11;
const P_SHIFT = 12;
const P_LEFT = 13;
const P_RIGHT = 14;
const P_KVLENS = 15;
const P_MASK = 16;
const P_M_SB = 17;
const P_M_SH = 18;
const P_M_SI = 19;
const P_M_SJ = 20;
const P_BIAS = 21;
const P_BI_SB = 22;
const P_BI_SH = 23;
const P_BI_SI = 24;
const P_BI_SJ = 25;
const P_Q = 26;
const P_K = 27;
const P_KT = 28;
const P_V = 29;
const P_VT = 30;
const P_OUT = 31;
const P_LSE = 32;
const P_DOUT = 33;
const P_DELTA = 34;
const P_DQ = 35;
const P_DK = 36;
const P_DV_OUT = 37;
const P_DBIAS = 38;
const P_QT = 39;
const P_KB = 40;
const P_DROP_P = 41;
const P_DROP_SCALE = 42;
const P_DROP_KEY0 = 43;
const P_DROP_KEY1 = 44;

function pi(p: usize, field: i32): i32 {
  return load<i32>(p + ((<usize>field) << 2));
}
function pf(p: usize, field: i32): f32 {
  return load<f32>(p + ((<usize>field) << 2));
}
function pp(p: usize, field: i32): usize {
  return <usize>load<u32>(p + ((<usize>field) << 2));
}

/** First key row i sees before per-element masks: i + shift - left (at least 0). */
function rowLo(p: usize, i: i32): i32 {
  return max(0, i + pi(p, P_SHIFT) - pi(p, P_LEFT));
}
/** One past the last key row i sees: i + shift + right + 1, at most kvLens[b] (or Nk). */
function rowHi(p: usize, b: i32, i: i32): i32 {
  const lens = pp(p, P_KVLENS);
  const end = lens ? load<i32>(lens + ((<usize>b) << 2)) : pi(p, P_NK);
  return max(rowLo(p, i), min(end, i + pi(p, P_SHIFT) + pi(p, P_RIGHT) + 1));
}

/** PCG output permutation (ops/random.ts `pcg`, u32 arithmetic). */
function pcg(v: u32): u32 {
  const s = v * 747796405 + 2891336453;
  const w = ((s >> ((s >> 28) + 4)) ^ s) * 277803737;
  return (w >> 22) ^ w;
}

/**
 * Dropout factors of four consecutive entries of one score row, counters c .. c + 3 (the flat
 * [B, H, Nq, Nk] index, wrapping as u32): 1/(1-p) where unit(c) >= p, else 0 (ops/random.ts `unit`,
 * exact in f32: a 24-bit integer times 2^-24). Lanes past the row's end get some factor; their P is 0.
 */
function keep4(p: usize, c: u32): v128 {
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

function keep1(c: u32, k0: u32, k1: u32, drop: f32, scale: f32): f32 {
  const u = <f32>(pcg(pcg(c ^ k0) + k1) >> 8) * <f32>5.9604644775390625e-8;
  return u >= drop ? scale : 0;
}

/** Counter of (b·H + h, i, k0): the flat [B, H, Nq, Nk] index of key k0 in query row i. */
function dropCounter(p: usize, bh: i32, i: i32, k0: i32): u32 {
  return <u32>((bh * pi(p, P_NQ) + i) * pi(p, P_NK) + k0);
}

/**
 * Turns raw dot products S[r, 0..n4) (keys k0 + c) of rows i0 + r, r in [r0, r1), into base-2 logits:
 * s2 = (softcap(scale·dot) + bias)·log2 e, -inf where masked (key range, mask tensor). With `dcap`
 * non-zero it also writes softcap's derivative 1 - tanh² there (backward).
 */
function scoreTile(
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
  const lanes = i32x4(0, 1, 2, 3);
  const ninf = f32x4.splat(NEG_INF);
  for (let r = r0; r < r1; r++) {
    const i = i0 + r;
    const row = s + ((<usize>(r * ld)) << 2);
    const lo = rowLo(p, i);
    const hi = rowHi(p, b, i);
    if (cap > 0) {
      // c·tanh(scale·dot / c), and 1 - tanh² for the backward
      const inv = f32x4.splat(scale / cap);
      const cv = f32x4.splat(cap);
      const drow = dcap + ((<usize>(r * ld)) << 2);
      for (let c = 0; c < n4; c += 4) {
        const t = tanhv(f32x4.mul(v128.load(row + ((<usize>c) << 2)), inv));
        v128.store(row + ((<usize>c) << 2), f32x4.mul(t, cv));
        if (dcap) v128.store(drow + ((<usize>c) << 2), f32x4.sub(f32x4.splat(1), f32x4.mul(t, t)));
      }
    }
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
    const factor = f32x4.splat(cap > 0 || bias ? LOG2E : scale * LOG2E);
    const loV = i32x4.splat(lo - k0);
    const hiV = i32x4.splat(hi - k0);
    for (let c = 0; c < n4; c += 4) {
      const a = row + ((<usize>c) << 2);
      const j = i32x4.add(lanes, i32x4.splat(c));
      const visible = v128.and(i32x4.ge_s(j, loV), i32x4.lt_s(j, hiV));
      v128.store(a, v128.bitselect(f32x4.mul(v128.load(a), factor), ninf, visible));
    }
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
function queryTile(p: usize, task: i32): i32 {
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
function transpose(src: usize, sld: i32, cols: i32, rows: i32, ld: i32, dst: usize): void {
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

/** Scratch bytes one thread needs for `attnForward`. */
export function attnForwardScratch(p: usize): i32 {
  const QT = pi(p, P_QT);
  return (QT * pi(p, P_KB) + QT * pi(p, P_DVP) + 4 * QT) * 4 + 256;
}

/**
 * Forward, task = (b·H + h)·tiles + tile: out and lse of QT query rows, online softmax over key blocks
 * (FlashAttention-2 Alg. 1). Writes out [B, H, Nq, Dv] and lse [B, H, Nq] (natural log; -inf and zeros
 * for a row with no visible key).
 */
export function attnForward(task: i32, scratch: usize, p: usize): void {
  const H = pi(p, P_H);
  const Nq = pi(p, P_NQ);
  const D = pi(p, P_D);
  const DP = pi(p, P_DP);
  const Dv = pi(p, P_DV);
  const DvP = pi(p, P_DVP);
  const NkP = pi(p, P_NKP);
  const QT = pi(p, P_QT);
  const KB = pi(p, P_KB);
  const tiles = (Nq + QT - 1) / QT;
  const bh = task / tiles;
  const b = bh / H;
  const h = bh % H;
  const hk = h / (H / pi(p, P_HKV));
  const i0 = queryTile(p, task) * QT;
  const rows = min(QT, Nq - i0);
  const bk = b * pi(p, P_HKV) + hk;
  const dropping = pf(p, P_DROP_P) > 0;
  // scratch: S [QT][KB] | O [QT][DvP] | m [QT] | l [QT] | lo [QT] | hi [QT]
  const S = scratch;
  const O = S + ((<usize>(QT * KB)) << 2);
  const M = O + ((<usize>(QT * DvP)) << 2);
  const L = M + ((<usize>QT) << 2);
  const LO = L + ((<usize>QT) << 2);
  const HI = LO + ((<usize>QT) << 2);
  const q = pp(p, P_Q) + ((<usize>((bh * Nq + i0) * DP)) << 2);
  const kt = pp(p, P_KT) + ((<usize>(bk * D * NkP)) << 2);
  const v = pp(p, P_V) + ((<usize>(bk * pi(p, P_NK) * DvP)) << 2);
  let kLo = 0x7fffffff;
  let kHi = 0;
  for (let r = 0; r < rows; r++) {
    const lo = rowLo(p, i0 + r);
    const hi = rowHi(p, b, i0 + r);
    store<i32>(LO + ((<usize>r) << 2), lo);
    store<i32>(HI + ((<usize>r) << 2), hi);
    store<f32>(M + ((<usize>r) << 2), NEG_INF);
    store<f32>(L + ((<usize>r) << 2), 0);
    if (hi > lo) {
      kLo = min(kLo, lo);
      kHi = max(kHi, hi);
    }
  }
  memory.fill(O, 0, (<usize>(rows * DvP)) << 2);
  for (let k0 = kLo & ~7; k0 < kHi; k0 += KB) {
    const k1 = min(k0 + KB, kHi);
    // rows of the tile that see some key of [k0, k1): a contiguous range for causal / window masks
    let r0 = rows;
    let r1 = 0;
    for (let r = 0; r < rows; r++) {
      if (load<i32>(LO + ((<usize>r) << 2)) < k1 && load<i32>(HI + ((<usize>r) << 2)) > k0) {
        r0 = min(r0, r);
        r1 = r + 1;
      }
    }
    if (r0 >= r1) continue;
    // keys [k0, kEnd) that some row of [r0, r1) sees
    let kEnd = k0;
    for (let r = r0; r < r1; r++) kEnd = max(kEnd, min(k1, load<i32>(HI + ((<usize>r) << 2))));
    const nk = kEnd - k0;
    const n4 = (nk + 3) & ~3;
    const m = r1 - r0;
    // S = Q·Kᵀ for the visible rows and keys
    gemm(
      m,
      n4,
      D,
      q + ((<usize>(r0 * DP)) << 2),
      DP,
      1,
      kt + ((<usize>(k0 * D)) << 2),
      8,
      8 * D,
      S + ((<usize>(r0 * KB)) << 2),
      KB,
      false,
    );
    scoreTile(p, b, h, i0, r0, r1, k0, n4, S, KB, 0);
    // online softmax: new running max, rescale what was accumulated, P = 2^(s - m)
    for (let r = r0; r < r1; r++) {
      const row = S + ((<usize>(r * KB)) << 2);
      let mx = f32x4.splat(NEG_INF);
      for (let c = 0; c < n4; c += 4) mx = f32x4.pmax(mx, v128.load(row + ((<usize>c) << 2)));
      const mOld = load<f32>(M + ((<usize>r) << 2));
      const mNew = max(mOld, hmax(mx));
      if (mNew === NEG_INF) {
        memory.fill(row, 0, (<usize>n4) << 2); // nothing visible yet: P = 0
        continue;
      }
      const mv = f32x4.splat(mNew);
      let sum = f32x4.splat(0);
      if (dropping) {
        // the row sums undropped probabilities (lse is dropout's); P·V reads the dropped ones
        const c0 = dropCounter(p, bh, i0 + r, k0);
        for (let c = 0; c < n4; c += 4) {
          const a = row + ((<usize>c) << 2);
          const e = exp2v(f32x4.sub(v128.load(a), mv));
          v128.store(a, f32x4.mul(e, keep4(p, c0 + <u32>c)));
          sum = f32x4.add(sum, e);
        }
      } else {
        for (let c = 0; c < n4; c += 4) {
          const a = row + ((<usize>c) << 2);
          const e = exp2v(f32x4.sub(v128.load(a), mv));
          v128.store(a, e);
          sum = f32x4.add(sum, e);
        }
      }
      const alpha = mOld === NEG_INF ? <f32>0 : f32x4.extract_lane(exp2v(f32x4.splat(mOld - mNew)), 0);
      store<f32>(L + ((<usize>r) << 2), load<f32>(L + ((<usize>r) << 2)) * alpha + hsum(sum));
      store<f32>(M + ((<usize>r) << 2), mNew);
      if (alpha !== 1) {
        const orow = O + ((<usize>(r * DvP)) << 2);
        const av = f32x4.splat(alpha);
        for (let c = 0; c < DvP; c += 4)
          v128.store(orow + ((<usize>c) << 2), f32x4.mul(v128.load(orow + ((<usize>c) << 2)), av));
      }
    }
    // O += P·V over the nk keys
    gemm(
      m,
      DvP,
      nk,
      S + ((<usize>(r0 * KB)) << 2),
      KB,
      1,
      v + ((<usize>(k0 * DvP)) << 2),
      DvP,
      8,
      O + ((<usize>(r0 * DvP)) << 2),
      DvP,
      true,
    );
  }
  // normalize and write out
  const out = pp(p, P_OUT) + ((<usize>((bh * Nq + i0) * Dv)) << 2);
  const lse = pp(p, P_LSE) + ((<usize>(bh * Nq + i0)) << 2);
  for (let r = 0; r < rows; r++) {
    const l = load<f32>(L + ((<usize>r) << 2));
    const orow = O + ((<usize>(r * DvP)) << 2);
    const dst = out + ((<usize>(r * Dv)) << 2);
    if (l > 0) {
      const inv: f32 = 1 / l;
      for (let c = 0; c < Dv; c++)
        store<f32>(dst + ((<usize>c) << 2), load<f32>(orow + ((<usize>c) << 2)) * inv);
      store<f32>(lse + ((<usize>r) << 2), (load<f32>(M + ((<usize>r) << 2)) + Mathf.log2(l)) * LN2);
    } else {
      // a row with no visible key: zeros and lse = -inf, never NaN
      memory.fill(dst, 0, (<usize>Dv) << 2);
      store<f32>(lse + ((<usize>r) << 2), NEG_INF);
    }
  }
}

/** Backward pre-pass, task = a chunk of 64 rows: delta_i = rowsum(dO_i ∘ O_i) (FlashAttention-2 Alg. 2). */
export function attnDelta(task: i32, _scratch: usize, p: usize): void {
  const rowsAll = pi(p, P_B) * pi(p, P_H) * pi(p, P_NQ);
  const Dv = pi(p, P_DV);
  const DvP = pi(p, P_DVP);
  const o = pp(p, P_OUT);
  const g = pp(p, P_DOUT);
  const delta = pp(p, P_DELTA);
  const end = min(rowsAll, task * 64 + 64);
  for (let row = task * 64; row < end; row++) {
    let acc: f32 = 0;
    const orow = o + ((<usize>(row * Dv)) << 2);
    const grow = g + ((<usize>(row * DvP)) << 2);
    for (let c = 0; c < Dv; c++)
      acc += load<f32>(orow + ((<usize>c) << 2)) * load<f32>(grow + ((<usize>c) << 2));
    store<f32>(delta + ((<usize>row) << 2), acc);
  }
}

/**
 * Probabilities and score gradients of one tile, from the saved lse (base 2) and delta:
 * P = 2^(s2 - lse2) in `s`, dP = dO·Vᵀ in `dp` on entry, dS = P ∘ (dP - delta) in `dp` on exit, times
 * softcap's derivative (dcap) when there is one; with `writeBias`, dbias (if any) gets dS before that
 * factor (one pass of the two writes it). Under dropout, with keep factors z: P ∘ z in `s` (what dV
 * reads) and dS = P ∘ (dP ∘ z - delta).
 */
function probsAndGrads(
  p: usize,
  b: i32,
  h: i32,
  i0: i32,
  r0: i32,
  r1: i32,
  k0: i32,
  n4: i32,
  s: usize,
  dp: usize,
  dcap: usize,
  ld: i32,
  writeBias: bool,
): void {
  const Nq = pi(p, P_NQ);
  const Nk = pi(p, P_NK);
  const bh = b * pi(p, P_H) + h;
  const lse = pp(p, P_LSE);
  const delta = pp(p, P_DELTA);
  const dbias = writeBias ? pp(p, P_DBIAS) : 0;
  const cap = pf(p, P_SOFTCAP);
  const dropping = pf(p, P_DROP_P) > 0;
  for (let r = r0; r < r1; r++) {
    const i = i0 + r;
    const row = s + ((<usize>(r * ld)) << 2);
    const drow = dp + ((<usize>(r * ld)) << 2);
    const l = load<f32>(lse + ((<usize>(bh * Nq + i)) << 2));
    if (l === NEG_INF) {
      memory.fill(row, 0, (<usize>n4) << 2);
      memory.fill(drow, 0, (<usize>n4) << 2);
      continue;
    }
    const lv = f32x4.splat(l * LOG2E);
    const dl = f32x4.splat(load<f32>(delta + ((<usize>(bh * Nq + i)) << 2)));
    if (dropping) {
      // with keep factors z: P ∘ z for dV = (P∘z)ᵀ·dO, and dS = P ∘ (dP ∘ z - delta)
      const c0 = dropCounter(p, bh, i, k0);
      for (let c = 0; c < n4; c += 4) {
        const z = keep4(p, c0 + <u32>c);
        const pv = exp2v(f32x4.sub(v128.load(row + ((<usize>c) << 2)), lv));
        v128.store(row + ((<usize>c) << 2), f32x4.mul(pv, z));
        const dpz = f32x4.mul(v128.load(drow + ((<usize>c) << 2)), z);
        v128.store(drow + ((<usize>c) << 2), f32x4.mul(pv, f32x4.sub(dpz, dl)));
      }
    } else {
      for (let c = 0; c < n4; c += 4) {
        const pv = exp2v(f32x4.sub(v128.load(row + ((<usize>c) << 2)), lv));
        v128.store(row + ((<usize>c) << 2), pv);
        v128.store(
          drow + ((<usize>c) << 2),
          f32x4.mul(pv, f32x4.sub(v128.load(drow + ((<usize>c) << 2)), dl)),
        );
      }
    }
    if (dbias) {
      const out = dbias + ((<usize>((bh * Nq + i) * Nk + k0)) << 2);
      const end = min(n4, Nk - k0);
      for (let c = 0; c < end; c++) store<f32>(out + ((<usize>c) << 2), load<f32>(drow + ((<usize>c) << 2)));
    }
    if (cap > 0) {
      const crow = dcap + ((<usize>(r * ld)) << 2);
      for (let c = 0; c < n4; c += 4) {
        v128.store(
          drow + ((<usize>c) << 2),
          f32x4.mul(v128.load(drow + ((<usize>c) << 2)), v128.load(crow + ((<usize>c) << 2))),
        );
      }
    }
  }
}

/** Scratch bytes one thread needs for `attnBackwardKV` / `attnBackwardQ`. */
export function attnBackwardScratch(p: usize): i32 {
  const QT = pi(p, P_QT);
  const KB = pi(p, P_KB);
  const tile = QT * KB;
  const acc = max(KB * (pi(p, P_DP) + pi(p, P_DVP)), QT * pi(p, P_DP));
  return (3 * tile + acc + 2 * max(QT, KB)) * 4 + 256;
}

/**
 * dK and dV of KB keys, task = (b·Hkv + hk)·blocks + block: loops over the group's query heads and the
 * query tiles that see the block (FlashAttention-2 Alg. 2, the outer loop over keys), recomputing P.
 */
export function attnBackwardKV(task: i32, scratch: usize, p: usize): void {
  const H = pi(p, P_H);
  const Hkv = pi(p, P_HKV);
  const Nq = pi(p, P_NQ);
  const Nk = pi(p, P_NK);
  const D = pi(p, P_D);
  const DP = pi(p, P_DP);
  const Dv = pi(p, P_DV);
  const DvP = pi(p, P_DVP);
  const NkP = pi(p, P_NKP);
  const QT = pi(p, P_QT);
  const KB = pi(p, P_KB);
  const blocks = (Nk + KB - 1) / KB;
  const bk = task / blocks;
  const b = bk / Hkv;
  const hk = bk % Hkv;
  const k0 = (task % blocks) * KB;
  const nk = min(KB, Nk - k0);
  const n4 = (nk + 3) & ~3;
  const group = H / Hkv;
  // scratch: S [QT][KB] | dP [QT][KB] | dcap [QT][KB] | dK [KB][DP] | dV [KB][DvP]
  const S = scratch;
  const DPT = S + ((<usize>(QT * KB)) << 2);
  const CAP = DPT + ((<usize>(QT * KB)) << 2);
  const DK = CAP + ((<usize>(QT * KB)) << 2);
  const DVA = DK + ((<usize>(KB * DP)) << 2);
  memory.fill(DK, 0, (<usize>(KB * (DP + DvP))) << 2);
  const kt = pp(p, P_KT) + ((<usize>(bk * D * NkP)) << 2);
  const vt = pp(p, P_VT) + ((<usize>(bk * Dv * NkP)) << 2);
  const hasCap = pf(p, P_SOFTCAP) > 0;
  for (let h = hk * group; h < hk * group + group; h++) {
    const bh = b * H + h;
    const q = pp(p, P_Q) + ((<usize>(bh * Nq * DP)) << 2);
    const g = pp(p, P_DOUT) + ((<usize>(bh * Nq * DvP)) << 2);
    // query rows that see some key of the block
    let qLo = Nq;
    let qHi = 0;
    for (let i = 0; i < Nq; i++) {
      if (rowLo(p, i) < k0 + nk && rowHi(p, b, i) > k0) {
        qLo = min(qLo, i);
        qHi = i + 1;
      }
    }
    for (let i0 = qLo; i0 < qHi; i0 += QT) {
      const m = min(QT, qHi - i0);
      const qi = q + ((<usize>(i0 * DP)) << 2);
      const gi = g + ((<usize>(i0 * DvP)) << 2);
      gemm(m, n4, D, qi, DP, 1, kt + ((<usize>(k0 * D)) << 2), 8, 8 * D, S, KB, false);
      scoreTile(p, b, h, i0, 0, m, k0, n4, S, KB, hasCap ? CAP : 0);
      gemm(m, n4, Dv, gi, DvP, 1, vt + ((<usize>(k0 * Dv)) << 2), 8, 8 * Dv, DPT, KB, false);
      probsAndGrads(p, b, h, i0, 0, m, k0, n4, S, DPT, CAP, KB, false);
      // dV += Pᵀ·dO, dK += dSᵀ·Q (scale applied once at the end)
      gemm(nk, DvP, m, S, 1, KB, gi, DvP, 8, DVA, DvP, true);
      gemm(nk, DP, m, DPT, 1, KB, qi, DP, 8, DK, DP, true);
    }
  }
  const scale = pf(p, P_SCALE);
  const dk = pp(p, P_DK) + ((<usize>((bk * Nk + k0) * D)) << 2);
  const dv = pp(p, P_DV_OUT) + ((<usize>((bk * Nk + k0) * Dv)) << 2);
  for (let j = 0; j < nk; j++) {
    for (let c = 0; c < D; c++)
      store<f32>(dk + ((<usize>(j * D + c)) << 2), load<f32>(DK + ((<usize>(j * DP + c)) << 2)) * scale);
    for (let c = 0; c < Dv; c++)
      store<f32>(dv + ((<usize>(j * Dv + c)) << 2), load<f32>(DVA + ((<usize>(j * DvP + c)) << 2)));
  }
}

/** dQ of QT query rows, task = (b·H + h)·tiles + tile: the inner loop over visible key blocks. */
export function attnBackwardQ(task: i32, scratch: usize, p: usize): void {
  const H = pi(p, P_H);
  const Nq = pi(p, P_NQ);
  const Nk = pi(p, P_NK);
  const D = pi(p, P_D);
  const DP = pi(p, P_DP);
  const Dv = pi(p, P_DV);
  const DvP = pi(p, P_DVP);
  const NkP = pi(p, P_NKP);
  const QT = pi(p, P_QT);
  const KB = pi(p, P_KB);
  const tiles = (Nq + QT - 1) / QT;
  const bh = task / tiles;
  const b = bh / H;
  const h = bh % H;
  const bk = b * pi(p, P_HKV) + h / (H / pi(p, P_HKV));
  const i0 = queryTile(p, task) * QT;
  const rows = min(QT, Nq - i0);
  const S = scratch;
  const DPT = S + ((<usize>(QT * KB)) << 2);
  const CAP = DPT + ((<usize>(QT * KB)) << 2);
  const DQ = CAP + ((<usize>(QT * KB)) << 2);
  memory.fill(DQ, 0, (<usize>(QT * DP)) << 2);
  const q = pp(p, P_Q) + ((<usize>((bh * Nq + i0) * DP)) << 2);
  const g = pp(p, P_DOUT) + ((<usize>((bh * Nq + i0) * DvP)) << 2);
  const kt = pp(p, P_KT) + ((<usize>(bk * D * NkP)) << 2);
  const vt = pp(p, P_VT) + ((<usize>(bk * Dv * NkP)) << 2);
  const k = pp(p, P_K) + ((<usize>(bk * Nk * DP)) << 2);
  const hasCap = pf(p, P_SOFTCAP) > 0;
  let kLo = 0x7fffffff;
  let kHi = 0;
  for (let r = 0; r < rows; r++) {
    const lo = rowLo(p, i0 + r);
    const hi = rowHi(p, b, i0 + r);
    if (hi > lo) {
      kLo = min(kLo, lo);
      kHi = max(kHi, hi);
    }
  }
  for (let k0 = kLo & ~7; k0 < kHi; k0 += KB) {
    const k1 = min(k0 + KB, kHi);
    let r0 = rows;
    let r1 = 0;
    let kEnd = k0;
    for (let r = 0; r < rows; r++) {
      const lo = rowLo(p, i0 + r);
      const hi = rowHi(p, b, i0 + r);
      if (lo < k1 && hi > k0) {
        r0 = min(r0, r);
        r1 = r + 1;
        kEnd = max(kEnd, min(k1, hi));
      }
    }
    if (r0 >= r1) continue;
    const nk = kEnd - k0;
    const n4 = (nk + 3) & ~3;
    const m = r1 - r0;
    const sr = S + ((<usize>(r0 * KB)) << 2);
    const dr = DPT + ((<usize>(r0 * KB)) << 2);
    gemm(
      m,
      n4,
      D,
      q + ((<usize>(r0 * DP)) << 2),
      DP,
      1,
      kt + ((<usize>(k0 * D)) << 2),
      8,
      8 * D,
      sr,
      KB,
      false,
    );
    scoreTile(p, b, h, i0, r0, r1, k0, n4, S, KB, hasCap ? CAP : 0);
    gemm(
      m,
      n4,
      Dv,
      g + ((<usize>(r0 * DvP)) << 2),
      DvP,
      1,
      vt + ((<usize>(k0 * Dv)) << 2),
      8,
      8 * Dv,
      dr,
      KB,
      false,
    );
    probsAndGrads(p, b, h, i0, r0, r1, k0, n4, S, DPT, CAP, KB, true);
    // dQ += dS·K
    gemm(
      m,
      DP,
      nk,
      dr,
      KB,
      1,
      k + ((<usize>(k0 * DP)) << 2),
      DP,
      8,
      DQ + ((<usize>(r0 * DP)) << 2),
      DP,
      true,
    );
  }
  const scale = pf(p, P_SCALE);
  const dq = pp(p, P_DQ) + ((<usize>((bh * Nq + i0) * D)) << 2);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < D; c++)
      store<f32>(dq + ((<usize>(r * D + c)) << 2), load<f32>(DQ + ((<usize>(r * DP + c)) << 2)) * scale);
  }
}
