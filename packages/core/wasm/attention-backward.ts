/**
 * AssemblyScript: fused attention backward (FlashAttention-2 Alg. 2) from the saved lse, without
 * atomics: delta = rowsum(dO ∘ O), a dK/dV pass over key blocks (all query heads of the GQA group) and a
 * separate dQ pass over query tiles, both recomputing P (docs/decisions.md "CPU backend").
 */

import {
  dropCounter,
  keep4,
  LOG2E,
  NEG_INF,
  P_B,
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
  P_KB,
  P_KT,
  P_LSE,
  P_NK,
  P_NKP,
  P_NQ,
  P_OUT,
  P_Q,
  P_QT,
  P_SCALE,
  P_SOFTCAP,
  P_VT,
  pf,
  pi,
  pp,
  queryTile,
  rowHi,
  rowLo,
  scoreTile,
} from './attention-common';
import { gemm } from './gemm';
import { exp2v } from './simd';
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
