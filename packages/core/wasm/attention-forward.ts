/**
 * AssemblyScript: fused attention forward, flash-style (FlashAttention-2, Dao 2023; the backward is in
 * attention-backward.ts, with the same tiling): one
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
 * (kernels/random.ts: PCG twice over the flat [B, H, Nq, Nk] index), so all three backends drop the same
 * entries for the same seed.
 */

import {
  dropCounter,
  keep4,
  LN2,
  NEG_INF,
  OnlineSoftmax,
  P_D,
  P_DP,
  P_DROP_P,
  P_DV,
  P_DVP,
  P_H,
  P_HKV,
  P_KB,
  P_KT,
  P_LSE,
  P_NK,
  P_NKP,
  P_NQ,
  P_OUT,
  P_Q,
  P_QT,
  P_V,
  pf,
  pi,
  pp,
  queryTile,
  rowHi,
  rowLo,
  scoreTile,
} from './attention-common';
import { gemm } from './gemm';
import { exp2v, hmax, hsum } from './simd';
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
      const alpha = OnlineSoftmax.rescaleFactor(mOld, mNew);
      store<f32>(L + ((<usize>r) << 2), load<f32>(L + ((<usize>r) << 2)) * alpha + hsum(sum));
      store<f32>(M + ((<usize>r) << 2), mNew);
      if (alpha !== 1) OnlineSoftmax.scale(O + ((<usize>(r * DvP)) << 2), DvP, alpha);
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
