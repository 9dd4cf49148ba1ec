/**
 * The loop-based attention backward (FlashAttention-2 Alg. 2 split as delta = rowsum(dO ∘ O); dQ over
 * key streams; dK/dV over query streams, GQA heads summed without atomics), for the shapes looped.ts
 * serves. Nothing Nq x Nk is kept except the bias gradient when a bias is given.
 */
import { type KernelSpec, type OperandSpec, perItemMain } from '../shader.js';
import {
  ATTENTION_FIELDS,
  type AttentionFeatures,
  backwardInputOperands,
  featureKey,
  KEY_TILE_HEAD,
  KV_HEAD_BASES,
  STATS_WGSL,
} from './features.js';
import {
  keyRangeOfRow,
  keyRangeVars,
  keyScores,
  queryTilePrologue,
  R_LOOP,
  rowStreamingSpec,
} from './looped.js';
/** The dQ kernels' operands (here and neighborhood-backward.ts): the inputs, dout, [lse, delta], dq. */
export function dqOperands(f: AttentionFeatures): OperandSpec[] {
  const ops = backwardInputOperands(f);
  ops.push({ name: 'dq', dtype: 'f32', write: true });
  return ops;
}

/** The dK/dV kernels' operands: the inputs, dout, [lse, delta], dkv and, with a bias, dbias. */
export function dkvOperands(f: AttentionFeatures): OperandSpec[] {
  const ops = backwardInputOperands(f);
  // dK and dV share one buffer (dV after dK) to stay within 12 storage bindings with every feature on
  ops.push({ name: 'dkv', dtype: 'f32', write: true });
  if (f.bias) ops.push({ name: 'dbias', dtype: 'f32', write: true });
  return ops;
}

/*
 * Steps of the backward kernels, here and in neighborhood-backward.ts (as looped.ts keyScores): WGSL
 * indented by `pad`, for row r of the R an invocation owns.
 */

/** Query row r's dS for key j (FlashAttention-2 Alg. 2), added into dq[r] (keys at offset ko). */
export function dqStep(pad: string): string {
  return `${pad}let t = transformed(s[r], b, h, i, j);
${pad}let sc = modded(t, b, h, i, j);
${pad}if (!takesPart(sc)) { continue; }
${pad}let p = probOf(sc, lse[r]);
${pad}let ds = p * (dp[r] * dropKeep(b, h, i, j) - delta[r]) * modGrad(t, b, h, i, j) * capGrad(s[r]);
${pad}for (var d = 0u; d < D; d++) { dq[r][d] = fma(ds, k_ld(ko + d), dq[r][d]); }`;
}

/** s[r] = q_i · k[r] and dp[r] = dO_i · v[r] for query i (at qo, its row `row`) against the R keys. */
export function queryScores(pad: string, rows: string, R: number): string {
  return `${pad}for (var r = 0u; r < ${rows}; r++) { s[r] = 0.0; dp[r] = 0.0; }
${pad}for (var d = 0u; d < D; d++) {
${pad}  let qd = q_ld(qo + d) * u.scale;
${R_LOOP(R, (r) => `${pad}  s[${r}] = fma(qd, kr[${r}][d], s[${r}]);`)}
${pad}}
${pad}for (var d = 0u; d < DV; d++) {
${pad}  let gd = dout_ld(row * DV + d);
${R_LOOP(R, (r) => `${pad}  dp[${r}] = fma(gd, vr[${r}][d], dp[${r}]);`)}
${pad}}
${pad}let dl = delta_ld(row);`;
}

/** Key r's share of query i: dV += P dO, dK += dS q (and, with a bias, dS written to dbias). */
export function dkvStep(pad: string, bias: boolean): string {
  return `${pad}let t = transformed(s[r], b, h, i, j);
${pad}let sc = modded(t, b, h, i, j);
${pad}if (!takesPart(sc)) { continue; }
${pad}let p = probOf(sc, l);
${pad}let keep = dropKeep(b, h, i, j);
${pad}let dsT = p * (dp[r] * keep - dl) * modGrad(t, b, h, i, j); // dL/dt, the bias gradient
${pad}${bias ? 'dbias_st(row * u.Nk + j, dsT);' : ''}
${pad}let ds = dsT * capGrad(s[r]);
${pad}for (var d = 0u; d < DV; d++) { dv[r][d] = fma(p * keep, dout_ld(row * DV + d), dv[r][d]); }
${pad}for (var d = 0u; d < D; d++) { dk[r][d] = fma(ds, q_ld(qo + d), dk[r][d]); }`;
}

/** Key j's dK (scaled back: q was read scaled) and dV, key r of the invocation, into dkv = [dK, dV]. */
export const STORE_DKV = `    let row = (b * u.Hkv + hk) * u.Nk + j;
    let dvBase = u.B * u.Hkv * u.Nk * D;
    for (var d = 0u; d < D; d++) { dkv_st(row * D + d, dk[r][d] * u.scale); }
    for (var d = 0u; d < DV; d++) { dkv_st(dvBase + row * DV + d, dv[r][d]); }`;

/** delta[b, h, i] = sum_d dO ∘ O (FlashAttention-2 backward, line 4), written after lse in `stats`. */
export function deltaSpec(Dv: number): KernelSpec {
  return {
    key: `attn-delta:Dv${Dv}`,
    uniforms: [['rows', 'u32']],
    operands: [
      { name: 'dout', dtype: 'f32' },
      { name: 'out', dtype: 'f32' },
      { name: 'stats', dtype: 'f32', write: true },
    ],
    workgroupSize: 64,
    body: `
${perItemMain('row', 'u.rows')}
  var s = 0.0;
  for (var d = 0u; d < ${Dv}u; d++) { s = fma(dout_ld(row * ${Dv}u + d), out_ld(row * ${Dv}u + d), s); }
  stats_st(u.rows + row, s); // delta, after lse
}`,
  };
}

/** A looped backward kernel (`name`: dq or dkv): the stats accessors before `body` (looped.ts's row streaming). */
function backwardSpec(
  f: AttentionFeatures,
  name: 'dq' | 'dkv',
  operands: OperandSpec[],
  body: string,
): KernelSpec {
  return rowStreamingSpec(
    f,
    `attn-${name}:${featureKey(f)}`,
    ATTENTION_FIELDS,
    operands,
    `
${STATS_WGSL}`,
    body,
  );
}

/** dQ: each invocation streams the keys for its R query rows. */
export function dqSpec(f: AttentionFeatures): KernelSpec {
  const { D, Dv, R } = f;
  return backwardSpec(
    f,
    'dq',
    dqOperands(f),
    `${queryTilePrologue(R)}
  var q: array<array<f32, ${D}>, ${R}>;
  var go: array<array<f32, ${Dv}>, ${R}>;
  var dq: array<array<f32, ${D}>, ${R}>;
  var lse: array<f32, ${R}>;
  var delta: array<f32, ${R}>;
${keyRangeVars(R)}
  for (var r = 0u; r < ${R}u; r++) {
    let i = min(i0 + r, u.Nq - 1u);
    let row = (b * u.H + h) * u.Nq + i;
    for (var d = 0u; d < D; d++) { q[r][d] = q_ld(qb + i * u.q_sn + d) * u.scale; dq[r][d] = 0.0; }
    for (var d = 0u; d < DV; d++) { go[r][d] = dout_ld(row * DV + d); }
    lse[r] = lse_ld(row);
    delta[r] = delta_ld(row);
${keyRangeOfRow('i0 + r < u.Nq && takesPart(lse[r])')}
  }
  var s: array<f32, ${R}>;
  var dp: array<f32, ${R}>;
  for (var j = jlo; j < jhi; j++) {
    let ko = kb + j * u.k_sn;
    let vo = vb + j * u.v_sn;
${keyScores('    ', `${R}u`, R, true)}
    for (var r = 0u; r < ${R}u; r++) {
      let i = i0 + r;
      if (j < lo[r] || j >= hi[r] || !visible(b, h, i, j)) { continue; }
${dqStep('      ')}
    }
  }
  for (var r = 0u; r < ${R}u; r++) {
    let i = i0 + r;
    if (i >= u.Nq) { break; }
    let row = (b * u.H + h) * u.Nq + i;
    for (var d = 0u; d < D; d++) { dq_st(row * D + d, dq[r][d] * u.scale); }
  }
}`,
  );
}

/**
 * dK, dV: each invocation owns R key rows of one kv head and streams the queries that can see them,
 * over every query head of its GQA group (so shared heads' gradients are summed without atomics).
 * With a bias, dS (the bias gradient before broadcasting) is written as [B, H, Nq, Nk].
 */
export function dkvSpec(f: AttentionFeatures): KernelSpec {
  const { D, Dv, R } = f;
  return backwardSpec(
    f,
    'dkv',
    dkvOperands(f),
    `${KEY_TILE_HEAD}
  let j0 = ((w % u.tiles) * WG + li) * ${R}u;
  if (b >= u.B || j0 >= u.Nk) { return; }
${KV_HEAD_BASES}
  let end = ${f.kvLens ? 'u32(clamp(lens_ld(b), 0, i32(u.Nk)))' : 'u.Nk'};
  var kr: array<array<f32, ${D}>, ${R}>;
  var vr: array<array<f32, ${Dv}>, ${R}>;
  var dk: array<array<f32, ${D}>, ${R}>;
  var dv: array<array<f32, ${Dv}>, ${R}>;
  for (var r = 0u; r < ${R}u; r++) {
    let j = min(j0 + r, u.Nk - 1u);
    for (var d = 0u; d < D; d++) { kr[r][d] = k_ld(kb + j * u.k_sn + d); dk[r][d] = 0.0; }
    for (var d = 0u; d < DV; d++) { vr[r][d] = v_ld(vb + j * u.v_sn + d); dv[r][d] = 0.0; }
  }
  // queries that can see key j: j - shift - right <= i <= j - shift + left
  let jLast = min(j0 + ${R - 1}u, u.Nk - 1u);
  let ilo = u32(clamp(i32(j0) - u.shift - u.right, 0, i32(u.Nq)));
  let ihi = u32(clamp(i32(jLast) - u.shift + u.left + 1, 0, i32(u.Nq)));
  var s: array<f32, ${R}>;
  var dp: array<f32, ${R}>;
  for (var g = 0u; g < u.group; g++) {
    let h = hk * u.group + g;
    let qb = u.q_off + b * u.q_sb + h * u.q_sh;
    for (var i = ilo; i < ihi; i++) {
      let row = (b * u.H + h) * u.Nq + i;
      let l = lse_ld(row);
      if (l == -inf()) { continue; }
      let qo = qb + i * u.q_sn;
${queryScores('      ', `${R}u`, R)}
      let klo = keyLo(i);
      let khi = keyHi(i, b);
      for (var r = 0u; r < ${R}u; r++) {
        let j = j0 + r;
        if (j >= end || j < klo || j >= khi || !visible(b, h, i, j)) { continue; }
${dkvStep('        ', f.bias)}
      }
    }
  }
  for (var r = 0u; r < ${R}u; r++) {
    let j = j0 + r;
    if (j >= u.Nk) { break; }
${STORE_DKV}
  }
}`,
  );
}
