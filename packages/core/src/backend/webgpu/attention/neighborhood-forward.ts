/**
 * Neighbourhood attention forward in WGSL (flash-style: online softmax, lse saved; FlashAttention-2
 * Alg. 1) and its weights. Each invocation owns a strip of R query cells (neighborhood-common.ts) with q
 * and the accumulators in registers, walks the kh rows of their row window and, per row, the run of keys
 * covering the strip's column windows; scores outside a query's own window are skipped. Barrier-free,
 * R rows per invocation, as the loop-based kernels (looped.ts) that SwiftShader runs well.
 */
import type { KernelSpec } from '../shader.js';
import { type AttentionFeatures, commonWgsl, inputOperands, KV_HEAD_BASES } from './features.js';
import {
  accumulateValue,
  keyScores,
  onlineSoftmaxStep,
  rowStreamingSpec,
  STORE_OUT_LSE,
  weightsOpening,
} from './looped.js';
import { NEIGHBORHOOD_FIELDS, neighborhoodKey, neighborhoodWgsl } from './neighborhood-common.js';

/**
 * Opening of the query-strip kernels (forward, dQ): the strip's (b, h), grid row y, residue rx, its
 * R cells (ok[r]: a query exists there), their column windows ws[r], the key run [ua, ub) covering them,
 * and the row window [y0, y1).
 */
export function queryStripPrologue(): string {
  return `  let id = workgroupIndex(wg, nwg) * WG + li;
  let bh = id / u.strips;
  let b = bh / u.H;
  let h = bh % u.H;
  let hk = h / u.group;
  if (b >= u.B) { return; }
  let st = stripOf(id % u.strips);
  let y = st.x;
  let rx = st.y;
  let Lx = subLen(u.cols, u.dw, rx);
  if (st.z >= Lx) { return; }
  let ry = y % u.dh;
  let Ly = subLen(u.rows, u.dh, ry);
  let y0 = winStart(y / u.dh, Ly, u.kh, nbCausal());
  let y1 = winEnd(y / u.dh, Ly, u.kh, nbCausal());
  let end = keyEnd(b);
  let qb = u.q_off + b * u.q_sb + h * u.q_sh;
${KV_HEAD_BASES}
  var ok: array<bool, R>;
  var qi: array<u32, R>;
  var xq: array<u32, R>;
  var ws: array<u32, R>;
  var ua = 0xffffffffu;
  var ub = 0u;
  for (var r = 0u; r < R; r++) {
    let t = st.z + r;
    xq[r] = rx + t * u.dw;
    let cell = y * u.cols + xq[r];
    ok[r] = t < Lx && cell >= u.q_cell && cell < u.Nk;
    qi[r] = select(0u, cell - u.q_cell, ok[r]);
    ws[r] = winStart(min(t, Lx - 1u), Lx, u.kw, false);
    if (ok[r]) { ua = min(ua, ws[r]); ub = max(ub, ws[r] + u.kw); }
  }`;
}

/**
 * Opens the walk over the keys of a strip's windows (forward, dQ): the rows [y0, y1) of its row window
 * and, per row, the key run [ua, ub); key j at offset ko in k. The kernel closes both loops.
 */
export const STRIP_KEYS = `  for (var ty = y0; ty < y1; ty++) {
    let ky = ry + ty * u.dh;
    for (var uu = ua; uu < ub; uu++) {
      let kx = rx + uu * u.dw;
      let j = ky * u.cols + kx;
      if (j >= end) { break; }
      let ko = kb + j * u.k_sn;`;

/** Whether query r of the strip sees key (ky, kx) at sub-column uu, before per-element masks. */
export const SEES = `ok[r] && uu >= ws[r] && uu < ws[r] + u.kw && !(nbCausal() && ky == y && kx > xq[r])`;

export function neighborhoodForwardSpec(f: AttentionFeatures, R: number): KernelSpec {
  const { D, Dv } = f;
  return rowStreamingSpec(
    f,
    `attn-fwd-${neighborhoodKey(f)}:R${R}`,
    NEIGHBORHOOD_FIELDS,
    [
      ...inputOperands(f),
      { name: 'out', dtype: 'f32', write: true },
      { name: 'lse', dtype: 'f32', write: true },
    ],
    `
${neighborhoodWgsl(R, f.kvLens)}`,
    `${queryStripPrologue()}
  var q: array<array<f32, ${D}>, R>;
  var acc: array<array<f32, ${Dv}>, R>;
  var m: array<f32, R>;
  var l: array<f32, R>;
  for (var r = 0u; r < R; r++) {
    for (var d = 0u; d < D; d++) { q[r][d] = select(0.0, q_ld(qb + qi[r] * u.q_sn + d) * u.scale, ok[r]); }
    for (var d = 0u; d < DV; d++) { acc[r][d] = 0.0; }
    m[r] = -inf();
    l[r] = 0.0;
  }
  var s: array<f32, R>;
  var p: array<f32, R>;
  var take: array<bool, R>;
  var bad: array<bool, R>; // a NaN or +inf score seen: the row is NaN (features.ts poisons)
${STRIP_KEYS}
${keyScores('      ', 'R', R, false)}
      var any = false;
      for (var r = 0u; r < R; r++) {
        p[r] = 0.0;
        take[r] = false;
        let i = qi[r];
        if (!(${SEES}) || !visible(b, h, i, j)) { continue; }
${onlineSoftmaxStep('        ', f.dropout)}
      }
${accumulateValue('      ', R)}
    }
  }
  for (var r = 0u; r < R; r++) {
    if (!ok[r]) { continue; }
    let row = (b * u.H + h) * u.Nq + qi[r];
${STORE_OUT_LSE}
  }
}`,
  );
}

/**
 * Attention probabilities [B, H, Nq, Nk] (for maps), one invocation per query row: zeros, then the
 * window's probabilities normalized by the row's own max and sum (as looped.ts weightsSpec).
 */
export function neighborhoodWeightsSpec(f: AttentionFeatures): KernelSpec {
  const loop = (body: string) => `
  for (var ty = y0; ty < y1; ty++) {
    let ky = ry + ty * u.dh;
    for (var uu = ws; uu < ws + u.kw; uu++) {
      let kx = rx + uu * u.dw;
      let j = ky * u.cols + kx;
      if (j >= end || (nbCausal() && ky == y && kx > x)) { break; }
      if (!visible(b, h, i, j)) { continue; }
      let sc = score(b, h, hk, i, j);
${body}
    }
  }`;
  return {
    key: `attn-weights-${neighborhoodKey(f)}`,
    uniforms: NEIGHBORHOOD_FIELDS,
    operands: [...inputOperands(f), { name: 'out', dtype: 'f32', write: true }],
    workgroupSize: 64,
    body: `${commonWgsl(f)}
${neighborhoodWgsl(1, f.kvLens)}
${weightsOpening(f.D)}
  let cell = i + u.q_cell;
  let y = cell / u.cols;
  let x = cell % u.cols;
  let ry = y % u.dh;
  let rx = x % u.dw;
  let Ly = subLen(u.rows, u.dh, ry);
  let y0 = winStart(y / u.dh, Ly, u.kh, nbCausal());
  let y1 = winEnd(y / u.dh, Ly, u.kh, nbCausal());
  let ws = winStart(x / u.dw, subLen(u.cols, u.dw, rx), u.kw, false);
  let end = keyEnd(b);
  for (var j = 0u; j < u.Nk; j++) { out_st(row * u.Nk + j, 0.0); }
  var m = -inf();
  var l = 0.0;
  var bad = false; // a NaN or +inf score: every key taking part gets NaN (features.ts poisons)
${loop('      if (!takesPart(sc)) { continue; }\n      if (poisons(sc)) { bad = true; continue; }\n      if (sc > m) { l = l * exp(m - sc); m = sc; }\n      l += exp(sc - m);')}
  if (l == 0.0 && !bad) { return; }
${loop('      if (takesPart(sc)) { out_st(row * u.Nk + j, select(exp(sc - m) / l, nan(), bad)); }')}
}`,
  };
}
