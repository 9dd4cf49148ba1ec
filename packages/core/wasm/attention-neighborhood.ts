/**
 * AssemblyScript: neighbourhood attention (NATTEN, Hassani et al. 2023) forward, and what its backward
 * (attention-neighborhood-backward.ts) shares: the window geometry (the twins of
 * src/kernels/neighborhood.ts), the strip of a task and the score tile.
 *
 * A task owns a strip of up to QT query cells of one sub-row (a grid row and, under dilation, one column
 * residue: cells dw apart). Their column windows overlap, so for each of the kh rows of their common row
 * window one run of at most QT + kw - 1 keys (dw apart) covers them all (NATTEN's tiling). That run is
 * packed transposed into 8-key panels, and each step is the dense kernels' pair of small products on
 * `gemm` (S = Q·Kᵀ, O += P·V, reading q and v rows with stride dw) around an online softmax in base 2;
 * scores outside a query's own window are masked. Work grows with N·kh·(QT + kw - 1), memory with N.
 */

import {
  dropCounter,
  keep1,
  LN2,
  LOG2E,
  NEG_INF,
  OnlineSoftmax,
  P_BI_SB,
  P_BI_SH,
  P_BI_SI,
  P_BI_SJ,
  P_BIAS,
  P_D,
  P_DP,
  P_DROP_KEY0,
  P_DROP_KEY1,
  P_DROP_P,
  P_DROP_SCALE,
  P_DV,
  P_DVP,
  P_H,
  P_HKV,
  P_K,
  P_KVLENS,
  P_LSE,
  P_M_SB,
  P_M_SH,
  P_M_SI,
  P_M_SJ,
  P_MASK,
  P_NK,
  P_NQ,
  P_OUT,
  P_Q,
  P_QT,
  P_SCALE,
  P_SOFTCAP,
  P_V,
  pf,
  pi,
  pp,
  TileRow,
} from './attention-common';
import { gemm } from './gemm';
import { exp2v, hmax, hsum } from './simd';

// Fields after the dense kernels' (src/backend/wasm/attention.ts FIELDS).
export const P_ROWS = 45;
export const P_COLS = 46;
export const P_KH = 47;
export const P_KW = 48;
export const P_DH = 49;
export const P_DW = 50;
export const P_NB_CAUSAL = 51;
export const P_Q_CELL = 52;
export const P_PER_RES = 53;
export const P_STRIPS = 54;
/** Score tile row stride: QT + kw - 1 rounded up to 8 (the longest key run). */
export const P_SLD = 55;

/** Positions of residue r on an axis of length L with dilation d. */
export function subLen(L: i32, d: i32, r: i32): i32 {
  return (L - 1 - r) / d + 1;
}
/** First sub-index of the window of s: centred and shifted inward, or (causal) ending at s. */
export function winStart(s: i32, Ls: i32, k: i32, causal: bool): i32 {
  if (causal) return max(0, s - k + 1);
  return min(max(s - (k >> 1), 0), Ls - k);
}
export function winEnd(s: i32, Ls: i32, k: i32, causal: bool): i32 {
  return causal ? s + 1 : winStart(s, Ls, k, false) + k;
}
/** Sub-indices whose windows meet [u0, u1): [invLo, invHi) (the inverse neighbourhood). */
export function invLo(u0: i32, k: i32, causal: bool): i32 {
  if (causal) return u0;
  const first = u0 - k + 1;
  return first <= 0 ? 0 : first + (k >> 1);
}
export function invHi(u1: i32, Ls: i32, k: i32, causal: bool): i32 {
  if (causal) return min(Ls, u1 + k - 1);
  const last = u1 - 1;
  return last >= Ls - k ? Ls : min(Ls, last + (k >> 1) + 1);
}
/** First key that is padding: kvLens[b] or Nk. */
export function keyEnd(p: usize, b: i32): i32 {
  const lens = pp(p, P_KVLENS);
  return lens ? load<i32>(lens + ((<usize>b) << 2)) : pi(p, P_NK);
}

/** Strip s of a head: [grid row, column residue, first sub-column]. */
export function stripRow(p: usize, s: i32): i32 {
  return s / (pi(p, P_DW) * pi(p, P_PER_RES));
}
export function stripResidue(p: usize, s: i32): i32 {
  return (s % (pi(p, P_DW) * pi(p, P_PER_RES))) / pi(p, P_PER_RES);
}
export function stripStart(p: usize, s: i32): i32 {
  return (s % pi(p, P_PER_RES)) * pi(p, P_QT);
}

/**
 * Packs `n` rows (row-major, `ld` floats apart, `stride` rows between consecutive ones) of `cols`
 * columns into 8-row panels dst[c / 8][d][c % 8], zeros up to the next multiple of 8.
 */
export function packPanels(src: usize, ld: i32, stride: i32, cols: i32, n: i32, dst: usize): void {
  const n8 = (n + 7) & ~7;
  for (let c = 0; c < n8; c++) {
    const out = dst + ((<usize>((c >> 3) * cols * 8 + (c & 7))) << 2);
    if (c < n) {
      const s = src + ((<usize>(c * stride * ld)) << 2);
      for (let d = 0; d < cols; d++)
        store<f32>(out + ((<usize>(d * 8)) << 2), load<f32>(s + ((<usize>d) << 2)));
    } else {
      for (let d = 0; d < cols; d++) store<f32>(out + ((<usize>(d * 8)) << 2), 0);
    }
  }
}

/**
 * Raw dots S[r, 0..n4) of query rows i0 + r·dw (r < m) and keys j0 + c·dw into base-2 logits:
 * (softcap(scale·dot) + bias)·log2 e, -inf outside [LO[r], HI[r]) (the row's window in this run) and
 * where the mask says so. With `dcap` it also writes softcap's derivative 1 - tanh² (backward).
 */
export function nbScores(
  p: usize,
  b: i32,
  h: i32,
  i0: i32,
  m: i32,
  j0: i32,
  n4: i32,
  s: usize,
  ld: i32,
  LO: usize,
  HI: usize,
  dcap: usize,
): void {
  const scale = pf(p, P_SCALE);
  const cap = pf(p, P_SOFTCAP);
  const mask = pp(p, P_MASK);
  const bias = pp(p, P_BIAS);
  const dw = pi(p, P_DW);
  const Nk = pi(p, P_NK);
  for (let r = 0; r < m; r++) {
    const i = i0 + r * dw;
    const row = s + ((<usize>(r * ld)) << 2);
    const lo = load<i32>(LO + ((<usize>r) << 2));
    const hi = load<i32>(HI + ((<usize>r) << 2));
    if (cap > 0) TileRow.softcap(row, dcap, (<usize>(r * ld)) << 2, n4, scale, cap);
    if (bias) {
      const bp = bias + ((<usize>(b * pi(p, P_BI_SB) + h * pi(p, P_BI_SH) + i * pi(p, P_BI_SI))) << 2);
      const sj = pi(p, P_BI_SJ);
      const pre: f32 = cap > 0 ? 1 : scale;
      for (let c = 0; c < n4; c++) {
        const a = row + ((<usize>c) << 2);
        const j = j0 + c * dw;
        const bv = j < Nk ? load<f32>(bp + ((<usize>(j * sj)) << 2)) : 0;
        store<f32>(a, load<f32>(a) * pre + bv);
      }
    }
    TileRow.scaleVisible(row, n4, f32x4.splat(cap > 0 || bias ? LOG2E : scale * LOG2E), lo, hi);
    if (mask) {
      const mp = mask + <usize>(b * pi(p, P_M_SB) + h * pi(p, P_M_SH) + i * pi(p, P_M_SI));
      const sj = pi(p, P_M_SJ);
      const end = min(n4, hi);
      for (let c = max(0, lo); c < end; c++) {
        if (!load<u8>(mp + <usize>((j0 + c * dw) * sj))) store<f32>(row + ((<usize>c) << 2), NEG_INF);
      }
    }
  }
}

/** Dropout factor of (bh, i, j) (the dense kernels' counter and hash). */
export function keepAt(p: usize, bh: i32, i: i32, j: i32): f32 {
  const k0 = <u32>pi(p, P_DROP_KEY0);
  const k1 = <u32>pi(p, P_DROP_KEY1);
  return keep1(dropCounter(p, bh, i, j), k0, k1, pf(p, P_DROP_P), pf(p, P_DROP_SCALE));
}

/** Scratch bytes one thread needs for the neighbourhood kernels (forward and backward). */
export function nbScratch(p: usize): i32 {
  const QT = pi(p, P_QT);
  const SLD = pi(p, P_SLD);
  const DP = pi(p, P_DP);
  const DvP = pi(p, P_DVP);
  const forward = QT * SLD + QT * DvP + 4 * QT + SLD * pi(p, P_D);
  const acc = max(QT * (DP + DvP), QT * DP);
  const backward = 3 * QT * SLD + acc + SLD * (pi(p, P_D) + pi(p, P_DV)) + 2 * QT;
  return max(forward, backward) * 4 + 256;
}

/**
 * Forward, task = (b·H + h)·strips + strip: out [B, H, Nq, Dv] and lse [B, H, Nq] (natural log; -inf and
 * zeros for a row with no visible key) of the strip's queries.
 */
export function nbForward(task: i32, scratch: usize, p: usize): void {
  const H = pi(p, P_H);
  const Nq = pi(p, P_NQ);
  const Nk = pi(p, P_NK);
  const D = pi(p, P_D);
  const DP = pi(p, P_DP);
  const Dv = pi(p, P_DV);
  const DvP = pi(p, P_DVP);
  const QT = pi(p, P_QT);
  const SLD = pi(p, P_SLD);
  const cols = pi(p, P_COLS);
  const dh = pi(p, P_DH);
  const dw = pi(p, P_DW);
  const kh = pi(p, P_KH);
  const kw = pi(p, P_KW);
  const causal = pi(p, P_NB_CAUSAL) !== 0;
  const qCell = pi(p, P_Q_CELL);
  const strips = pi(p, P_STRIPS);
  const bh = task / strips;
  const b = bh / H;
  const h = bh % H;
  const bk = b * pi(p, P_HKV) + h / (H / pi(p, P_HKV));
  const strip = task % strips;
  const y = stripRow(p, strip);
  const rx = stripResidue(p, strip);
  const Lx = subLen(cols, dw, rx);
  const base = y * cols + rx;
  // the strip's queries: sub-columns [tA, tB) whose cells are in [qCell, Nk)
  let tA = stripStart(p, strip);
  let tB = min(tA + QT, Lx);
  if (base + dw * tA < qCell) tA = max(tA, (qCell - base + dw - 1) / dw);
  if (base + dw * (tB - 1) >= Nk) tB = min(tB, (Nk - base + dw - 1) / dw);
  if (tA >= tB) return;
  const m = tB - tA;
  const i0 = base + dw * tA - qCell;
  const end = keyEnd(p, b);
  // scratch: S [QT][SLD] | O [QT][DvP] | m | l | lo | hi [QT] | Kp [SLD / 8][D][8]
  const S = scratch;
  const O = S + ((<usize>(QT * SLD)) << 2);
  const M = O + ((<usize>(QT * DvP)) << 2);
  const L = M + ((<usize>QT) << 2);
  const LO = L + ((<usize>QT) << 2);
  const HI = LO + ((<usize>QT) << 2);
  const KP = HI + ((<usize>QT) << 2);
  for (let r = 0; r < m; r++) {
    store<f32>(M + ((<usize>r) << 2), NEG_INF);
    store<f32>(L + ((<usize>r) << 2), 0);
  }
  memory.fill(O, 0, (<usize>(m * DvP)) << 2);
  const q = pp(p, P_Q) + ((<usize>((bh * Nq + i0) * DP)) << 2);
  const kHead = pp(p, P_K) + ((<usize>(bk * Nk * DP)) << 2);
  const vHead = pp(p, P_V) + ((<usize>(bk * Nk * DvP)) << 2);
  const dropping = pf(p, P_DROP_P) > 0;
  const ry = y % dh;
  const Ly = subLen(pi(p, P_ROWS), dh, ry);
  const y1 = winEnd(y / dh, Ly, kh, causal);
  const ua = winStart(tA, Lx, kw, false);
  for (let ty = winStart(y / dh, Ly, kh, causal); ty < y1; ty++) {
    const ky = ry + ty * dh;
    const room = end - ky * cols - rx; // keys of this row before the padding: sub-columns < room / dw
    if (room <= 0) break;
    let ub = min(winStart(tB - 1, Lx, kw, false) + kw, (room + dw - 1) / dw);
    if (causal && ky === y) ub = min(ub, tB);
    if (ub <= ua) continue;
    const nk = ub - ua;
    const n4 = (nk + 3) & ~3;
    const j0 = ky * cols + rx + dw * ua;
    for (let r = 0; r < m; r++) {
      const ws = winStart(tA + r, Lx, kw, false);
      let hi = min(ws + kw, ub) - ua;
      if (causal && ky === y) hi = min(hi, tA + r + 1 - ua);
      store<i32>(LO + ((<usize>r) << 2), ws - ua);
      store<i32>(HI + ((<usize>r) << 2), hi);
    }
    packPanels(kHead + ((<usize>(j0 * DP)) << 2), DP, dw, D, nk, KP);
    gemm(m, n4, D, q, dw * DP, 1, KP, 8, 8 * D, S, SLD, false);
    nbScores(p, b, h, i0, m, j0, n4, S, SLD, LO, HI, 0);
    // online softmax: new running max, rescale what was accumulated, P = 2^(s - m)
    for (let r = 0; r < m; r++) {
      const row = S + ((<usize>(r * SLD)) << 2);
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
      for (let c = 0; c < n4; c += 4) {
        const a = row + ((<usize>c) << 2);
        const e = exp2v(f32x4.sub(v128.load(a), mv));
        v128.store(a, e);
        sum = f32x4.add(sum, e);
      }
      if (dropping) {
        // the row sums undropped probabilities (lse is dropout's); P·V reads the dropped ones
        const i = i0 + r * dw;
        const hi = min(nk, load<i32>(HI + ((<usize>r) << 2)));
        for (let c = max(0, load<i32>(LO + ((<usize>r) << 2))); c < hi; c++) {
          const a = row + ((<usize>c) << 2);
          store<f32>(a, load<f32>(a) * keepAt(p, bh, i, j0 + c * dw));
        }
      }
      const alpha = OnlineSoftmax.rescaleFactor(mOld, mNew);
      store<f32>(L + ((<usize>r) << 2), load<f32>(L + ((<usize>r) << 2)) * alpha + hsum(sum));
      store<f32>(M + ((<usize>r) << 2), mNew);
      if (alpha !== 1) OnlineSoftmax.scale(O + ((<usize>(r * DvP)) << 2), DvP, alpha);
    }
    // O += P·V over the run's keys (rows dw apart)
    gemm(m, DvP, nk, S, SLD, 1, vHead + ((<usize>(j0 * DvP)) << 2), dw * DvP, 8, O, DvP, true);
  }
  const out = pp(p, P_OUT);
  const lse = pp(p, P_LSE);
  for (let r = 0; r < m; r++) {
    const row = bh * Nq + i0 + r * dw;
    const l = load<f32>(L + ((<usize>r) << 2));
    const orow = O + ((<usize>(r * DvP)) << 2);
    const dst = out + ((<usize>(row * Dv)) << 2);
    if (l > 0) {
      const inv: f32 = 1 / l;
      for (let c = 0; c < Dv; c++)
        store<f32>(dst + ((<usize>c) << 2), load<f32>(orow + ((<usize>c) << 2)) * inv);
      store<f32>(lse + ((<usize>row) << 2), (load<f32>(M + ((<usize>r) << 2)) + Mathf.log2(l)) * LN2);
    } else {
      // a row with no visible key: zeros and lse = -inf, never NaN
      memory.fill(dst, 0, (<usize>Dv) << 2);
      store<f32>(lse + ((<usize>row) << 2), NEG_INF);
    }
  }
}
