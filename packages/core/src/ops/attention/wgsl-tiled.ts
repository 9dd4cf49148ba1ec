/**
 * The forward kernel for hardware GPUs (FlashAttention-2 Alg. 1 as GPUs like it): a workgroup of 64
 * invocations owns 64 query rows, one each (q and the output accumulator in registers: 2·D/4 vec4,
 * which a GPU holds without spilling), and streams keys through workgroup memory in tiles of BC keys
 * that all invocations load together and then read as broadcasts. Per tile: scores into a private
 * array, one online-softmax rescale, then P·V. Tiles no row of the workgroup sees are skipped (causal,
 * windows, kvLens).
 *
 * The register kernel of wgsl-fast.ts stays the choice on software adapters: SwiftShader pays for every
 * barrier and runs this one several times slower. Selection: `forwardKernel` in index.ts.
 */
import type { KernelSpec } from '../../backend/webgpu.js';
import { ATTENTION_FIELDS, type AttentionFeatures, commonWgsl, featureKey, inputOperands } from './wgsl.js';

/** Query rows per workgroup (one per invocation). */
export const TILED_ROWS = 64;
/** WebGPU's default maxComputeWorkgroupStorageSize: 16 KiB, i.e. 4096 f32 for the K and V tiles. */
const TILE_FLOATS = 4096;
const LOG2E = Math.LOG2E;

/** Keys per tile: the largest power of two (at most 64) whose K and V rows fit the workgroup memory. */
export function tiledKeys(D: number, Dv: number): number {
  const fit = Math.floor(TILE_FLOATS / (D + Dv));
  return Math.min(64, 2 ** Math.floor(Math.log2(fit)));
}

export function forwardTiledSpec(f: AttentionFeatures): KernelSpec {
  const { D, Dv } = f;
  const [D4, V4] = [D / 4, Dv / 4];
  const BC = tiledKeys(D, Dv);
  const body = `
var<workgroup> ks: array<vec4f, ${BC * D4}>;
var<workgroup> vs: array<vec4f, ${BC * V4}>;
var<workgroup> span: vec2u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let w = workgroupIndex(wg, nwg);
  let bh = w / u.tiles;
  let b = bh / u.H;
  let h = bh % u.H;
  let hk = h / u.group;
  let i0 = (u.tiles - 1u - w % u.tiles) * WG; // last rows (the most keys under causal) first
  let i = i0 + li;
  let qb = u.q_off + b * u.q_sb + h * u.q_sh;
  let kb = u.k_off + b * u.k_sb + hk * u.k_sh;
  let vb = u.v_off + b * u.v_sb + hk * u.v_sh;
  // keyLo and keyHi grow with i: the workgroup's first and last rows bound the keys any row sees
  if (li == 0u) { span = vec2u(keyLo(i0), keyHi(min(i0 + WG - 1u, u.Nq - 1u), b)); }
  let keys = workgroupUniformLoad(&span);
  let lo = keyLo(i);
  let hi = select(0u, keyHi(i, b), i < u.Nq);
  let qr = (qb + min(i, u.Nq - 1u) * u.q_sn) / 4u;
  var q: array<vec4f, ${D4}>;
  for (var c = 0u; c < ${D4}u; c++) { q[c] = q_ld4(qr + c) * u.scale; }
  var o: array<vec4f, ${V4}>;
  var m = -1e30;
  var l = 0.0;
  var s: array<f32, ${BC}>;
  for (var j0 = keys.x; j0 < keys.y; j0 += ${BC}u) {
    workgroupBarrier(); // the previous tile is read by everyone
    for (var t = li; t < ${BC * D4}u; t += WG) {
      let j = min(j0 + t / ${D4}u, u.Nk - 1u);
      ks[t] = k_ld4((kb + j * u.k_sn) / 4u + t % ${D4}u);
    }
    for (var t = li; t < ${BC * V4}u; t += WG) {
      let j = min(j0 + t / ${V4}u, u.Nk - 1u);
      vs[t] = v_ld4((vb + j * u.v_sn) / 4u + t % ${V4}u);
    }
    workgroupBarrier();
    var mt = m;
    for (var jj = 0u; jj < ${BC}u; jj++) {
      let j = j0 + jj;
      var acc = vec4f(0.0);
      for (var c = 0u; c < ${D4}u; c++) { acc = fma(q[c], ks[jj * ${D4}u + c], acc); }
      let raw = (acc.x + acc.y) + (acc.z + acc.w);
      s[jj] = select(-inf(), modded(transformed(raw, b, h, i, j), b, h, i, j),
        j >= lo && j < hi && visible(b, h, i, j));
      mt = max(mt, s[jj]);
    }
    let alpha = exp2((m - mt) * ${LOG2E});
    l *= alpha;
    for (var c = 0u; c < ${V4}u; c++) { o[c] *= alpha; }
    for (var jj = 0u; jj < ${BC}u; jj++) {
      let p = exp2((s[jj] - mt) * ${LOG2E});
      l += p;
      let pv = vec4f(p${f.dropout ? ' * dropKeep(b, h, i, j0 + jj)' : ''});
      for (var c = 0u; c < ${V4}u; c++) { o[c] = fma(pv, vs[jj * ${V4}u + c], o[c]); }
    }
    m = mt;
  }
  if (i < u.Nq) {
    let row = (b * u.H + h) * u.Nq + i;
    // a row with no visible key gives zeros and lse = -inf, never NaN
    let inv = select(0.0, 1.0 / l, l > 0.0);
    for (var c = 0u; c < ${V4}u; c++) { out_st4(row * ${V4}u + c, o[c] * inv); }
    lse_st(row, select(-inf(), m + log(l), l > 0.0));
  }
}`;
  return {
    key: `attn-fwd-tiled:${featureKey(f)}:BC${BC}`,
    uniforms: ATTENTION_FIELDS,
    operands: [
      ...inputOperands(f).map((op) => (['q', 'k', 'v'].includes(op.name) ? { ...op, vec4: true } : op)),
      { name: 'out', dtype: 'f32', write: true, vec4: true },
      { name: 'lse', dtype: 'f32', write: true },
    ],
    workgroupSize: TILED_ROWS,
    body: `${commonWgsl(f)}${body}`,
  };
}
