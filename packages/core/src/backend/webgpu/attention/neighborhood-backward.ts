/**
 * Neighbourhood attention backward in WGSL, without atomics (as looped-backward.ts): dQ over query
 * strips walking the same key runs as the forward, and dK/dV over key strips walking the inverse
 * neighbourhood (the query rows and columns whose windows meet the strip: NATTEN's backward), over every
 * query head of the GQA group. delta = rowsum(dO ∘ O) comes from looped-backward.ts deltaSpec.
 */
import type { KernelSpec, OperandSpec } from '../shader.js';
import { type AttentionFeatures, KV_HEAD_BASES, STATS_WGSL } from './features.js';
import { keyScores, rowStreamingSpec } from './looped.js';
import { dkvOperands, dkvStep, dqOperands, dqStep, queryScores, STORE_DKV } from './looped-backward.js';
import { NEIGHBORHOOD_FIELDS, neighborhoodKey, neighborhoodWgsl } from './neighborhood-common.js';
import { queryStripPrologue, SEES, STRIP_KEYS } from './neighborhood-forward.js';

/**
 * A neighbourhood backward kernel (`name`: dq or dkv) over strips of R cells: the stats accessors and the
 * neighbourhood geometry in WGSL before `body` (the row-streaming kernel of looped.ts).
 */
function backwardSpec(
  f: AttentionFeatures,
  R: number,
  name: 'dq' | 'dkv',
  operands: OperandSpec[],
  body: string,
): KernelSpec {
  return rowStreamingSpec(
    f,
    `attn-${name}-${neighborhoodKey(f)}:R${R}`,
    NEIGHBORHOOD_FIELDS,
    operands,
    `
${STATS_WGSL}
${neighborhoodWgsl(R, f.kvLens)}`,
    body,
  );
}

export function neighborhoodDqSpec(f: AttentionFeatures, R: number): KernelSpec {
  const { D, Dv } = f;
  return backwardSpec(
    f,
    R,
    'dq',
    dqOperands(f),
    `${queryStripPrologue()}
  var q: array<array<f32, ${D}>, R>;
  var go: array<array<f32, ${Dv}>, R>;
  var dq: array<array<f32, ${D}>, R>;
  var lse: array<f32, R>;
  var delta: array<f32, R>;
  for (var r = 0u; r < R; r++) {
    let row = (b * u.H + h) * u.Nq + qi[r];
    for (var d = 0u; d < D; d++) {
      q[r][d] = select(0.0, q_ld(qb + qi[r] * u.q_sn + d) * u.scale, ok[r]);
      dq[r][d] = 0.0;
    }
    for (var d = 0u; d < DV; d++) { go[r][d] = select(0.0, dout_ld(row * DV + d), ok[r]); }
    lse[r] = select(-inf(), lse_ld(row), ok[r]);
    delta[r] = select(0.0, delta_ld(row), ok[r]);
    ok[r] = ok[r] && takesPart(lse[r]);
  }
  var s: array<f32, R>;
  var dp: array<f32, R>;
${STRIP_KEYS}
      let vo = vb + j * u.v_sn;
${keyScores('      ', 'R', R, true)}
      for (var r = 0u; r < R; r++) {
        let i = qi[r];
        if (!(${SEES}) || !visible(b, h, i, j)) { continue; }
${dqStep('        ')}
      }
    }
  }
  for (var r = 0u; r < R; r++) {
    if (!(st.z + r < Lx && y * u.cols + xq[r] >= u.q_cell && y * u.cols + xq[r] < u.Nk)) { continue; }
    let row = (b * u.H + h) * u.Nq + qi[r];
    for (var d = 0u; d < D; d++) { dq_st(row * D + d, dq[r][d] * u.scale); }
  }
}`,
  );
}

/**
 * dK, dV: each invocation owns a strip of R key cells of one kv head and walks the queries whose windows
 * meet it, over every query head of its group (shared heads' gradients summed without atomics). With a
 * bias, dS is written as [B, H, Nq, Nk] (its window entries; the rest stays zero).
 */
export function neighborhoodDkvSpec(f: AttentionFeatures, R: number): KernelSpec {
  const { D, Dv } = f;
  return backwardSpec(
    f,
    R,
    'dkv',
    dkvOperands(f),
    `  let id = workgroupIndex(wg, nwg) * WG + li;
  let bhk = id / u.strips;
  let b = bhk / u.Hkv;
  let hk = bhk % u.Hkv;
  if (b >= u.B) { return; }
  let st = stripOf(id % u.strips);
  let ky = st.x;
  let rx = st.y;
  let u0 = st.z;
  let Lx = subLen(u.cols, u.dw, rx);
  if (u0 >= Lx) { return; }
  let end = keyEnd(b);
${KV_HEAD_BASES}
  var kr: array<array<f32, ${D}>, R>;
  var vr: array<array<f32, ${Dv}>, R>;
  var dk: array<array<f32, ${D}>, R>;
  var dv: array<array<f32, ${Dv}>, R>;
  var ok: array<bool, R>;
  for (var r = 0u; r < R; r++) {
    let j = ky * u.cols + rx + (u0 + r) * u.dw;
    ok[r] = u0 + r < Lx && j < end;
    for (var d = 0u; d < D; d++) { kr[r][d] = select(0.0, k_ld(kb + j * u.k_sn + d), ok[r]); dk[r][d] = 0.0; }
    for (var d = 0u; d < DV; d++) { vr[r][d] = select(0.0, v_ld(vb + j * u.v_sn + d), ok[r]); dv[r][d] = 0.0; }
  }
  // the inverse neighbourhood: query sub-rows whose row window holds ky, sub-columns whose windows meet the strip
  let ry = ky % u.dh;
  let Ly = subLen(u.rows, u.dh, ry);
  let sy0 = invLo(ky / u.dh, u.kh, nbCausal());
  let sy1 = invHi(ky / u.dh + 1u, Ly, u.kh, nbCausal());
  let sx0 = invLo(u0, u.kw, false);
  let sx1 = invHi(min(u0 + R, Lx), Lx, u.kw, false);
  var s: array<f32, R>;
  var dp: array<f32, R>;
  for (var g = 0u; g < u.group; g++) {
    let h = hk * u.group + g;
    let qb = u.q_off + b * u.q_sb + h * u.q_sh;
    for (var sy = sy0; sy < sy1; sy++) {
      let y = ry + sy * u.dh;
      for (var sx = sx0; sx < sx1; sx++) {
        let x = rx + sx * u.dw;
        let cell = y * u.cols + x;
        if (cell < u.q_cell || cell >= u.Nk) { continue; }
        let i = cell - u.q_cell;
        let row = (b * u.H + h) * u.Nq + i;
        let l = lse_ld(row);
        if (!takesPart(l)) { continue; }
        let qo = qb + i * u.q_sn;
${queryScores('        ', 'R', R)}
        let ws = winStart(sx, Lx, u.kw, false);
        for (var r = 0u; r < R; r++) {
          let uu = u0 + r;
          let kx = rx + uu * u.dw;
          let j = ky * u.cols + kx;
          if (!ok[r] || uu < ws || uu >= ws + u.kw || (nbCausal() && ky == y && kx > x) || !visible(b, h, i, j)) {
            continue;
          }
${dkvStep('          ', f.bias)}
        }
      }
    }
  }
  for (var r = 0u; r < R; r++) {
    let j = ky * u.cols + rx + (u0 + r) * u.dw;
    if (u0 + r >= Lx || j >= u.Nk) { continue; }
${STORE_DKV}
  }
}`,
  );
}
