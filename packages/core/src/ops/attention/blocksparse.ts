/**
 * Block-sparse attention: softmax attention in which query block qb (rows qb·bs .. qb·bs + bs - 1)
 * attends only to the key blocks its layout lists, and within them, with `causal`, only to keys
 * j <= i (top-left) or j <= i + Nk - Nq (bottom-right). Layout [B, H, N, D] and GQA as `attention`.
 * Same result as `attention(q, k, v, { mask, causal })` with the block mask expanded, at a cost
 * proportional to the listed blocks: the kernel is flash-style (per query row, only the allowed key
 * blocks are streamed with an online softmax; lse is kept), so memory stays linear in N.
 * Rows with no allowed key give zeros and lse = -inf, never NaN.
 *
 * One layout serves every batch and head (Sparse Transformer, Child et al. 2019; BigBird, Zaheer et
 * al. 2020). The backward (`blockSparseAttentionBackward`) is exact but not yet sparse: it runs the
 * fused attention backward with the layout as a mask.
 */
import type { Field } from '../../backend/uniforms.js';
import type { KernelSpec } from '../../backend/webgpu.js';
import { gatherStrided } from '../../device.js';
import { fail } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { copy } from '../elementwise.js';
import { type AttentionGrads, attentionBackward } from './index.js';
import { type CausalAlignment, type MaskMod, resolveAttention } from './options.js';

/**
 * Which key blocks each query block attends to: a list of [qBlock, kBlock] pairs (duplicates are
 * fine), or a row-major [Nq / blockSize, Nk / blockSize] mask of 0/1 (1 = attend).
 */
export type BlockLayout = ReadonlyArray<readonly [number, number]> | Uint8Array;

export interface BlockSparseOptions {
  /** Rows per query block and keys per key block; Nq and Nk must be multiples of it. */
  blockSize: number;
  layout: BlockLayout;
  /**
   * `true` or 'top-left' (PyTorch `is_causal`): key j visible from query i iff j <= i, inside the
   * allowed blocks. 'bottom-right' (FlashAttention): iff j <= i + Nk - Nq.
   */
  causal?: boolean | CausalAlignment;
  /** Multiplies q·k; default 1/sqrt(D). */
  scale?: number;
}

export interface BlockSparseOutputs {
  /** [B, H, Nq, Dv] */
  out: Tensor;
  /** log-sum-exp of each row's visible scores [B, H, Nq]; -inf for rows with no visible key. */
  lse: Tensor;
}

// ---- layouts ------------------------------------------------------------------------------------

const checkCount = (op: string, name: string, x: unknown, min: number) => {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min) {
    fail('INVALID_ARGUMENT', `${op}: ${name} must be an integer >= ${min}, got ${JSON.stringify(x)}`);
  }
};

/** Square layouts over nBlocks x nBlocks blocks (row-major Uint8Array, 1 = attend), for self-attention. */
export const blockLayouts = {
  /** Banded: query block qb sees key blocks kb with |qb - kb| <= width (add `causal` for the lower half). */
  local(nBlocks: number, width: number): Uint8Array {
    checkCount('blockLayouts.local', 'nBlocks', nBlocks, 1);
    checkCount('blockLayouts.local', 'width', width, 0);
    return grid(nBlocks, (qb, kb) => Math.abs(qb - kb) <= width);
  },
  /**
   * Sparse Transformer "strided" pattern (Child et al. 2019) at block level, both of its heads in one
   * layout: the `stride` - 1 neighbouring blocks on each side (|qb - kb| < stride) and every stride-th
   * block (|qb - kb| % stride == 0). The paper's pattern is autoregressive: use it with `causal: true`.
   */
  strided(nBlocks: number, stride: number): Uint8Array {
    checkCount('blockLayouts.strided', 'nBlocks', nBlocks, 1);
    checkCount('blockLayouts.strided', 'stride', stride, 1);
    return grid(nBlocks, (qb, kb) => Math.abs(qb - kb) < stride || Math.abs(qb - kb) % stride === 0);
  },
  /**
   * BigBird (Zaheer et al. 2020), block version: a window of `window` blocks on each side (default 1,
   * BigBird's 3 sliding blocks), `global` first blocks that attend to and are seen by every block
   * (default 1), and `random` extra key blocks per query block (default 1), drawn without replacement
   * among the blocks not already allowed, reproducibly from `seed` (default 0).
   */
  bigBird(
    nBlocks: number,
    opts: { window?: number; global?: number; random?: number; seed?: number } = {},
  ): Uint8Array {
    const op = 'blockLayouts.bigBird';
    const { window = 1, global = 1, random = 1, seed = 0 } = opts;
    checkCount(op, 'nBlocks', nBlocks, 1);
    checkCount(op, 'window', window, 0);
    checkCount(op, 'global', global, 0);
    checkCount(op, 'random', random, 0);
    checkCount(op, 'seed', seed, 0);
    const layout = grid(nBlocks, (qb, kb) => Math.abs(qb - kb) <= window || qb < global || kb < global);
    let s = (seed ^ 0x9e3779b9) >>> 0 || 1; // xorshift32
    const next = () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) / 4294967296;
    };
    for (let qb = 0; qb < nBlocks; qb++) {
      const free: number[] = [];
      for (let kb = 0; kb < nBlocks; kb++) if (!layout[qb * nBlocks + kb]) free.push(kb);
      for (let n = 0; n < random && free.length > 0; n++) {
        const pick = Math.floor(next() * free.length);
        layout[qb * nBlocks + free[pick]!] = 1;
        free.splice(pick, 1);
      }
    }
    return layout;
  },
};

function grid(n: number, allowed: (qb: number, kb: number) => boolean): Uint8Array {
  const out = new Uint8Array(n * n);
  for (let qb = 0; qb < n; qb++) for (let kb = 0; kb < n; kb++) out[qb * n + kb] = allowed(qb, kb) ? 1 : 0;
  return out;
}

// ---- options ------------------------------------------------------------------------------------

interface ResolvedBlockSparse {
  B: number;
  H: number;
  Hkv: number;
  Nq: number;
  Nk: number;
  D: number;
  Dv: number;
  scale: number;
  causal: boolean;
  /** key j visible from query i iff j <= i + shift (when causal) */
  shift: number;
  bs: number;
  nqb: number;
  nkb: number;
  /** The layout as a row-major [nqb, nkb] 0/1 mask. */
  mask: Uint8Array;
  /** CSR of the layout: row pointers [nqb + 1], then the sorted key blocks of each query block. */
  blocks: Int32Array;
}

function resolveBlockSparse(
  op: string,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: BlockSparseOptions,
): ResolvedBlockSparse {
  const o = (opts ?? {}) as Partial<BlockSparseOptions>;
  const r = resolveAttention(op, q, k, v, {
    ...(o.causal !== undefined ? { causal: o.causal } : {}),
    ...(o.scale !== undefined ? { scale: o.scale } : {}),
  });
  const bs = o.blockSize;
  if (typeof bs !== 'number' || !Number.isInteger(bs) || bs < 1) {
    fail('INVALID_ARGUMENT', `${op}: blockSize must be a positive integer, got ${JSON.stringify(bs)}`);
  }
  for (const [name, n] of [
    ['Nq', r.Nq],
    ['Nk', r.Nk],
  ] as const) {
    if (n % bs !== 0) {
      fail(
        'SHAPE_MISMATCH',
        `${op}: ${name} = ${n} is not divisible by blockSize = ${bs}; pad the sequence to a multiple of ${bs} (q ${fmtShape(q)}, k ${fmtShape(k)})`,
      );
    }
  }
  const nqb = r.Nq / bs;
  const nkb = r.Nk / bs;
  const mask = layoutMask(op, o.layout, nqb, nkb, bs, r.Nq, r.Nk);
  const counts = new Int32Array(nqb + 1);
  for (let qb = 0; qb < nqb; qb++) {
    let c = 0;
    for (let kb = 0; kb < nkb; kb++) c += mask[qb * nkb + kb]!;
    counts[qb + 1] = counts[qb]! + c;
  }
  const blocks = new Int32Array(nqb + 1 + counts[nqb]!);
  blocks.set(counts);
  let p = nqb + 1;
  for (let qb = 0; qb < nqb; qb++) for (let kb = 0; kb < nkb; kb++) if (mask[qb * nkb + kb]) blocks[p++] = kb;
  return {
    B: r.B,
    H: r.H,
    Hkv: r.Hkv,
    Nq: r.Nq,
    Nk: r.Nk,
    D: r.D,
    Dv: r.Dv,
    scale: r.scale,
    causal: r.causal !== 'none',
    shift: r.shift,
    bs,
    nqb,
    nkb,
    mask,
    blocks,
  };
}

const fmtShape = (t: Tensor) => `[${t.shape.join(', ')}]`;

/** The layout as a [nqb, nkb] 0/1 mask, every entry checked. */
function layoutMask(
  op: string,
  layout: unknown,
  nqb: number,
  nkb: number,
  bs: number,
  Nq: number,
  Nk: number,
): Uint8Array {
  const expected = `a Uint8Array block mask of Nq / blockSize x Nk / blockSize = ${nqb} x ${nkb} entries, or an array of [qBlock, kBlock] pairs`;
  if (layout instanceof Uint8Array) {
    if (layout.length !== nqb * nkb) {
      fail(
        'SHAPE_MISMATCH',
        `${op}: layout has ${layout.length} entries; expected ${expected} (Nq = ${Nq}, Nk = ${Nk}, blockSize = ${bs})`,
      );
    }
    const bad = layout.findIndex((x) => x > 1);
    if (bad >= 0) fail('INVALID_ARGUMENT', `${op}: layout[${bad}] = ${layout[bad]}; expected 0 or 1`);
    return layout;
  }
  if (!Array.isArray(layout)) {
    const got =
      layout === null || typeof layout !== 'object' ? JSON.stringify(layout) : layout.constructor.name;
    fail('INVALID_ARGUMENT', `${op}: layout must be ${expected}, got ${got}`);
  }
  const mask = new Uint8Array(nqb * nkb);
  layout.forEach((pair: unknown, n) => {
    const ok =
      Array.isArray(pair) &&
      pair.length === 2 &&
      pair.every((x) => typeof x === 'number' && Number.isInteger(x));
    if (!ok) {
      fail(
        'INVALID_ARGUMENT',
        `${op}: layout[${n}] = ${JSON.stringify(pair)}; expected a pair of integers [qBlock, kBlock]`,
      );
    }
    const [qb, kb] = pair as [number, number];
    if (qb < 0 || qb >= nqb) {
      fail(
        'INDEX_OUT_OF_RANGE',
        `${op}: layout[${n}] = [${qb}, ${kb}]: query block ${qb} is out of range [0, ${nqb}) (Nq = ${Nq}, blockSize = ${bs})`,
      );
    }
    if (kb < 0 || kb >= nkb) {
      fail(
        'INDEX_OUT_OF_RANGE',
        `${op}: layout[${n}] = [${qb}, ${kb}]: key block ${kb} is out of range [0, ${nkb}) (Nk = ${Nk}, blockSize = ${bs})`,
      );
    }
    mask[qb * nkb + kb] = 1;
  });
  return mask;
}

// ---- WebGPU -------------------------------------------------------------------------------------

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
];

/** Head dims are uniforms; only the register arrays' size is baked, in three buckets (few pipelines). */
export const headDimBucket = (D: number, Dv: number) => {
  const m = Math.max(D, Dv);
  return m <= 64 ? 64 : m <= 128 ? 128 : 256;
};

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
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let w = workgroupIndex(wg, nwg);
  let bh = w / u.tiles;
  let b = bh / u.H;
  let h = bh % u.H;
  let hk = h / u.group;
  let i = (w % u.tiles) * WG + li;
  if (b >= u.B || i >= u.Nq) { return; }
  let qo = u.q_off + b * u.q_sb + h * u.q_sh + i * u.q_sn;
  let kb = u.k_off + b * u.k_sb + hk * u.k_sh;
  let vb = u.v_off + b * u.v_sb + hk * u.v_sh;
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

function blockSparseGpu(r: ResolvedBlockSparse, q: Tensor, k: Tensor, v: Tensor): BlockSparseOutputs {
  const device = q.device;
  const gpu = device.gpu!;
  const made: Tensor[] = [];
  const own = (t: Tensor) => {
    if (t.strides[3] === 1 || t.shape[3] === 1) return t;
    const c = copy(t);
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
    const strides = (p: string, t: Tensor) => ({
      [`${p}_off`]: t.offset,
      [`${p}_sb`]: t.strides[0]!,
      [`${p}_sh`]: t.strides[1]!,
      [`${p}_sn`]: t.strides[2]!,
    });
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
      ...strides('q', qc),
      ...strides('k', kc),
      ...strides('v', vc),
    };
    const buffers = [qc, kc, vc, blocks, out, lse].map((t) => t.storage.buffer!);
    gpu.run(blockSparseSpec(headDimBucket(r.D, r.Dv)), buffers, values, r.B * r.H * tiles);
    return { out, lse };
  } finally {
    for (const t of made) t.dispose();
  }
}

// ---- CPU reference ------------------------------------------------------------------------------

function blockSparseCpu(r: ResolvedBlockSparse, q: Tensor, k: Tensor, v: Tensor): BlockSparseOutputs {
  const { B, H, Hkv, Nq, Nk, D, Dv, bs, nqb, blocks } = r;
  const host = (t: Tensor) =>
    gatherStrided(t.storage.array!, t.dtype, t.shape, t.strides, t.offset) as Float32Array;
  const [qh, kh, vh] = [host(q), host(k), host(v)];
  const out = new Float32Array(B * H * Nq * Dv);
  const lse = new Float32Array(B * H * Nq);
  const scores = new Float64Array(Nk);
  const keys = new Int32Array(Nk);
  const acc = new Float64Array(Dv);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / (H / Hkv));
      for (let i = 0; i < Nq; i++) {
        const row = (b * H + h) * Nq + i;
        const hi = r.causal ? Math.max(0, Math.min(Nk, i + r.shift + 1)) : Nk;
        const qb = Math.floor(i / bs);
        let n = 0;
        let m = Number.NEGATIVE_INFINITY;
        for (let p = blocks[qb]!; p < blocks[qb + 1]!; p++) {
          const j0 = blocks[nqb + 1 + p]! * bs;
          for (let j = j0; j < Math.min(j0 + bs, hi); j++) {
            let dot = 0;
            for (let d = 0; d < D; d++) dot += qh[row * D + d]! * kh[((b * Hkv + hk) * Nk + j) * D + d]!;
            scores[n] = dot * r.scale;
            keys[n++] = j;
            m = Math.max(m, dot * r.scale);
          }
        }
        if (n === 0) {
          lse[row] = Number.NEGATIVE_INFINITY; // out stays zeros
          continue;
        }
        acc.fill(0);
        let l = 0;
        for (let t = 0; t < n; t++) {
          const p = Math.exp(scores[t]! - m);
          l += p;
          const vo = ((b * Hkv + hk) * Nk + keys[t]!) * Dv;
          for (let d = 0; d < Dv; d++) acc[d]! += p * vh[vo + d]!;
        }
        for (let d = 0; d < Dv; d++) out[row * Dv + d] = acc[d]! / l;
        lse[row] = m + Math.log(l);
      }
    }
  const device = q.device;
  return { out: device.tensor(out, [B, H, Nq, Dv]), lse: device.tensor(lse, [B, H, Nq]) };
}

// ---- public API ---------------------------------------------------------------------------------

/** The forward with `op` naming the caller in errors (autograd's wrapper calls it). */
export function blockSparseForward(
  op: string,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: BlockSparseOptions,
): BlockSparseOutputs {
  const r = resolveBlockSparse(op, q, k, v, opts);
  return q.device.gpu ? blockSparseGpu(r, q, k, v) : blockSparseCpu(r, q, k, v);
}

/**
 * Block-sparse softmax attention: q [B, H, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv] ->
 * [B, H, Nq, Dv], where query block qb sees only the key blocks `layout` lists (see
 * `BlockSparseOptions`, `blockLayouts`). Forward only.
 */
export function blockSparseAttention(q: Tensor, k: Tensor, v: Tensor, opts: BlockSparseOptions): Tensor {
  const { out, lse } = blockSparseForward('blockSparseAttention', q, k, v, opts);
  lse.dispose();
  return out;
}

/** Block-sparse attention with each row's log-sum-exp. */
blockSparseAttention.detailed = (
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: BlockSparseOptions,
): BlockSparseOutputs => blockSparseForward('blockSparseAttention.detailed', q, k, v, opts);

/**
 * The layout as an attention maskMod: query i sees key j iff layout[i / bs, j / bs] (a [nqb, nkb] table
 * and [bs, nkb] travel as tensors, so one pipeline serves every layout and block size).
 */
function layoutMaskMod(r: ResolvedBlockSparse, device: Tensor['device']): MaskMod {
  return {
    name: 'blockLayout',
    wgsl: 'layout_ld((i / u32(geom_ld(0u))) * u32(geom_ld(1u)) + j / u32(geom_ld(0u))) != 0.0',
    ts: (_b, _h, i, j, t) => t.layout![Math.floor(i / r.bs) * r.nkb + Math.floor(j / r.bs)] !== 0,
    tensors: {
      layout: device.tensor(Float32Array.from(r.mask), [r.mask.length]),
      geom: device.tensor(new Float32Array([r.bs, r.nkb]), [2]),
    },
  };
}

/**
 * Gradients of sum(blockSparseAttention(q, k, v, opts) ∘ dout) for q, k and v, from the forward's
 * `out` and `lse`. Exact (equal to the dense-masked gradient), but its cost is that of dense attention
 * backward: it runs the fused backward with the layout as a mask, so blocks outside the layout are
 * masked rather than skipped. Memory stays linear in N.
 */
export function blockSparseAttentionBackward(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  out: Tensor,
  lse: Tensor,
  dout: Tensor,
  opts: BlockSparseOptions,
): Omit<AttentionGrads, 'dbias'> {
  const r = resolveBlockSparse('blockSparseAttentionBackward', q, k, v, opts);
  const maskMod = layoutMaskMod(r, q.device);
  try {
    const g = attentionBackward(q, k, v, out, lse, dout, {
      maskMod,
      scale: r.scale,
      ...(opts.causal !== undefined ? { causal: opts.causal } : {}),
    });
    return { dq: g.dq, dk: g.dk, dv: g.dv };
  } finally {
    for (const t of Object.values(maskMod.tensors!)) t.dispose();
  }
}
