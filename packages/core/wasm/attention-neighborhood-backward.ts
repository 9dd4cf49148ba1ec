/**
 * AssemblyScript: neighbourhood attention backward from the saved lse, without atomics (as
 * attention-backward.ts): delta = rowsum(dO ∘ O) (attnDelta), dQ over query strips walking the forward's
 * key runs, and dK/dV over key strips walking their inverse neighbourhood (the query rows and columns
 * whose windows meet the strip: NATTEN's backward), over every query head of the GQA group.
 */

import {
  LOG2E,
  NEG_INF,
  P_D,
  P_DBIAS,
  P_DELTA,
  P_DK,
  P_DOUT,
  P_DP,
  P_DQ,
  P_DROP_P,
  P_DV,
  P_DV_OUT,
  P_DVP,
  P_H,
  P_HKV,
  P_K,
  P_LSE,
  P_NK,
  P_NQ,
  P_Q,
  P_QT,
  P_SCALE,
  P_SOFTCAP,
  P_V,
  pf,
  pi,
  pp,
} from './attention-common';
import {
  invHi,
  invLo,
  keepAt,
  keyEnd,
  nbScores,
  P_COLS,
  P_DH,
  P_DW,
  P_KH,
  P_KW,
  P_NB_CAUSAL,
  P_Q_CELL,
  P_ROWS,
  P_SLD,
  P_STRIPS,
  packPanels,
  stripResidue,
  stripRow,
  stripStart,
  subLen,
  winEnd,
  winStart,
} from './attention-neighborhood';
import { gemm } from './gemm';
import { exp2v } from './simd';

/**
 * P and dS of a tile of query rows i0 + r·dw and keys j0 + c·dw from the saved lse and delta:
 * P = 2^(s2 - lse2) in `s`; `dp` holds dO·Vᵀ on entry and dS = P ∘ (dP ∘ z - delta) on exit (z the
 * dropout factors; `s` then holds P ∘ z, what dV reads), times softcap's derivative when there is one.
 * With `writeBias`, dbias gets dS (before that factor) at the visible entries.
 */
function nbProbsGrads(
  p: usize,
  bh: i32,
  i0: i32,
  m: i32,
  j0: i32,
  n4: i32,
  s: usize,
  dp: usize,
  dcap: usize,
  ld: i32,
  LO: usize,
  HI: usize,
  writeBias: bool,
): void {
  const Nq = pi(p, P_NQ);
  const Nk = pi(p, P_NK);
  const dw = pi(p, P_DW);
  const lse = pp(p, P_LSE);
  const delta = pp(p, P_DELTA);
  const dbias = writeBias ? pp(p, P_DBIAS) : 0;
  const cap = pf(p, P_SOFTCAP);
  const dropping = pf(p, P_DROP_P) > 0;
  for (let r = 0; r < m; r++) {
    const i = i0 + r * dw;
    const row = s + ((<usize>(r * ld)) << 2);
    const drow = dp + ((<usize>(r * ld)) << 2);
    const l = load<f32>(lse + ((<usize>(bh * Nq + i)) << 2));
    if (l === NEG_INF) {
      memory.fill(row, 0, (<usize>n4) << 2);
      memory.fill(drow, 0, (<usize>n4) << 2);
      continue;
    }
    const lv = f32x4.splat(l * LOG2E);
    const dlt = load<f32>(delta + ((<usize>(bh * Nq + i)) << 2));
    const lo = max(0, load<i32>(LO + ((<usize>r) << 2)));
    const hi = min(n4, load<i32>(HI + ((<usize>r) << 2)));
    if (dropping) {
      // P ∘ z for dV and dS = P ∘ (dP ∘ z - delta), with z the keep factors; P is 0 outside [lo, hi)
      for (let c = 0; c < n4; c++) {
        const a = row + ((<usize>c) << 2);
        const d = drow + ((<usize>c) << 2);
        const pv = f32x4.extract_lane(exp2v(f32x4.splat(load<f32>(a) - l * LOG2E)), 0);
        const z: f32 = c >= lo && c < hi ? keepAt(p, bh, i, j0 + c * dw) : 0;
        store<f32>(a, pv * z);
        store<f32>(d, pv * (load<f32>(d) * z - dlt));
      }
    } else {
      const dl = f32x4.splat(dlt);
      for (let c = 0; c < n4; c += 4) {
        const a = row + ((<usize>c) << 2);
        const d = drow + ((<usize>c) << 2);
        const pv = exp2v(f32x4.sub(v128.load(a), lv));
        v128.store(a, pv);
        v128.store(d, f32x4.mul(pv, f32x4.sub(v128.load(d), dl)));
      }
    }
    if (dbias) {
      const out = dbias + ((<usize>((bh * Nq + i) * Nk)) << 2);
      for (let c = lo; c < hi; c++)
        store<f32>(out + ((<usize>(j0 + c * dw)) << 2), load<f32>(drow + ((<usize>c) << 2)));
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

/** dQ of a strip of query cells, task = (b·H + h)·strips + strip: the forward's key runs. */
export function nbBackwardQ(task: i32, scratch: usize, p: usize): void {
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
  let tA = stripStart(p, strip);
  let tB = min(tA + QT, Lx);
  if (base + dw * tA < qCell) tA = max(tA, (qCell - base + dw - 1) / dw);
  if (base + dw * (tB - 1) >= Nk) tB = min(tB, (Nk - base + dw - 1) / dw);
  if (tA >= tB) return;
  const m = tB - tA;
  const i0 = base + dw * tA - qCell;
  const end = keyEnd(p, b);
  // scratch: S | dP | dcap [QT][SLD] | dQ [QT][DP] | Kp [SLD / 8][D][8] | Vp [SLD / 8][Dv][8] | lo | hi
  const S = scratch;
  const DPT = S + ((<usize>(QT * SLD)) << 2);
  const CAP = DPT + ((<usize>(QT * SLD)) << 2);
  const DQ = CAP + ((<usize>(QT * SLD)) << 2);
  const KP = DQ + ((<usize>(QT * DP)) << 2);
  const VP = KP + ((<usize>(SLD * D)) << 2);
  const LO = VP + ((<usize>(SLD * Dv)) << 2);
  const HI = LO + ((<usize>QT) << 2);
  memory.fill(DQ, 0, (<usize>(m * DP)) << 2);
  const q = pp(p, P_Q) + ((<usize>((bh * Nq + i0) * DP)) << 2);
  const g = pp(p, P_DOUT) + ((<usize>((bh * Nq + i0) * DvP)) << 2);
  const kHead = pp(p, P_K) + ((<usize>(bk * Nk * DP)) << 2);
  const vHead = pp(p, P_V) + ((<usize>(bk * Nk * DvP)) << 2);
  const hasCap = pf(p, P_SOFTCAP) > 0;
  const ry = y % dh;
  const Ly = subLen(pi(p, P_ROWS), dh, ry);
  const y1 = winEnd(y / dh, Ly, kh, causal);
  const ua = winStart(tA, Lx, kw, false);
  for (let ty = winStart(y / dh, Ly, kh, causal); ty < y1; ty++) {
    const ky = ry + ty * dh;
    const room = end - ky * cols - rx;
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
    packPanels(vHead + ((<usize>(j0 * DvP)) << 2), DvP, dw, Dv, nk, VP);
    gemm(m, n4, D, q, dw * DP, 1, KP, 8, 8 * D, S, SLD, false);
    nbScores(p, b, h, i0, m, j0, n4, S, SLD, LO, HI, hasCap ? CAP : 0);
    gemm(m, n4, Dv, g, dw * DvP, 1, VP, 8, 8 * Dv, DPT, SLD, false);
    nbProbsGrads(p, bh, i0, m, j0, n4, S, DPT, CAP, SLD, LO, HI, true);
    // dQ += dS·K over the run's keys (rows dw apart)
    gemm(m, DP, nk, DPT, SLD, 1, kHead + ((<usize>(j0 * DP)) << 2), dw * DP, 8, DQ, DP, true);
  }
  const scale = pf(p, P_SCALE);
  const dq = pp(p, P_DQ);
  for (let r = 0; r < m; r++) {
    const dst = dq + ((<usize>((bh * Nq + i0 + r * dw) * D)) << 2);
    for (let c = 0; c < D; c++)
      store<f32>(dst + ((<usize>c) << 2), load<f32>(DQ + ((<usize>(r * DP + c)) << 2)) * scale);
  }
}

/**
 * dK and dV of a strip of key cells, task = (b·Hkv + hk)·strips + strip: the inverse neighbourhood's
 * query rows, in chunks of QT queries per row, for every query head of the group, recomputing P.
 */
export function nbBackwardKV(task: i32, scratch: usize, p: usize): void {
  const H = pi(p, P_H);
  const Hkv = pi(p, P_HKV);
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
  const bk = task / strips;
  const b = bk / Hkv;
  const hk = bk % Hkv;
  const group = H / Hkv;
  const strip = task % strips;
  const ky = stripRow(p, strip);
  const rx = stripResidue(p, strip);
  const u0 = stripStart(p, strip);
  const Lx = subLen(cols, dw, rx);
  if (u0 >= Lx) return;
  const j0 = ky * cols + rx + dw * u0;
  if (j0 >= Nk) return;
  // keys written: cells < Nk; keys computed: cells before the padding
  const most = min(QT, Lx - u0);
  const nw = min(most, (Nk - j0 + dw - 1) / dw);
  const nk = max(0, min(most, (keyEnd(p, b) - j0 + dw - 1) / dw));
  const n4 = (nk + 3) & ~3;
  // scratch: S | dP | dcap [QT][SLD] | dK [QT][DP] | dV [QT][DvP] | Kp [SLD / 8][D][8] | Vp | lo | hi
  const S = scratch;
  const DPT = S + ((<usize>(QT * SLD)) << 2);
  const CAP = DPT + ((<usize>(QT * SLD)) << 2);
  const DK = CAP + ((<usize>(QT * SLD)) << 2);
  const DVA = DK + ((<usize>(QT * DP)) << 2);
  const KP = DVA + ((<usize>(QT * DvP)) << 2);
  const VP = KP + ((<usize>(SLD * D)) << 2);
  const LO = VP + ((<usize>(SLD * Dv)) << 2);
  const HI = LO + ((<usize>QT) << 2);
  memory.fill(DK, 0, (<usize>(QT * (DP + DvP))) << 2);
  const kHead = pp(p, P_K) + ((<usize>(bk * Nk * DP)) << 2);
  const vHead = pp(p, P_V) + ((<usize>(bk * Nk * DvP)) << 2);
  const hasCap = pf(p, P_SOFTCAP) > 0;
  if (nk > 0) {
    packPanels(kHead + ((<usize>(j0 * DP)) << 2), DP, dw, D, nk, KP);
    packPanels(vHead + ((<usize>(j0 * DvP)) << 2), DvP, dw, Dv, nk, VP);
    const ry = ky % dh;
    const Ly = subLen(pi(p, P_ROWS), dh, ry);
    const sy1 = invHi(ky / dh + 1, Ly, kh, causal);
    const sx0 = invLo(u0, kw, false);
    const sx1 = invHi(u0 + nk, Lx, kw, false);
    for (let h = hk * group; h < hk * group + group; h++) {
      const bh = b * H + h;
      for (let sy = invLo(ky / dh, kh, causal); sy < sy1; sy++) {
        const y = ry + sy * dh;
        const base = y * cols + rx;
        let tA = sx0;
        let tB = sx1;
        if (base + dw * tA < qCell) tA = max(tA, (qCell - base + dw - 1) / dw);
        if (base + dw * (tB - 1) >= Nk) tB = min(tB, (Nk - base + dw - 1) / dw);
        for (let t0 = tA; t0 < tB; t0 += QT) {
          const m = min(QT, tB - t0);
          const i0 = base + dw * t0 - qCell;
          for (let r = 0; r < m; r++) {
            const ws = winStart(t0 + r, Lx, kw, false);
            let hi = min(ws + kw - u0, nk);
            if (causal && ky === y) hi = min(hi, t0 + r + 1 - u0);
            store<i32>(LO + ((<usize>r) << 2), ws - u0);
            store<i32>(HI + ((<usize>r) << 2), hi);
          }
          const qi = pp(p, P_Q) + ((<usize>((bh * Nq + i0) * DP)) << 2);
          const gi = pp(p, P_DOUT) + ((<usize>((bh * Nq + i0) * DvP)) << 2);
          gemm(m, n4, D, qi, dw * DP, 1, KP, 8, 8 * D, S, SLD, false);
          nbScores(p, b, h, i0, m, j0, n4, S, SLD, LO, HI, hasCap ? CAP : 0);
          gemm(m, n4, Dv, gi, dw * DvP, 1, VP, 8, 8 * Dv, DPT, SLD, false);
          nbProbsGrads(p, bh, i0, m, j0, n4, S, DPT, CAP, SLD, LO, HI, false);
          // dV += Pᵀ·dO, dK += dSᵀ·Q (scale applied once at the end)
          gemm(nk, DvP, m, S, 1, SLD, gi, dw * DvP, 8, DVA, DvP, true);
          gemm(nk, DP, m, DPT, 1, SLD, qi, dw * DP, 8, DK, DP, true);
        }
      }
    }
  }
  const scale = pf(p, P_SCALE);
  const dk = pp(p, P_DK);
  const dv = pp(p, P_DV_OUT);
  for (let c = 0; c < nw; c++) {
    const row = bk * Nk + j0 + c * dw;
    for (let d = 0; d < D; d++)
      store<f32>(dk + ((<usize>(row * D + d)) << 2), load<f32>(DK + ((<usize>(c * DP + d)) << 2)) * scale);
    for (let d = 0; d < Dv; d++)
      store<f32>(dv + ((<usize>(row * Dv + d)) << 2), load<f32>(DVA + ((<usize>(c * DvP + d)) << 2)));
  }
}
