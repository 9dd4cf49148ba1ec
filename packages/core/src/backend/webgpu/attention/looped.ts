/**
 * The loop-based attention kernels: forward (flash-style: keys streamed, online softmax, lse saved;
 * FlashAttention-2 Alg. 1) and the attention weights recomputed from lse. They serve every shape the
 * unrolled families do not (odd head dims, odd strides, operands larger than one binding): barrier-free
 * with R rows per invocation, the shape SwiftShader runs fastest (docs/decisions.md "Kernels on a
 * software adapter"). No kernel keeps Nq x Nk memory except `weights`, whose output is that size.
 */
import { type KernelSpec, MAIN, type OperandSpec } from '../shader.js';
import type { Field } from '../uniforms.js';
import {
  ATTENTION_FIELDS,
  type AttentionFeatures,
  commonWgsl,
  featureKey,
  HEAD_OF_BH,
  inputOperands,
  KV_HEAD_BASES,
  QUERY_TILE_HEAD,
} from './features.js';
export const R_LOOP = (R: number, body: (r: number) => string) =>
  Array.from({ length: R }, (_, r) => body(r)).join('\n');

/*
 * Steps of the row-streaming kernels, here and in neighborhood-forward.ts / -backward.ts: WGSL indented
 * by `pad`, looping over R rows with `rows` (the WGSL bound: `4u`, or the constant `R`).
 */

/** s[r] = q[r] · k_j for the R rows at key offset ko; `withDp`: also dp[r] = dO[r] · v_j (offset vo). */
export function keyScores(pad: string, rows: string, R: number, withDp: boolean): string {
  const dp = `
${pad}for (var d = 0u; d < DV; d++) {
${pad}  let vd = v_ld(vo + d);
${R_LOOP(R, (r) => `${pad}  dp[${r}] = fma(go[${r}][d], vd, dp[${r}]);`)}
${pad}}`;
  return `${pad}for (var r = 0u; r < ${rows}; r++) { s[r] = 0.0;${withDp ? ' dp[r] = 0.0;' : ''} }
${pad}for (var d = 0u; d < D; d++) {
${pad}  let kd = k_ld(ko + d);
${R_LOOP(R, (r) => `${pad}  s[${r}] = fma(q[${r}][d], kd, s[${r}]);`)}
${pad}}${withDp ? dp : ''}`;
}

/**
 * Row r's score for key j joins its online softmax (Milakov & Gimelshein): m[r], l[r] and acc[r] are
 * rescaled under a new max, p[r] is the key's weight (take[r]: it takes part; bad[r]: a poisoning score).
 */
export function onlineSoftmaxStep(pad: string, dropout: boolean): string {
  return `${pad}let sc = modded(transformed(s[r], b, h, i, j), b, h, i, j);
${pad}if (!takesPart(sc)) { continue; }
${pad}if (poisons(sc)) { bad[r] = true; continue; }
${pad}take[r] = true;
${pad}if (sc > m[r]) {
${pad}  // online softmax (Milakov & Gimelshein): rescale what was accumulated under the old max
${pad}  let alpha = exp(m[r] - sc);
${pad}  for (var d = 0u; d < DV; d++) { acc[r][d] *= alpha; }
${pad}  l[r] *= alpha;
${pad}  m[r] = sc;
${pad}}
${pad}p[r] = exp(sc - m[r]);
${pad}l[r] += p[r];
${pad}${dropout ? 'p[r] *= dropKeep(b, h, i, j);' : ''}
${pad}any = true;`;
}

/** acc[r] += p[r] v_j for the rows that take key j (none: the next key). */
export function accumulateValue(pad: string, R: number): string {
  return `${pad}if (!any) { continue; }
${pad}let vo = vb + j * u.v_sn;
${pad}for (var d = 0u; d < DV; d++) {
${pad}  let vd = v_ld(vo + d);
${R_LOOP(R, (r) => `${pad}  acc[${r}][d] = select(acc[${r}][d], fma(p[${r}], vd, acc[${r}][d]), take[${r}]);`)}
${pad}}`;
}

/** Row r's out and lse, written at `row` (natural log; -inf for a row no key takes part in, NaN poisoned). */
export const STORE_OUT_LSE = `    // a row with no key taking part gives zeros and lse = -inf; a poisoned row NaN
    let inv = select(0.0, 1.0 / l[r], l[r] > 0.0);
    for (var d = 0u; d < DV; d++) { out_st(row * DV + d, select(acc[r][d] * inv, nan(), bad[r])); }
    lse_st(row, select(select(-inf(), m[r] + log(l[r]), l[r] > 0.0), nan(), bad[r]));`;

/**
 * A row-streaming kernel (forward, dQ, dK/dV; here, looped-backward.ts and neighborhood-*.ts), 32
 * invocations a workgroup: the shared WGSL, `preamble` (lse and delta access, a grid's geometry), the
 * head dims as constants D and DV, then `main` opened and `body` (which closes it).
 */
export function rowStreamingSpec(
  f: AttentionFeatures,
  key: string,
  uniforms: readonly Field[],
  operands: readonly OperandSpec[],
  preamble: string,
  body: string,
): KernelSpec {
  return {
    key,
    uniforms,
    operands,
    workgroupSize: 32,
    body: `${commonWgsl(f)}${preamble}
const D: u32 = ${f.D}u;
const DV: u32 = ${f.Dv}u;
${MAIN}
${body}`,
  };
}

/**
 * Opening of the attention-weights kernels (here and neighborhood-forward.ts), one invocation per query
 * row: `score(b, h, hk, i, j)` (the scaled, transformed and modded q·k for head dim D), then `main`
 * opened with the row's (b, h, i) and its kv head hk.
 */
export function weightsOpening(D: number): string {
  return `fn score(b: u32, h: u32, hk: u32, i: u32, j: u32) -> f32 {
  let qo = u.q_off + b * u.q_sb + h * u.q_sh + i * u.q_sn;
  let ko = u.k_off + b * u.k_sb + hk * u.k_sh + j * u.k_sn;
  var raw = 0.0;
  for (var d = 0u; d < ${D}u; d++) { raw = fma(q_ld(qo + d) * u.scale, k_ld(ko + d), raw); }
  return modded(transformed(raw, b, h, i, j), b, h, i, j);
}
${MAIN}
  let row = workgroupIndex(wg, nwg) * WG + li;
  let i = row % u.Nq;
  let bh = row / u.Nq;
${HEAD_OF_BH}`;
}

/**
 * Opening of the row-streaming kernels (forward, dQ): which (b, h) and which R query rows this
 * invocation owns, and the base offsets of its q, k and v heads.
 */
export function queryTilePrologue(R: number): string {
  return `${QUERY_TILE_HEAD}
  let i0 = ((w % u.tiles) * WG + li) * ${R}u;
  if (b >= u.B || i0 >= u.Nq) { return; }
  let qb = u.q_off + b * u.q_sb + h * u.q_sh;
${KV_HEAD_BASES}`;
}

/**
 * WGSL declarations of the key range [lo[r], hi[r]) of each of a tile's R query rows and of their union
 * [jlo, jhi) (empty at first), which the key loop walks (forward and dQ).
 */
export function keyRangeVars(R: number): string {
  return `  var lo: array<u32, ${R}>;
  var hi: array<u32, ${R}>;
  var jlo = u.Nk;
  var jhi = 0u;`;
}

/** WGSL, in the loop over rows r: query row i's key range (empty unless `takes`), widened into the union. */
export function keyRangeOfRow(takes: string): string {
  return `    lo[r] = keyLo(i);
    hi[r] = select(0u, keyHi(i, b), ${takes});
    if (lo[r] < hi[r]) { jlo = min(jlo, lo[r]); jhi = max(jhi, hi[r]); }`;
}

/** Forward: out [B, H, Nq, Dv] and lse [B, H, Nq] (natural log; -inf for rows with no visible key). */
export function forwardSpec(f: AttentionFeatures): KernelSpec {
  const { D, Dv, R } = f;
  return rowStreamingSpec(
    f,
    `attn-fwd:${featureKey(f)}`,
    ATTENTION_FIELDS,
    [
      ...inputOperands(f),
      { name: 'out', dtype: 'f32', write: true },
      { name: 'lse', dtype: 'f32', write: true },
    ],
    '',
    `${queryTilePrologue(R)}
  var q: array<array<f32, ${D}>, ${R}>;
  var acc: array<array<f32, ${Dv}>, ${R}>;
  var m: array<f32, ${R}>;
  var l: array<f32, ${R}>;
${keyRangeVars(R)}
  for (var r = 0u; r < ${R}u; r++) {
    let i = min(i0 + r, u.Nq - 1u);
    for (var d = 0u; d < D; d++) { q[r][d] = q_ld(qb + i * u.q_sn + d) * u.scale; }
    for (var d = 0u; d < DV; d++) { acc[r][d] = 0.0; }
    m[r] = -inf();
    l[r] = 0.0;
${keyRangeOfRow('i0 + r < u.Nq')}
  }
  var s: array<f32, ${R}>;
  var bad: array<bool, ${R}>; // a NaN or +inf score seen (takesPart / poisons in features.ts)
  for (var j = jlo; j < jhi; j++) {
    let ko = kb + j * u.k_sn;
${keyScores('    ', `${R}u`, R, false)}
    var any = false;
    var p: array<f32, ${R}>;
    var take: array<bool, ${R}>;
    for (var r = 0u; r < ${R}u; r++) {
      let i = i0 + r;
      p[r] = 0.0;
      take[r] = false;
      if (j < lo[r] || j >= hi[r] || !visible(b, h, i, j)) { continue; }
${onlineSoftmaxStep('      ', f.dropout)}
    }
${accumulateValue('    ', R)}
  }
  for (var r = 0u; r < ${R}u; r++) {
    let i = i0 + r;
    if (i >= u.Nq) { break; }
    let row = (b * u.H + h) * u.Nq + i;
${STORE_OUT_LSE}
  }
}`,
  );
}

/**
 * Attention probabilities [B, H, Nq, Nk] (for visualization), one invocation per query row: a first
 * sweep recomputes the row's max and normalizer, a second writes exp(s - m) / l. Normalizing by the row's
 * own (m, l) rather than exp(s - lse) keeps dominant weights exact when logits are large (lse = m + log l
 * rounds at |s| ~ 100 by ~1e-5).
 */
export function weightsSpec(f: AttentionFeatures): KernelSpec {
  return {
    key: `attn-weights:${featureKey(f)}`,
    uniforms: ATTENTION_FIELDS,
    operands: [...inputOperands(f), { name: 'out', dtype: 'f32', write: true }],
    workgroupSize: 64,
    body: `${commonWgsl(f)}
${weightsOpening(f.D)}
  let lo = keyLo(i);
  let hi = keyHi(i, b);
  var m = -inf();
  var l = 0.0;
  var bad = false; // a NaN or +inf score: every key taking part gets NaN (features.ts poisons)
  for (var j = lo; j < hi; j++) {
    if (!visible(b, h, i, j)) { continue; }
    let s = score(b, h, hk, i, j);
    if (!takesPart(s)) { continue; }
    if (poisons(s)) { bad = true; continue; }
    if (s > m) { l = l * exp(m - s); m = s; }
    l += exp(s - m);
  }
  for (var j = 0u; j < u.Nk; j++) {
    var p = 0.0;
    if (j >= lo && j < hi && visible(b, h, i, j)) {
      let s = score(b, h, hk, i, j);
      if (takesPart(s)) { p = select(exp(s - m) / l, nan(), bad); }
    }
    out_st(row * u.Nk + j, p);
  }
}`,
  };
}
