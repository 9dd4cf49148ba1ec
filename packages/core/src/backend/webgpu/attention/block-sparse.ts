/**
 * Block-sparse attention on WebGPU: one invocation per query row streams only the key blocks its
 * query block's CSR row lists (Sparse Transformer, BigBird; flash-style online softmax).
 */
import { copyOf } from '../../../kernels/map.js';
import type { KernelSignatures } from '../../../kernels/signatures.js';
import type { Tensor } from '../../../tensor.js';
import { blockSparseHeadBucket } from '../heuristics.js';
import { type KernelSpec, MAIN } from '../shader.js';
import { BHN_STRIDES, bhnStrides, type Field, u32Fields } from '../uniforms.js';
import { KV_HEAD_BASES, QUERY_TILE_HEAD } from './features.js';

const BLOCK_SPARSE_FIELDS: Field[] = [
  ['B', 'u32'],
  ['H', 'u32'],
  ['Nq', 'u32'],
  ['Nk', 'u32'],
  ['D', 'u32'],
  ['Dv', 'u32'],
  ['group', 'u32'],
  ['tiles', 'u32'],
  ['bs', 'u32'],
  ['nqb', 'u32'],
  ['causal', 'u32'],
  ['shift', 'i32'],
  ['scale', 'f32'],
  ...['q', 'k', 'v'].flatMap((p) => u32Fields(p, BHN_STRIDES)),
];

/**
 * One invocation per query row (a workgroup holds WG consecutive rows of one (b, h), so its lanes
 * mostly walk the same block list): q and the output accumulator in registers, the allowed key
 * blocks streamed from the CSR layout with an online softmax (Milakov & Gimelshein; FlashAttention-2
 * Alg. 1 with one row per invocation).
 */
export function blockSparseSpec(bucket: number): KernelSpec {
  return {
    key: `bsattn-fwd:${bucket}`,
    uniforms: BLOCK_SPARSE_FIELDS,
    operands: [
      { name: 'q', dtype: 'f32' },
      { name: 'k', dtype: 'f32' },
      { name: 'v', dtype: 'f32' },
      { name: 'blocks', dtype: 'i32' },
      { name: 'out', dtype: 'f32', write: true },
      { name: 'lse', dtype: 'f32', write: true },
    ],
    workgroupSize: 64,
    body: `
${MAIN}
${QUERY_TILE_HEAD}
  let i = (w % u.tiles) * WG + li;
  if (b >= u.B || i >= u.Nq) { return; }
  let qo = u.q_off + b * u.q_sb + h * u.q_sh + i * u.q_sn;
${KV_HEAD_BASES}
  var q: array<f32, ${bucket}>;
  var acc: array<f32, ${bucket}>;
  for (var d = 0u; d < u.D; d++) { q[d] = q_ld(qo + d) * u.scale; }
  for (var d = 0u; d < u.Dv; d++) { acc[d] = 0.0; }
  var m = -inf();
  var l = 0.0;
  // keys j < hi are visible under the causal alignment
  let hi = select(u.Nk, u32(clamp(i32(i) + u.shift + 1, 0, i32(u.Nk))), u.causal != 0u);
  let qblock = i / u.bs;
  let p1 = u32(blocks_ld(qblock + 1u));
  for (var p = u32(blocks_ld(qblock)); p < p1; p++) {
    let j0 = u32(blocks_ld(u.nqb + 1u + p)) * u.bs;
    let j1 = min(j0 + u.bs, hi);
    for (var j = j0; j < j1; j++) {
      let ko = kb + j * u.k_sn;
      var s = 0.0;
      for (var d = 0u; d < u.D; d++) { s = fma(q[d], k_ld(ko + d), s); }
      if (s > m) {
        // rescale what was accumulated under the old max
        let alpha = exp(m - s);
        for (var d = 0u; d < u.Dv; d++) { acc[d] *= alpha; }
        l *= alpha;
        m = s;
      }
      let pj = exp(s - m);
      l += pj;
      let vo = vb + j * u.v_sn;
      for (var d = 0u; d < u.Dv; d++) { acc[d] = fma(pj, v_ld(vo + d), acc[d]); }
    }
  }
  let row = (b * u.H + h) * u.Nq + i;
  // a row with no visible key gives zeros and lse = -inf, never NaN
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var d = 0u; d < u.Dv; d++) { out_st(row * u.Dv + d, acc[d] * inv); }
  lse_st(row, select(-inf(), m + log(l), l > 0.0));
}`,
  };
}

const ROWS_PER_WORKGROUP = 64;

export function blockSparseWebGpu({ r, q, k, v }: KernelSignatures['BlockSparseAttention']['args']): {
  out: Tensor;
  lse: Tensor;
} {
  const device = q.device;
  const gpu = device.gpu!;
  const made: Tensor[] = [];
  const own = (t: Tensor) => {
    if (t.strides[3] === 1 || t.shape[3] === 1) return t;
    const c = copyOf(t);
    made.push(c);
    return c;
  };
  const [qc, kc, vc] = [own(q), own(k), own(v)] as [Tensor, Tensor, Tensor];
  const blocks = device.tensor(r.blocks, [r.blocks.length], { dtype: 'i32' });
  made.push(blocks);
  try {
    const out = device.empty([r.B, r.H, r.Nq, r.Dv], 'f32');
    const lse = device.empty([r.B, r.H, r.Nq], 'f32');
    const tiles = Math.ceil(r.Nq / ROWS_PER_WORKGROUP);
    const values = {
      B: r.B,
      H: r.H,
      Nq: r.Nq,
      Nk: r.Nk,
      D: r.D,
      Dv: r.Dv,
      group: r.H / r.Hkv,
      tiles,
      bs: r.bs,
      nqb: r.nqb,
      causal: r.causal ? 1 : 0,
      shift: r.shift,
      scale: r.scale,
      ...bhnStrides('q', qc),
      ...bhnStrides('k', kc),
      ...bhnStrides('v', vc),
    };
    const buffers = [qc, kc, vc, blocks, out, lse].map((t) => t.storage.buffer!);
    gpu.run(blockSparseSpec(blockSparseHeadBucket(r.D, r.Dv)), buffers, values, r.B * r.H * tiles);
    return { out, lse };
  } finally {
    for (const t of made) t.dispose();
  }
}
