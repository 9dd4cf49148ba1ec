/**
 * WGSL for fused attention: forward (flash-style: keys streamed, online softmax, lse saved; FlashAttention-2
 * Alg. 1), the attention weights recomputed from lse, and the backward passes (FlashAttention-2 Alg. 2
 * split as delta = rowsum(dO ∘ O); dQ over key streams; dK/dV over query streams, GQA heads summed).
 * No kernel allocates or keeps Nq x Nk memory except `weights` and dbias, whose outputs are that size.
 *
 * Barrier-free and register-blocked (each invocation owns R rows), the shape SwiftShader runs fastest
 * (toolchain.md); masks and mods are compiled in only when used, so the common case pays for none.
 */
import type { Field } from '../../backend/uniforms.js';
import type { KernelSpec, OperandSpec } from '../../backend/webgpu.js';
import { HASH_WGSL } from '../random.js';
import type { ResolvedAttention } from './options.js';

export interface AttentionFeatures {
  D: number;
  Dv: number;
  /** rows per invocation */
  R: number;
  mask: boolean;
  bias: boolean;
  kvLens: boolean;
  softcap: boolean;
  dropout: boolean;
  scoreMod: { name: string; wgsl: string; gradWgsl: string | null; tensors: string[] } | null;
  maskMod: { name: string; wgsl: string; tensors: string[] } | null;
}

export function featuresOf(r: ResolvedAttention): AttentionFeatures {
  const R = Math.max(r.D, r.Dv) <= 64 ? 4 : Math.max(r.D, r.Dv) <= 128 ? 2 : 1;
  return {
    D: r.D,
    Dv: r.Dv,
    R,
    mask: r.mask !== null,
    bias: r.bias !== null,
    kvLens: r.kvLens !== null,
    softcap: r.softcap > 0,
    dropout: r.dropP > 0,
    scoreMod: r.scoreMod
      ? {
          name: r.scoreMod.name,
          wgsl: r.scoreMod.wgsl,
          gradWgsl: r.scoreMod.gradWgsl ?? null,
          tensors: Object.keys(r.scoreMod.tensors ?? {}),
        }
      : null,
    maskMod: r.maskMod
      ? { name: r.maskMod.name, wgsl: r.maskMod.wgsl, tensors: Object.keys(r.maskMod.tensors ?? {}) }
      : null,
  };
}

export function featureKey(f: AttentionFeatures): string {
  return [
    `D${f.D}`,
    `Dv${f.Dv}`,
    `R${f.R}`,
    f.mask ? 'mask' : '',
    f.bias ? 'bias' : '',
    f.kvLens ? 'lens' : '',
    f.softcap ? 'cap' : '',
    f.dropout ? 'drop' : '',
    f.scoreMod ? `sm=${f.scoreMod.name}` : '',
    f.maskMod ? `mm=${f.maskMod.name}` : '',
  ]
    .filter(Boolean)
    .join(',');
}

/**
 * Backward kernels read lse and delta from one buffer `stats` = [lse (B·H·Nq), delta (B·H·Nq)]: one
 * binding less, so every feature at once still fits 12 storage bindings.
 */
export const STATS_OPERAND: OperandSpec = { name: 'stats', dtype: 'f32' };
export const STATS_WGSL = `
fn lse_ld(row: u32) -> f32 { return stats_ld(row); }
fn delta_ld(row: u32) -> f32 { return stats_ld(u.B * u.H * u.Nq + row); }`;

/** Uniforms shared by every attention kernel. */
export const ATTENTION_FIELDS: Field[] = [
  ['B', 'u32'],
  ['H', 'u32'],
  ['Hkv', 'u32'],
  ['Nq', 'u32'],
  ['Nk', 'u32'],
  ['group', 'u32'],
  ['tiles', 'u32'],
  ['shift', 'i32'],
  ['left', 'i32'],
  ['right', 'i32'],
  ['scale', 'f32'],
  ['softcap', 'f32'],
  ['drop_p', 'f32'],
  ['drop_scale', 'f32'],
  ['key0', 'u32'],
  ['key1', 'u32'],
  ['q_off', 'u32'],
  ['q_sb', 'u32'],
  ['q_sh', 'u32'],
  ['q_sn', 'u32'],
  ['k_off', 'u32'],
  ['k_sb', 'u32'],
  ['k_sh', 'u32'],
  ['k_sn', 'u32'],
  ['v_off', 'u32'],
  ['v_sb', 'u32'],
  ['v_sh', 'u32'],
  ['v_sn', 'u32'],
  ['m_off', 'u32'],
  ['m_sb', 'u32'],
  ['m_sh', 'u32'],
  ['m_si', 'u32'],
  ['m_sj', 'u32'],
  ['bi_off', 'u32'],
  ['bi_sb', 'u32'],
  ['bi_sh', 'u32'],
  ['bi_si', 'u32'],
  ['bi_sj', 'u32'],
];

/** Operands in binding order: q, k, v, then each optional input, then the kernel's own. */
export function inputOperands(f: AttentionFeatures): OperandSpec[] {
  const ops: OperandSpec[] = [
    { name: 'q', dtype: 'f32' },
    { name: 'k', dtype: 'f32' },
    { name: 'v', dtype: 'f32' },
  ];
  if (f.mask) ops.push({ name: 'mask', dtype: 'bool' });
  if (f.bias) ops.push({ name: 'bias', dtype: 'f32' });
  if (f.kvLens) ops.push({ name: 'lens', dtype: 'i32' });
  for (const t of [...(f.scoreMod?.tensors ?? []), ...(f.maskMod?.tensors ?? [])])
    ops.push({ name: t, dtype: 'f32' });
  return ops;
}

/** inputOperands with q, k and v read as vec4 (the fast and tiled kernels: head dims divisible by 4). */
export function vec4InputOperands(f: AttentionFeatures): OperandSpec[] {
  return inputOperands(f).map((op) => (['q', 'k', 'v'].includes(op.name) ? { ...op, vec4: true } : op));
}

/** What the vec4 backward kernels read: the inputs (q, k, v as vec4), dout as vec4, then [lse, delta]. */
export function vec4BackwardInputOperands(f: AttentionFeatures): OperandSpec[] {
  return [...vec4InputOperands(f), { name: 'dout', dtype: 'f32', vec4: true }, STATS_OPERAND];
}

/**
 * Shared WGSL: the visible key range of a query row, the per-element mask, and the score transform
 * raw -> t = softcap(raw) + bias -> s = scoreMod(t). `raw` already includes the scale (folded into q).
 */
export function commonWgsl(f: AttentionFeatures): string {
  return `
fn keyLo(i: u32) -> u32 { return u32(max(0, i32(i) + u.shift - u.left)); }
fn keyHi(i: u32, b: u32) -> u32 {
  let end = ${f.kvLens ? 'u32(clamp(lens_ld(b), 0, i32(u.Nk)))' : 'u.Nk'};
  return u32(clamp(i32(i) + u.shift + u.right + 1, 0, i32(end)));
}
fn visible(b: u32, h: u32, i: u32, j: u32) -> bool {
  var ok = true;
  ${f.mask ? 'ok = ok && mask_ld(u.m_off + b * u.m_sb + h * u.m_sh + i * u.m_si + j * u.m_sj) != 0u;' : ''}
  ${f.maskMod ? `ok = ok && (${f.maskMod.wgsl});` : ''}
  return ok;
}
fn transformed(raw: f32, b: u32, h: u32, i: u32, j: u32) -> f32 {
  var t = ${f.softcap ? 'u.softcap * tanhSafe(raw / u.softcap)' : 'raw'};
  ${f.bias ? 't += bias_ld(u.bi_off + b * u.bi_sb + h * u.bi_sh + i * u.bi_si + j * u.bi_sj);' : ''}
  return t;
}
fn modded(t: f32, b: u32, h: u32, i: u32, j: u32) -> f32 {
  let score = t;
  return ${f.scoreMod ? `(${f.scoreMod.wgsl})` : 'score'};
}
/** d scoreMod / d t at t (1 for additive mods) */
fn modGrad(t: f32, b: u32, h: u32, i: u32, j: u32) -> f32 {
  let score = t;
  return ${f.scoreMod?.gradWgsl ? `(${f.scoreMod.gradWgsl})` : '1.0'};
}
/** d softcap / d raw */
fn capGrad(raw: f32) -> f32 {
  ${f.softcap ? 'let th = tanhSafe(raw / u.softcap); return 1.0 - th * th;' : 'return 1.0;'}
}
${f.dropout ? HASH_WGSL : ''}
/** dropout: 1/(1-p) for kept (b, h, i, j), 0 for dropped; the counter is the flat [B, H, Nq, Nk] index */
fn dropKeep(b: u32, h: u32, i: u32, j: u32) -> f32 {
  ${f.dropout ? 'return select(0.0, u.drop_scale, unit(((b * u.H + h) * u.Nq + i) * u.Nk + j) >= u.drop_p);' : 'return 1.0;'}
}
fn tanhSafe(x: f32) -> f32 { let e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }
fn hsum(x: vec4f) -> f32 { return (x.x + x.y) + (x.z + x.w); }
/**
 * Queries that see some key of [j0, j0 + n) before per-element masks: [x, y) (query i sees key j iff
 * j - shift - right <= i <= j - shift + left); empty when the keys start at or past kvLens' end.
 */
fn queriesSeeing(j0: u32, n: u32, end: u32) -> vec2u {
  let lo = u32(clamp(i32(j0) - u.shift - u.right, 0, i32(u.Nq)));
  let hi = u32(clamp(i32(min(j0 + n - 1u, end - 1u)) - u.shift + u.left + 1, 0, i32(u.Nq)));
  return vec2u(lo, select(0u, hi, j0 < end));
}
`;
}

const R_LOOP = (R: number, body: (r: number) => string) =>
  Array.from({ length: R }, (_, r) => body(r)).join('\n');

/**
 * Opening of the row-streaming kernels (forward, dQ): which (b, h) and which R query rows this
 * invocation owns, and the base offsets of its q, k and v heads.
 */
function queryTilePrologue(R: number): string {
  return `  let w = workgroupIndex(wg, nwg);
  let bh = w / u.tiles;
  let b = bh / u.H;
  let h = bh % u.H;
  let hk = h / u.group;
  let i0 = ((w % u.tiles) * WG + li) * ${R}u;
  if (b >= u.B || i0 >= u.Nq) { return; }
  let qb = u.q_off + b * u.q_sb + h * u.q_sh;
  let kb = u.k_off + b * u.k_sb + hk * u.k_sh;
  let vb = u.v_off + b * u.v_sb + hk * u.v_sh;`;
}

/** Forward: out [B, H, Nq, Dv] and lse [B, H, Nq] (natural log; -inf for rows with no visible key). */
export function forwardSpec(f: AttentionFeatures): KernelSpec {
  const { D, Dv, R } = f;
  return {
    key: `attn-fwd:${featureKey(f)}`,
    uniforms: ATTENTION_FIELDS,
    operands: [
      ...inputOperands(f),
      { name: 'out', dtype: 'f32', write: true },
      { name: 'lse', dtype: 'f32', write: true },
    ],
    workgroupSize: 32,
    body: `${commonWgsl(f)}
const D: u32 = ${D}u;
const DV: u32 = ${Dv}u;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
${queryTilePrologue(R)}
  var q: array<array<f32, ${D}>, ${R}>;
  var acc: array<array<f32, ${Dv}>, ${R}>;
  var m: array<f32, ${R}>;
  var l: array<f32, ${R}>;
  var lo: array<u32, ${R}>;
  var hi: array<u32, ${R}>;
  var jlo = u.Nk;
  var jhi = 0u;
  for (var r = 0u; r < ${R}u; r++) {
    let i = min(i0 + r, u.Nq - 1u);
    for (var d = 0u; d < D; d++) { q[r][d] = q_ld(qb + i * u.q_sn + d) * u.scale; }
    for (var d = 0u; d < DV; d++) { acc[r][d] = 0.0; }
    m[r] = -inf();
    l[r] = 0.0;
    lo[r] = keyLo(i);
    hi[r] = select(0u, keyHi(i, b), i0 + r < u.Nq);
    if (lo[r] < hi[r]) { jlo = min(jlo, lo[r]); jhi = max(jhi, hi[r]); }
  }
  var s: array<f32, ${R}>;
  for (var j = jlo; j < jhi; j++) {
    let ko = kb + j * u.k_sn;
    for (var r = 0u; r < ${R}u; r++) { s[r] = 0.0; }
    for (var d = 0u; d < D; d++) {
      let kd = k_ld(ko + d);
${R_LOOP(R, (r) => `      s[${r}] = fma(q[${r}][d], kd, s[${r}]);`)}
    }
    var any = false;
    var p: array<f32, ${R}>;
    for (var r = 0u; r < ${R}u; r++) {
      let i = i0 + r;
      p[r] = 0.0;
      if (j < lo[r] || j >= hi[r] || !visible(b, h, i, j)) { continue; }
      let sc = modded(transformed(s[r], b, h, i, j), b, h, i, j);
      if (sc > m[r]) {
        // online softmax (Milakov & Gimelshein): rescale what was accumulated under the old max
        let alpha = exp(m[r] - sc);
        for (var d = 0u; d < DV; d++) { acc[r][d] *= alpha; }
        l[r] *= alpha;
        m[r] = sc;
      }
      p[r] = exp(sc - m[r]);
      l[r] += p[r];
      ${f.dropout ? 'p[r] *= dropKeep(b, h, i, j);' : ''}
      any = true;
    }
    if (!any) { continue; }
    let vo = vb + j * u.v_sn;
    for (var d = 0u; d < DV; d++) {
      let vd = v_ld(vo + d);
${R_LOOP(R, (r) => `      acc[${r}][d] = fma(p[${r}], vd, acc[${r}][d]);`)}
    }
  }
  for (var r = 0u; r < ${R}u; r++) {
    let i = i0 + r;
    if (i >= u.Nq) { break; }
    let row = (b * u.H + h) * u.Nq + i;
    // a row with no visible key gives zeros and lse = -inf, never NaN
    let inv = select(0.0, 1.0 / l[r], l[r] > 0.0);
    for (var d = 0u; d < DV; d++) { out_st(row * DV + d, acc[r][d] * inv); }
    lse_st(row, select(-inf(), m[r] + log(l[r]), l[r] > 0.0));
  }
}`,
  };
}

/**
 * Attention probabilities [B, H, Nq, Nk] (for visualization), one invocation per query row: a first
 * sweep recomputes the row's max and normalizer, a second writes exp(s - m) / l. Normalizing by the row's
 * own (m, l) rather than exp(s - lse) keeps dominant weights exact when logits are large (lse = m + log l
 * rounds at |s| ~ 100 by ~1e-5).
 */
export function weightsSpec(f: AttentionFeatures): KernelSpec {
  const { D } = f;
  return {
    key: `attn-weights:${featureKey(f)}`,
    uniforms: ATTENTION_FIELDS,
    operands: [...inputOperands(f), { name: 'out', dtype: 'f32', write: true }],
    workgroupSize: 64,
    body: `${commonWgsl(f)}
fn score(b: u32, h: u32, hk: u32, i: u32, j: u32) -> f32 {
  let qo = u.q_off + b * u.q_sb + h * u.q_sh + i * u.q_sn;
  let ko = u.k_off + b * u.k_sb + hk * u.k_sh + j * u.k_sn;
  var raw = 0.0;
  for (var d = 0u; d < ${D}u; d++) { raw = fma(q_ld(qo + d) * u.scale, k_ld(ko + d), raw); }
  return modded(transformed(raw, b, h, i, j), b, h, i, j);
}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = workgroupIndex(wg, nwg) * WG + li;
  let i = row % u.Nq;
  let bh = row / u.Nq;
  let b = bh / u.H;
  let h = bh % u.H;
  if (b >= u.B) { return; }
  let hk = h / u.group;
  let lo = keyLo(i);
  let hi = keyHi(i, b);
  var m = -inf();
  var l = 0.0;
  for (var j = lo; j < hi; j++) {
    if (!visible(b, h, i, j)) { continue; }
    let s = score(b, h, hk, i, j);
    if (s > m) { l = l * exp(m - s); m = s; }
    l += exp(s - m);
  }
  for (var j = 0u; j < u.Nk; j++) {
    var p = 0.0;
    if (l > 0.0 && j >= lo && j < hi && visible(b, h, i, j)) { p = exp(score(b, h, hk, i, j) - m) / l; }
    out_st(row * u.Nk + j, p);
  }
}`,
  };
}

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
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = workgroupIndex(wg, nwg) * WG + li;
  if (row >= u.rows) { return; }
  var s = 0.0;
  for (var d = 0u; d < ${Dv}u; d++) { s = fma(dout_ld(row * ${Dv}u + d), out_ld(row * ${Dv}u + d), s); }
  stats_st(u.rows + row, s); // delta, after lse
}`,
  };
}

/** dQ: each invocation streams the keys for its R query rows. */
export function dqSpec(f: AttentionFeatures): KernelSpec {
  const { D, Dv, R } = f;
  return {
    key: `attn-dq:${featureKey(f)}`,
    uniforms: ATTENTION_FIELDS,
    operands: [
      ...inputOperands(f),
      { name: 'dout', dtype: 'f32' },
      STATS_OPERAND,
      { name: 'dq', dtype: 'f32', write: true },
    ],
    workgroupSize: 32,
    body: `${commonWgsl(f)}
${STATS_WGSL}
const D: u32 = ${D}u;
const DV: u32 = ${Dv}u;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
${queryTilePrologue(R)}
  var q: array<array<f32, ${D}>, ${R}>;
  var go: array<array<f32, ${Dv}>, ${R}>;
  var dq: array<array<f32, ${D}>, ${R}>;
  var lse: array<f32, ${R}>;
  var delta: array<f32, ${R}>;
  var lo: array<u32, ${R}>;
  var hi: array<u32, ${R}>;
  var jlo = u.Nk;
  var jhi = 0u;
  for (var r = 0u; r < ${R}u; r++) {
    let i = min(i0 + r, u.Nq - 1u);
    let row = (b * u.H + h) * u.Nq + i;
    for (var d = 0u; d < D; d++) { q[r][d] = q_ld(qb + i * u.q_sn + d) * u.scale; dq[r][d] = 0.0; }
    for (var d = 0u; d < DV; d++) { go[r][d] = dout_ld(row * DV + d); }
    lse[r] = lse_ld(row);
    delta[r] = delta_ld(row);
    lo[r] = keyLo(i);
    hi[r] = select(0u, keyHi(i, b), i0 + r < u.Nq && lse[r] != -inf());
    if (lo[r] < hi[r]) { jlo = min(jlo, lo[r]); jhi = max(jhi, hi[r]); }
  }
  var s: array<f32, ${R}>;
  var dp: array<f32, ${R}>;
  for (var j = jlo; j < jhi; j++) {
    let ko = kb + j * u.k_sn;
    let vo = vb + j * u.v_sn;
    for (var r = 0u; r < ${R}u; r++) { s[r] = 0.0; dp[r] = 0.0; }
    for (var d = 0u; d < D; d++) {
      let kd = k_ld(ko + d);
${R_LOOP(R, (r) => `      s[${r}] = fma(q[${r}][d], kd, s[${r}]);`)}
    }
    for (var d = 0u; d < DV; d++) {
      let vd = v_ld(vo + d);
${R_LOOP(R, (r) => `      dp[${r}] = fma(go[${r}][d], vd, dp[${r}]);`)}
    }
    for (var r = 0u; r < ${R}u; r++) {
      let i = i0 + r;
      if (j < lo[r] || j >= hi[r] || !visible(b, h, i, j)) { continue; }
      let t = transformed(s[r], b, h, i, j);
      let p = exp(modded(t, b, h, i, j) - lse[r]);
      let ds = p * (dp[r] * dropKeep(b, h, i, j) - delta[r]) * modGrad(t, b, h, i, j) * capGrad(s[r]);
      for (var d = 0u; d < D; d++) { dq[r][d] = fma(ds, k_ld(ko + d), dq[r][d]); }
    }
  }
  for (var r = 0u; r < ${R}u; r++) {
    let i = i0 + r;
    if (i >= u.Nq) { break; }
    let row = (b * u.H + h) * u.Nq + i;
    for (var d = 0u; d < D; d++) { dq_st(row * D + d, dq[r][d] * u.scale); }
  }
}`,
  };
}

/**
 * dK, dV: each invocation owns R key rows of one kv head and streams the queries that can see them,
 * over every query head of its GQA group (so shared heads' gradients are summed without atomics).
 * With a bias, dS (the bias gradient before broadcasting) is written as [B, H, Nq, Nk].
 */
export function dkvSpec(f: AttentionFeatures): KernelSpec {
  const { D, Dv, R } = f;
  return {
    key: `attn-dkv:${featureKey(f)}`,
    uniforms: ATTENTION_FIELDS,
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
const D: u32 = ${D}u;
const DV: u32 = ${Dv}u;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let w = workgroupIndex(wg, nwg);
  let bhk = w / u.tiles;
  let b = bhk / u.Hkv;
  let hk = bhk % u.Hkv;
  let j0 = ((w % u.tiles) * WG + li) * ${R}u;
  if (b >= u.B || j0 >= u.Nk) { return; }
  let kb = u.k_off + b * u.k_sb + hk * u.k_sh;
  let vb = u.v_off + b * u.v_sb + hk * u.v_sh;
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
      for (var r = 0u; r < ${R}u; r++) { s[r] = 0.0; dp[r] = 0.0; }
      for (var d = 0u; d < D; d++) {
        let qd = q_ld(qo + d) * u.scale;
${R_LOOP(R, (r) => `        s[${r}] = fma(qd, kr[${r}][d], s[${r}]);`)}
      }
      for (var d = 0u; d < DV; d++) {
        let gd = dout_ld(row * DV + d);
${R_LOOP(R, (r) => `        dp[${r}] = fma(gd, vr[${r}][d], dp[${r}]);`)}
      }
      let dl = delta_ld(row);
      let klo = keyLo(i);
      let khi = keyHi(i, b);
      for (var r = 0u; r < ${R}u; r++) {
        let j = j0 + r;
        if (j >= end || j < klo || j >= khi || !visible(b, h, i, j)) { continue; }
        let t = transformed(s[r], b, h, i, j);
        let p = exp(modded(t, b, h, i, j) - l);
        let keep = dropKeep(b, h, i, j);
        let dsT = p * (dp[r] * keep - dl) * modGrad(t, b, h, i, j); // dL/dt, the bias gradient
        ${f.bias ? 'dbias_st(row * u.Nk + j, dsT);' : ''}
        let ds = dsT * capGrad(s[r]);
        for (var d = 0u; d < DV; d++) { dv[r][d] = fma(p * keep, dout_ld(row * DV + d), dv[r][d]); }
        for (var d = 0u; d < D; d++) { dk[r][d] = fma(ds, q_ld(qo + d), dk[r][d]); }
      }
    }
  }
  for (var r = 0u; r < ${R}u; r++) {
    let j = j0 + r;
    if (j >= u.Nk) { break; }
    let row = (b * u.Hkv + hk) * u.Nk + j;
    let dvBase = u.B * u.Hkv * u.Nk * D;
    for (var d = 0u; d < D; d++) { dkv_st(row * D + d, dk[r][d] * u.scale); }
    for (var d = 0u; d < DV; d++) { dkv_st(dvBase + row * DV + d, dv[r][d]); }
  }
}`,
  };
}
