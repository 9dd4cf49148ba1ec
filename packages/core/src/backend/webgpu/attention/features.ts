/**
 * What every WGSL attention kernel family shares (looped.ts, registers.ts, tiled.ts, split-k.ts): the
 * features a call compiles in (masks and mods only when used, so the common case pays for none), the
 * uniforms, the operands in binding order, and the WGSL for visible key ranges, masks, the score
 * transform and dropout.
 */
import type { ResolvedAttention } from '../../../kernels/attention.js';
import { loopedRows } from '../heuristics.js';
import { HASH_WGSL } from '../kernels/random.js';
import type { OperandSpec } from '../shader.js';
import { BHN_STRIDES, type Field, u32Fields } from '../uniforms.js';

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
  const R = loopedRows(r.D, r.Dv);
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

/** WGSL: workgroup w's batch b, head h and kv head hk, for kernels with u.tiles query tiles per (b, h). */
export const QUERY_TILE_HEAD = `  let w = workgroupIndex(wg, nwg);
  let bh = w / u.tiles;
  let b = bh / u.H;
  let h = bh % u.H;
  let hk = h / u.group;`;
/** WGSL: batch b, head h and kv head hk of the flat (b, h) index bh; past the batch, return. */
export const HEAD_OF_BH = `  let b = bh / u.H;
  let h = bh % u.H;
  if (b >= u.B) { return; }
  let hk = h / u.group;`;
/** WGSL: workgroup w's batch b and kv head hk, for kernels with u.tiles key tiles per (b, kv head). */
export const KEY_TILE_HEAD = `  let w = workgroupIndex(wg, nwg);
  let bhk = w / u.tiles;
  let b = bhk / u.Hkv;
  let hk = bhk % u.Hkv;`;
/** WGSL: where kv head hk of batch b starts in k (kb) and v (vb). */
export const KV_HEAD_BASES = `  let kb = u.k_off + b * u.k_sb + hk * u.k_sh;
  let vb = u.v_off + b * u.v_sb + hk * u.v_sh;`;

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
  ...['q', 'k', 'v'].flatMap((p) => u32Fields(p, BHN_STRIDES)),
  ...u32Fields('m', ['off', 'sb', 'sh', 'si', 'sj']),
  ...u32Fields('bi', ['off', 'sb', 'sh', 'si', 'sj']),
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

/** What the vec4 forward kernels (registers.ts, tiled.ts) bind: the vec4 inputs, then out (vec4) and lse. */
export function vec4ForwardOperands(f: AttentionFeatures): OperandSpec[] {
  return [
    ...vec4InputOperands(f),
    { name: 'out', dtype: 'f32', write: true, vec4: true },
    { name: 'lse', dtype: 'f32', write: true },
  ];
}

/** What the loop-based backward kernels read: the inputs, dout, then [lse, delta]. */
export function backwardInputOperands(f: AttentionFeatures): OperandSpec[] {
  const ops = inputOperands(f);
  ops.push({ name: 'dout', dtype: 'f32' }, STATS_OPERAND);
  return ops;
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
/**
 * NaN / Inf policy (docs/api.md "Attention"): a visible key whose score is -inf takes no part, as a
 * masked one (its v is never read); a NaN or +inf score makes its whole row NaN (out and lse). Tested on
 * the bits: WGSL lets compilers assume there is no NaN or infinity (shader.ts isNan). Non-short-circuit
 * \`&\` / \`|\` keep the unrolled kernels free of branches (Subzero compiles those slowly).
 */
fn takesPart(s: f32) -> bool { return bitcast<u32>(s) != 0xff800000u; }
fn poisons(s: f32) -> bool { return ((bitcast<u32>(s) & 0x7fffffffu) >= 0x7f800000u) & takesPart(s); }
/** P = exp(s - lse) in the backward: NaN in a row whose lse is NaN, or for a poisoning score */
fn probOf(s: f32, lse: f32) -> f32 { return select(exp(s - lse), nan(), isNan(lse) | poisons(s)); }
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
