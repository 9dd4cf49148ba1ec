/**
 * Neighbourhood attention backward in WGSL, without atomics (as looped-backward.ts): dQ over query
 * strips walking the same key runs as the forward, and dK/dV over key strips walking the inverse
 * neighbourhood (the query rows and columns whose windows meet the strip: NATTEN's backward), over every
 * query head of the GQA group. delta = rowsum(dO ∘ O) comes from looped-backward.ts deltaSpec.
 */
import type { KernelSpec } from '../shader.js';
import { type AttentionFeatures, commonWgsl, inputOperands, STATS_OPERAND, STATS_WGSL } from './features.js';
import { R_LOOP } from './looped.js';
import { NEIGHBORHOOD_FIELDS, neighborhoodKey, neighborhoodWgsl } from './neighborhood-common.js';
import { queryStripPrologue, SEES } from './neighborhood-forward.js';

export function neighborhoodDqSpec(f: AttentionFeatures, R: number): KernelSpec {
  const { D, Dv } = f;
  return {
    key: `attn-dq-${neighborhoodKey(f)}:R${R}`,
    uniforms: NEIGHBORHOOD_FIELDS,
    operands: [
      ...inputOperands(f),
      { name: 'dout', dtype: 'f32' },
      STATS_OPERAND,
      { name: 'dq', dtype: 'f32', write: true },
    ],
    workgroupSize: 32,
    body: `${commonWgsl(f)}
${STATS_WGSL}
${neighborhoodWgsl(R, f.kvLens)}
const D: u32 = ${D}u;
const DV: u32 = ${Dv}u;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
${queryStripPrologue()}
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
  for (var ty = y0; ty < y1; ty++) {
    let ky = ry + ty * u.dh;
    for (var uu = ua; uu < ub; uu++) {
      let kx = rx + uu * u.dw;
      let j = ky * u.cols + kx;
      if (j >= end) { break; }
      let ko = kb + j * u.k_sn;
      let vo = vb + j * u.v_sn;
      for (var r = 0u; r < R; r++) { s[r] = 0.0; dp[r] = 0.0; }
      for (var d = 0u; d < D; d++) {
        let kd = k_ld(ko + d);
${R_LOOP(R, (r) => `        s[${r}] = fma(q[${r}][d], kd, s[${r}]);`)}
      }
      for (var d = 0u; d < DV; d++) {
        let vd = v_ld(vo + d);
${R_LOOP(R, (r) => `        dp[${r}] = fma(go[${r}][d], vd, dp[${r}]);`)}
      }
      for (var r = 0u; r < R; r++) {
        let i = qi[r];
        if (!(${SEES}) || !visible(b, h, i, j)) { continue; }
        let t = transformed(s[r], b, h, i, j);
        let sc = modded(t, b, h, i, j);
        if (!takesPart(sc)) { continue; }
        let p = probOf(sc, lse[r]);
        let ds = p * (dp[r] * dropKeep(b, h, i, j) - delta[r]) * modGrad(t, b, h, i, j) * capGrad(s[r]);
        for (var d = 0u; d < D; d++) { dq[r][d] = fma(ds, k_ld(ko + d), dq[r][d]); }
      }
    }
  }
  for (var r = 0u; r < R; r++) {
    if (!(st.z + r < Lx && y * u.cols + xq[r] >= u.q_cell && y * u.cols + xq[r] < u.Nk)) { continue; }
    let row = (b * u.H + h) * u.Nq + qi[r];
    for (var d = 0u; d < D; d++) { dq_st(row * D + d, dq[r][d] * u.scale); }
  }
}`,
  };
}

/**
 * dK, dV: each invocation owns a strip of R key cells of one kv head and walks the queries whose windows
 * meet it, over every query head of its group (shared heads' gradients summed without atomics). With a
 * bias, dS is written as [B, H, Nq, Nk] (its window entries; the rest stays zero).
 */
export function neighborhoodDkvSpec(f: AttentionFeatures, R: number): KernelSpec {
  const { D, Dv } = f;
  return {
    key: `attn-dkv-${neighborhoodKey(f)}:R${R}`,
    uniforms: NEIGHBORHOOD_FIELDS,
    operands: [
      ...inputOperands(f),
      { name: 'dout', dtype: 'f32' },
      STATS_OPERAND,
      // dK and dV share one buffer (dV after dK) to stay within 12 storage bindings with every feature on
      { name: 'dkv', dtype: 'f32', write: true },
      ...(f.bias ? [{ name: 'dbias', dtype: 'f32' as const, write: true }] : []),
    ],
    workgroupSize: 32,
    body: `${commonWgsl(f)}
${STATS_WGSL}
${neighborhoodWgsl(R, f.kvLens)}
const D: u32 = ${D}u;
const DV: u32 = ${Dv}u;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let id = workgroupIndex(wg, nwg) * WG + li;
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
  let kb = u.k_off + b * u.k_sb + hk * u.k_sh;
  let vb = u.v_off + b * u.v_sb + hk * u.v_sh;
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
        for (var r = 0u; r < R; r++) { s[r] = 0.0; dp[r] = 0.0; }
        for (var d = 0u; d < D; d++) {
          let qd = q_ld(qo + d) * u.scale;
${R_LOOP(R, (r) => `          s[${r}] = fma(qd, kr[${r}][d], s[${r}]);`)}
        }
        for (var d = 0u; d < DV; d++) {
          let gd = dout_ld(row * DV + d);
${R_LOOP(R, (r) => `          dp[${r}] = fma(gd, vr[${r}][d], dp[${r}]);`)}
        }
        let dl = delta_ld(row);
        let ws = winStart(sx, Lx, u.kw, false);
        for (var r = 0u; r < R; r++) {
          let uu = u0 + r;
          let kx = rx + uu * u.dw;
          let j = ky * u.cols + kx;
          if (!ok[r] || uu < ws || uu >= ws + u.kw || (nbCausal() && ky == y && kx > x) || !visible(b, h, i, j)) {
            continue;
          }
          let t = transformed(s[r], b, h, i, j);
          let sc = modded(t, b, h, i, j);
          if (!takesPart(sc)) { continue; }
          let p = probOf(sc, l);
          let keep = dropKeep(b, h, i, j);
          let dsT = p * (dp[r] * keep - dl) * modGrad(t, b, h, i, j); // dL/dt, the bias gradient
          ${f.bias ? 'dbias_st(row * u.Nk + j, dsT);' : ''}
          let ds = dsT * capGrad(s[r]);
          for (var d = 0u; d < DV; d++) { dv[r][d] = fma(p * keep, dout_ld(row * DV + d), dv[r][d]); }
          for (var d = 0u; d < D; d++) { dk[r][d] = fma(ds, q_ld(qo + d), dk[r][d]); }
        }
      }
    }
  }
  for (var r = 0u; r < R; r++) {
    let j = ky * u.cols + rx + (u0 + r) * u.dw;
    if (u0 + r >= Lx || j >= u.Nk) { continue; }
    let row = (b * u.Hkv + hk) * u.Nk + j;
    let dvBase = u.B * u.Hkv * u.Nk * D;
    for (var d = 0u; d < D; d++) { dkv_st(row * D + d, dk[r][d] * u.scale); }
    for (var d = 0u; d < DV; d++) { dkv_st(dvBase + row * DV + d, dv[r][d]); }
  }
}`,
  };
}
