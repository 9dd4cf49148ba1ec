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
import { fail } from '../../errors.js';
import {
  type AttentionGrads,
  attentionShape,
  type CausalAlignment,
  type MaskMod,
} from '../../kernels/attention.js';
import type { ResolvedBlockSparse } from '../../kernels/block-sparse.js';
import { runKernel } from '../../kernels/registry.js';
import type { Tensor } from '../../tensor.js';
import { attentionBackward } from './index.js';
import { resolveAttention } from './options.js';

export { blockLayouts } from './block-layouts.js';

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

export function resolveBlockSparse(
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
    ...attentionShape(r),
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

/**
 * Block-sparse attention's forward with each row's log-sum-exp, not recorded by autograd (the public,
 * differentiable `blockSparseAttention` wraps it); `op` names the caller in errors.
 */
export function blockSparseForward(
  op: string,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: BlockSparseOptions,
): BlockSparseOutputs {
  const r = resolveBlockSparse(op, q, k, v, opts);
  return runKernel('BlockSparseAttention', q.device, { r, q, k, v });
}

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
