/**
 * Attention kernels for hardware GPUs, forward and backward.
 *
 * Forward (FlashAttention-2 Alg. 1 as GPUs like it): a workgroup of 64 invocations owns 64 query rows,
 * one each (q and the output accumulator in registers: 2·D/4 vec4, which a GPU holds without
 * spilling), and streams keys through workgroup memory in tiles of BC keys that all invocations load
 * together and then read as broadcasts. Per tile: scores into a private array, one online-softmax
 * rescale, then P·V. Tiles no row of the workgroup sees are skipped (causal, windows, kvLens).
 *
 * Backward: dQ over K/V tiles, one query row per invocation; dK/dV over tiles of queries (q, dO, lse,
 * delta), one key row per invocation, the GQA group's heads in turn (no atomics, as in
 * registers-backward.ts).
 *
 * The register kernels (registers*.ts) stay the choice on software adapters: SwiftShader pays for every
 * barrier and runs these several times slower. Selection: `defaultAttentionFamily` in ../heuristics.ts.
 */
import { type KernelSpec, MAIN } from '../shader.js';
import {
  ATTENTION_FIELDS,
  type AttentionFeatures,
  commonWgsl,
  featureKey,
  KEY_TILE_HEAD,
  KV_HEAD_BASES,
  QUERY_TILE_HEAD,
  STATS_WGSL,
  vec4BackwardInputOperands,
  vec4ForwardOperands,
} from './features.js';

/** Query rows per workgroup (one per invocation). */
export const TILED_ROWS = 64;
const LOG2E = Math.LOG2E;

/** f32 slots of workgroup memory for the tiles: the device's limit less room for the small shared values. */
const tileFloats = (storageBytes: number) => Math.floor((storageBytes - 64) / 4);

/**
 * Keys per K/V tile: as many as the device's workgroup memory holds, at most 64 (WebGPU guarantees 16 KiB:
 * 31 keys at D 64, 7 at D 256; SwiftShader's 32 KiB: 63 and 15).
 */
export function tiledKeys(D: number, Dv: number, storageBytes: number): number {
  return Math.min(64, Math.floor(tileFloats(storageBytes) / (D + Dv)));
}

/** Query rows per dK/dV tile: q, dO, lse and delta of each. */
export function tiledQueries(D: number, Dv: number, storageBytes: number): number {
  return Math.min(64, Math.floor(tileFloats(storageBytes) / (D + Dv + 2)));
}

/**
 * What the forward and dQ kernels share: K/V tile memory, the workgroup's head and query rows (the last
 * rows first: under causal masks they see the most keys), and the keys any of its rows sees, read
 * uniformly (keyLo and keyHi grow with i, so the first and last rows bound them).
 */
function queryTileHead(BC: number, D4: number, V4: number): string {
  return `
var<workgroup> ks: array<vec4f, ${BC * D4}>;
var<workgroup> vs: array<vec4f, ${BC * V4}>;
var<workgroup> span: vec2u;

${MAIN}
${QUERY_TILE_HEAD}
  let i0 = (u.tiles - 1u - w % u.tiles) * WG;
  let i = i0 + li;
  let qb = u.q_off + b * u.q_sb + h * u.q_sh;
${KV_HEAD_BASES}
  if (li == 0u) { span = vec2u(keyLo(i0), keyHi(min(i0 + WG - 1u, u.Nq - 1u), b)); }
  let keys = workgroupUniformLoad(&span);`;
}

/** Loads keys j0 .. j0 + BC - 1 of K and V into `ks` / `vs` (the loop over tiles opens with it). */
function kvTileLoad(BC: number, D4: number, V4: number): string {
  return `
    workgroupBarrier(); // everyone is done with the previous tile
    for (var t = li; t < ${BC * D4}u; t += WG) {
      let j = min(j0 + t / ${D4}u, u.Nk - 1u);
      ks[t] = k_ld4((kb + j * u.k_sn) / 4u + t % ${D4}u);
    }
    for (var t = li; t < ${BC * V4}u; t += WG) {
      let j = min(j0 + t / ${V4}u, u.Nk - 1u);
      vs[t] = v_ld4((vb + j * u.v_sn) / 4u + t % ${V4}u);
    }
    workgroupBarrier();`;
}

export function forwardTiledSpec(f: AttentionFeatures, storageBytes: number): KernelSpec {
  const { D, Dv } = f;
  const [D4, V4] = [D / 4, Dv / 4];
  const BC = tiledKeys(D, Dv, storageBytes);
  const body = `${queryTileHead(BC, D4, V4)}
  let lo = keyLo(i);
  let hi = select(0u, keyHi(i, b), i < u.Nq);
  let qr = (qb + min(i, u.Nq - 1u) * u.q_sn) / 4u;
  var q: array<vec4f, ${D4}>;
  for (var c = 0u; c < ${D4}u; c++) { q[c] = q_ld4(qr + c) * u.scale; }
  var o: array<vec4f, ${V4}>;
  var m = -1e30;
  var l = 0.0;
  var bad = false; // a NaN or +inf score seen: the row is NaN (features.ts poisons)
  var s: array<f32, ${BC}>;
  var tk: array<bool, ${BC}>; // key j0 + jj takes part in this row
  for (var j0 = keys.x; j0 < keys.y; j0 += ${BC}u) {
${kvTileLoad(BC, D4, V4)}
    var mt = m;
    for (var jj = 0u; jj < ${BC}u; jj++) {
      let j = j0 + jj;
      var acc = vec4f(0.0);
      for (var c = 0u; c < ${D4}u; c++) { acc = fma(q[c], ks[jj * ${D4}u + c], acc); }
      let raw = hsum(acc);
      let sc = modded(transformed(raw, b, h, i, j), b, h, i, j);
      let vis = j >= lo && j < hi && visible(b, h, i, j);
      bad = bad | (vis & poisons(sc));
      tk[jj] = vis & takesPart(sc) & !poisons(sc);
      s[jj] = select(-inf(), sc, tk[jj]);
      mt = max(mt, s[jj]);
    }
    let alpha = exp2((m - mt) * ${LOG2E});
    l *= alpha;
    for (var c = 0u; c < ${V4}u; c++) { o[c] *= alpha; }
    for (var jj = 0u; jj < ${BC}u; jj++) {
      let p = exp2((s[jj] - mt) * ${LOG2E});
      l += p;
      let pv = vec4f(p${f.dropout ? ' * dropKeep(b, h, i, j0 + jj)' : ''});
      for (var c = 0u; c < ${V4}u; c++) { o[c] = select(o[c], fma(pv, vs[jj * ${V4}u + c], o[c]), tk[jj]); }
    }
    m = mt;
  }
  if (i < u.Nq) {
    let row = (b * u.H + h) * u.Nq + i;
    // a row with no key taking part gives zeros and lse = -inf; a poisoned row NaN
    let inv = select(0.0, 1.0 / l, l > 0.0);
    for (var c = 0u; c < ${V4}u; c++) { out_st4(row * ${V4}u + c, select(o[c] * inv, vec4f(nan()), bad)); }
    lse_st(row, select(select(-inf(), m + log(l), l > 0.0), nan(), bad));
  }
}`;
  return {
    key: `attn-fwd-tiled:${featureKey(f)}:BC${BC}`,
    uniforms: ATTENTION_FIELDS,
    operands: vec4ForwardOperands(f),
    workgroupSize: TILED_ROWS,
    body: `${commonWgsl(f)}${body}`,
  };
}

/**
 * dQ for hardware adapters: one query row per invocation (q, dO, the dQ accumulator, lse and delta in
 * registers), K/V tiles in workgroup memory as in the forward; P recomputed from lse.
 */
export function dqTiledSpec(f: AttentionFeatures, storageBytes: number): KernelSpec {
  const { D, Dv } = f;
  const [D4, V4] = [D / 4, Dv / 4];
  const BC = tiledKeys(D, Dv, storageBytes);
  const body = `${queryTileHead(BC, D4, V4)}
  let ic = min(i, u.Nq - 1u);
  let row = (b * u.H + h) * u.Nq + ic;
  let lse = lse_ld(row);
  let delta = delta_ld(row);
  let lo = keyLo(i);
  let hi = select(0u, keyHi(i, b), i < u.Nq && takesPart(lse));
  var q: array<vec4f, ${D4}>;
  var g: array<vec4f, ${V4}>;
  var dq: array<vec4f, ${D4}>;
  for (var c = 0u; c < ${D4}u; c++) { q[c] = q_ld4((qb + ic * u.q_sn) / 4u + c) * u.scale; }
  for (var c = 0u; c < ${V4}u; c++) { g[c] = dout_ld4(row * ${V4}u + c); }
  for (var j0 = keys.x; j0 < keys.y; j0 += ${BC}u) {
${kvTileLoad(BC, D4, V4)}
    for (var jj = 0u; jj < ${BC}u; jj++) {
      let j = j0 + jj;
      var sq = vec4f(0.0);
      for (var c = 0u; c < ${D4}u; c++) { sq = fma(q[c], ks[jj * ${D4}u + c], sq); }
      var sv = vec4f(0.0);
      for (var c = 0u; c < ${V4}u; c++) { sv = fma(g[c], vs[jj * ${V4}u + c], sv); }
      let raw = hsum(sq);
      let t = transformed(raw, b, h, i, j);
      let sc = modded(t, b, h, i, j);
      let ok = j >= lo && j < hi && visible(b, h, i, j) && takesPart(sc);
      let p = select(0.0, probOf(sc, lse), ok);
      let ds = vec4f(p * (hsum(sv) * dropKeep(b, h, i, j) - delta) * modGrad(t, b, h, i, j) * capGrad(raw));
      for (var c = 0u; c < ${D4}u; c++) { dq[c] = select(dq[c], fma(ds, ks[jj * ${D4}u + c], dq[c]), ok); }
    }
  }
  if (i < u.Nq) {
    for (var c = 0u; c < ${D4}u; c++) { dq_st4(row * ${D4}u + c, dq[c] * u.scale); }
  }
}`;
  return {
    key: `attn-dq-tiled:${featureKey(f)}:BC${BC}`,
    uniforms: ATTENTION_FIELDS,
    operands: [...vec4BackwardInputOperands(f), { name: 'dq', dtype: 'f32', write: true, vec4: true }],
    workgroupSize: TILED_ROWS,
    body: `${commonWgsl(f)}\n${STATS_WGSL}${body}`,
  };
}

/**
 * dK/dV for hardware adapters: one key row per invocation (k, v and both accumulators in registers),
 * tiles of queries (q, dO, lse, delta) in workgroup memory, every head of the GQA group in turn so
 * shared heads sum without atomics.
 */
export function dkvTiledSpec(f: AttentionFeatures, storageBytes: number): KernelSpec {
  const { D, Dv } = f;
  const [D4, V4] = [D / 4, Dv / 4];
  const BQ = tiledQueries(D, Dv, storageBytes);
  const body = `
var<workgroup> qs: array<vec4f, ${BQ * D4}>;
var<workgroup> gs: array<vec4f, ${BQ * V4}>;
var<workgroup> stat: array<vec2f, ${BQ}>;
var<workgroup> span: vec2u;

${MAIN}
${KEY_TILE_HEAD}
  let j0 = (w % u.tiles) * WG;
  let j = j0 + li;
  let jc = min(j, u.Nk - 1u);
${KV_HEAD_BASES}
  let end = ${f.kvLens ? 'u32(clamp(lens_ld(b), 0, i32(u.Nk)))' : 'u.Nk'};
  if (li == 0u) { span = queriesSeeing(j0, WG, end); }
  let queries = workgroupUniformLoad(&span);
  var k: array<vec4f, ${D4}>;
  var v: array<vec4f, ${V4}>;
  var dk: array<vec4f, ${D4}>;
  var dv: array<vec4f, ${V4}>;
  for (var c = 0u; c < ${D4}u; c++) { k[c] = k_ld4((kb + jc * u.k_sn) / 4u + c); }
  for (var c = 0u; c < ${V4}u; c++) { v[c] = v_ld4((vb + jc * u.v_sn) / 4u + c); }
  for (var hg = 0u; hg < u.group; hg++) {
    let h = hk * u.group + hg;
    let qb = u.q_off + b * u.q_sb + h * u.q_sh;
    let rows = (b * u.H + h) * u.Nq;
    for (var i0 = queries.x; i0 < queries.y; i0 += ${BQ}u) {
      workgroupBarrier();
      for (var t = li; t < ${BQ * D4}u; t += WG) {
        let i = min(i0 + t / ${D4}u, u.Nq - 1u);
        qs[t] = q_ld4((qb + i * u.q_sn) / 4u + t % ${D4}u);
      }
      for (var t = li; t < ${BQ * V4}u; t += WG) {
        let i = min(i0 + t / ${V4}u, u.Nq - 1u);
        gs[t] = dout_ld4((rows + i) * ${V4}u + t % ${V4}u);
      }
      for (var t = li; t < ${BQ}u; t += WG) {
        let row = rows + min(i0 + t, u.Nq - 1u);
        stat[t] = vec2f(lse_ld(row), delta_ld(row));
      }
      workgroupBarrier();
      for (var ii = 0u; ii < ${BQ}u; ii++) {
        let i = i0 + ii;
        let l = stat[ii].x;
        var sq = vec4f(0.0);
        for (var c = 0u; c < ${D4}u; c++) { sq = fma(qs[ii * ${D4}u + c], k[c], sq); }
        var sv = vec4f(0.0);
        for (var c = 0u; c < ${V4}u; c++) { sv = fma(gs[ii * ${V4}u + c], v[c], sv); }
        let raw = hsum(sq) * u.scale;
        let t = transformed(raw, b, h, i, j);
        let sc = modded(t, b, h, i, j);
        let ok = i < queries.y && takesPart(l) && j < end && j >= keyLo(i) && j < keyHi(i, b) &&
          visible(b, h, i, j) && takesPart(sc);
        let p = select(0.0, probOf(sc, l), ok);
        let keep = dropKeep(b, h, i, j);
        let dsT = p * (hsum(sv) * keep - stat[ii].y) * modGrad(t, b, h, i, j); // dL/dt: the bias gradient
        ${f.bias ? 'if (ok) { dbias_st((rows + i) * u.Nk + j, dsT); }' : ''}
        let ds = vec4f(dsT * capGrad(raw));
        let pv = vec4f(p * keep); // dV takes the dropped, rescaled probabilities
        for (var c = 0u; c < ${V4}u; c++) { dv[c] = select(dv[c], fma(pv, gs[ii * ${V4}u + c], dv[c]), ok); }
        for (var c = 0u; c < ${D4}u; c++) { dk[c] = select(dk[c], fma(ds, qs[ii * ${D4}u + c], dk[c]), ok); }
      }
    }
  }
  if (j < u.Nk) {
    let krow = (b * u.Hkv + hk) * u.Nk + j;
    let dvBase = u.B * u.Hkv * u.Nk * ${D4}u;
    for (var c = 0u; c < ${D4}u; c++) { dkv_st4(krow * ${D4}u + c, dk[c] * u.scale); }
    for (var c = 0u; c < ${V4}u; c++) { dkv_st4(dvBase + krow * ${V4}u + c, dv[c]); }
  }
}`;
  return {
    key: `attn-dkv-tiled:${featureKey(f)}:BQ${BQ}`,
    uniforms: ATTENTION_FIELDS,
    operands: [
      ...vec4BackwardInputOperands(f),
      { name: 'dkv', dtype: 'f32', write: true, vec4: true },
      ...(f.bias ? [{ name: 'dbias', dtype: 'f32' as const, write: true }] : []),
    ],
    workgroupSize: TILED_ROWS,
    body: `${commonWgsl(f)}\n${STATS_WGSL}${body}`,
  };
}
