/**
 * Split-K decode (Flash-Decoding, Dao et al. 2023): with one query row per head there is too little
 * parallel work over queries, so the keys are cut into S chunks; each invocation reduces one
 * (b, h, chunk) to a partial (max, sum, unnormalized output), and a second kernel merges the partials
 * with the usual log-sum-exp rescaling. Exact up to f32 rounding versus the one-pass kernel.
 */
import { type KernelSpec, MAIN, perItemMain } from '../shader.js';
import {
  ATTENTION_FIELDS,
  type AttentionFeatures,
  commonWgsl,
  featureKey,
  HEAD_OF_BH,
  inputOperands,
  KV_HEAD_BASES,
} from './features.js';

/** partials: [B, H, S, Dv + 2] = (acc[0..Dv), m, l) */
export function splitKPartialSpec(f: AttentionFeatures): KernelSpec {
  const { D, Dv } = f;
  return {
    key: `attn-decode-partial:${featureKey(f)}`,
    uniforms: [...ATTENTION_FIELDS, ['splits', 'u32'], ['chunk', 'u32']],
    operands: [...inputOperands(f), { name: 'part', dtype: 'f32', write: true }],
    workgroupSize: 32,
    body: `${commonWgsl(f)}
${MAIN}
  let t = workgroupIndex(wg, nwg) * WG + li;
  let split = t % u.splits;
  let bh = t / u.splits;
${HEAD_OF_BH}
  let i = 0u;
  let qo = u.q_off + b * u.q_sb + h * u.q_sh;
${KV_HEAD_BASES}
  var q: array<f32, ${D}>;
  for (var d = 0u; d < ${D}u; d++) { q[d] = q_ld(qo + d) * u.scale; }
  var acc: array<f32, ${Dv}>;
  for (var d = 0u; d < ${Dv}u; d++) { acc[d] = 0.0; }
  var m = -inf();
  var l = 0.0;
  var bad = false; // a NaN or +inf score: the row is NaN (features.ts poisons), passed on as l = NaN
  let j0 = max(keyLo(i), split * u.chunk);
  let j1 = min(keyHi(i, b), (split + 1u) * u.chunk);
  for (var j = j0; j < j1; j++) {
    if (!visible(b, h, i, j)) { continue; }
    var raw = 0.0;
    for (var d = 0u; d < ${D}u; d++) { raw = fma(q[d], k_ld(kb + j * u.k_sn + d), raw); }
    let s = modded(transformed(raw, b, h, i, j), b, h, i, j);
    if (!takesPart(s)) { continue; }
    if (poisons(s)) { bad = true; continue; }
    if (s > m) {
      let alpha = exp(m - s);
      for (var d = 0u; d < ${Dv}u; d++) { acc[d] *= alpha; }
      l *= alpha;
      m = s;
    }
    let p = exp(s - m);
    l += p;
    let pd = p * dropKeep(b, h, i, j);
    for (var d = 0u; d < ${Dv}u; d++) { acc[d] = fma(pd, v_ld(vb + j * u.v_sn + d), acc[d]); }
  }
  let base = t * ${Dv + 2}u;
  for (var d = 0u; d < ${Dv}u; d++) { part_st(base + d, acc[d]); }
  part_st(base + ${Dv}u, m);
  part_st(base + ${Dv + 1}u, select(l, nan(), bad));
}`,
  };
}

/** Merges S partials per (b, h) into out [B, H, 1, Dv] and lse [B, H, 1]. */
export function splitKMergeSpec(Dv: number): KernelSpec {
  const W = Dv + 2;
  return {
    key: `attn-decode-merge:Dv${Dv}`,
    uniforms: [
      ['rows', 'u32'],
      ['splits', 'u32'],
    ],
    operands: [
      { name: 'part', dtype: 'f32' },
      { name: 'out', dtype: 'f32', write: true },
      { name: 'lse', dtype: 'f32', write: true },
    ],
    workgroupSize: 64,
    body: `
${perItemMain('row', 'u.rows')}
  var m = -inf();
  var bad = false; // a poisoned chunk (l = NaN): the row is NaN
  for (var s = 0u; s < u.splits; s++) {
    let base = (row * u.splits + s) * ${W}u;
    bad = bad || isNan(part_ld(base + ${Dv + 1}u));
    if (part_ld(base + ${Dv + 1}u) > 0.0) { m = max(m, part_ld(base + ${Dv}u)); }
  }
  var l = 0.0;
  for (var s = 0u; s < u.splits; s++) {
    let base = (row * u.splits + s) * ${W}u;
    let ls = part_ld(base + ${Dv + 1}u);
    if (ls > 0.0) { l += ls * exp(part_ld(base + ${Dv}u) - m); }
  }
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var d = 0u; d < ${Dv}u; d++) {
    var o = 0.0;
    for (var s = 0u; s < u.splits; s++) {
      let base = (row * u.splits + s) * ${W}u;
      let ls = part_ld(base + ${Dv + 1}u);
      if (ls > 0.0) { o = fma(part_ld(base + d), exp(part_ld(base + ${Dv}u) - m), o); }
    }
    out_st(row * ${Dv}u + d, select(o * inv, nan(), bad));
  }
  // a row with no key taking part gives zeros and lse = -inf; a poisoned row NaN
  lse_st(row, select(select(-inf(), m + log(l), l > 0.0), nan(), bad));
}`,
  };
}
