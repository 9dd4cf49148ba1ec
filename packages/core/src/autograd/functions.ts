/**
 * The public, differentiable ops: each wraps the kernel-level op of `ops/` and records its backward
 * on the tape when an input requires grad (see engine.ts). Backward formulas are PyTorch's
 * (tools/autograd/derivatives.yaml); broadcast operands get their gradient summed back to their shape.
 */
import type { BlockSparseOptions, BlockSparseOutputs } from '../ops/attention/blocksparse.js';
import * as sparse from '../ops/attention/blocksparse.js';
import type { AttentionDetailedOptions, AttentionOptions, AttentionOutputs } from '../ops/attention/index.js';
import * as attn from '../ops/attention/index.js';
import type { LinearAttentionOptions } from '../ops/attention/linear.js';
import * as linear from '../ops/attention/linear.js';
import type { BinaryName, UnaryName } from '../ops/elementwise.js';
import * as ew from '../ops/elementwise.js';
import * as gather from '../ops/gather.js';
import * as layout from '../ops/layout.js';
import { matmul as matmulRaw } from '../ops/matmul.js';
import type { NormOptions } from '../ops/norm.js';
import * as norms from '../ops/norm.js';
import type { ReduceOptions } from '../ops/reduce.js';
import * as reduce from '../ops/reduce.js';
import * as sm from '../ops/softmax.js';
import { normalizeAxis, size } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { alias, record, sumTo } from './engine.js';

type Operand = Tensor | number;

/** Disposes the temporaries of a backward step and returns its result. */
function using<T>(temps: readonly (Tensor | null | undefined)[], result: T): T {
  for (const t of temps) t?.dispose();
  return result;
}

// ---- elementwise -------------------------------------------------------------------------------

export function unary(name: UnaryName, x: Tensor): Tensor {
  return record(
    name,
    [x],
    () => ew.unary(name, x),
    (save) => {
      const sx = save(x);
      return (gy) => [ew.unaryBackward(name, sx, gy)];
    },
  );
}

/** Gradient of a binary op for one operand: the table's expression, summed to the operand's shape. */
function binaryGrad(name: BinaryName, which: 0 | 1, a: Operand, b: Operand, gy: Tensor): Tensor {
  const row: ew.BinaryRow = ew.BINARY[name];
  const expr = (which === 0 ? row.da : row.db)?.wgsl;
  // pass-through gradients need no kernel
  const full =
    expr === 'x2' ? alias(gy) : expr === '-x2' ? ew.neg(gy) : ew.binaryBackward(name, which, a, b, gy);
  const operand = which === 0 ? a : b;
  return using([full], sumTo(full, typeof operand === 'number' ? [] : operand.shape));
}

export function binary(name: BinaryName, a: Operand, b: Operand): Tensor {
  if ('compare' in ew.BINARY[name]) return ew.binary(name, a, b); // comparisons carry no gradient
  return record(
    name,
    [a, b],
    () => ew.binary(name, a, b),
    (save) => {
      // add and sub pass the gradient through; the others read both operands
      const passThrough = name === 'add' || name === 'sub';
      const keep = (t: Operand) => (typeof t === 'number' || passThrough ? t : save(t));
      const [sa, sb] = [keep(a), keep(b)];
      return (gy, needs) => [
        needs[0] ? binaryGrad(name, 0, sa, sb, gy) : null,
        needs[1] ? binaryGrad(name, 1, sa, sb, gy) : null,
      ];
    },
  );
}

/** `cond ? a : b` elementwise with broadcasting (PyTorch `torch.where`); no gradient flows to cond. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  return record(
    'where',
    [a, b],
    () => ew.where(cond, a, b),
    (save) => {
      const sc = save(cond);
      const part = (t: Operand, picked: boolean, gy: Tensor) => {
        const full = picked ? ew.where(sc, gy, 0) : ew.where(sc, 0, gy);
        return using([full], sumTo(full, typeof t === 'number' ? [] : t.shape));
      };
      return (gy, needs) => [needs[0] ? part(a, true, gy) : null, needs[1] ? part(b, false, gy) : null];
    },
  );
}

/** Converts to `dtype`; gradients flow between float dtypes only. */
export function cast(x: Tensor, dtype: Parameters<typeof ew.cast>[1]): Tensor {
  if (dtype !== 'f32' && dtype !== 'f16') return ew.cast(x, dtype);
  return record(
    'cast',
    [x],
    () => ew.cast(x, dtype),
    () => (gy) => [ew.cast(gy, x.dtype)],
  );
}

/** A contiguous copy of `x`. */
export function copy(x: Tensor): Tensor {
  return record(
    'copy',
    [x],
    () => ew.copy(x),
    () => (gy) => [alias(gy)],
  );
}

export const neg = (x: Tensor) => unary('neg', x);
export const abs = (x: Tensor) => unary('abs', x);
export const exp = (x: Tensor) => unary('exp', x);
export const log = (x: Tensor) => unary('log', x);
export const sqrt = (x: Tensor) => unary('sqrt', x);
export const rsqrt = (x: Tensor) => unary('rsqrt', x);
export const tanh = (x: Tensor) => unary('tanh', x);
export const erf = (x: Tensor) => unary('erf', x);
export const relu = (x: Tensor) => unary('relu', x);
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
export const silu = (x: Tensor) => unary('silu', x);
export const square = (x: Tensor) => unary('square', x);
export const sin = (x: Tensor) => unary('sin', x);
export const cos = (x: Tensor) => unary('cos', x);
export const softplus = (x: Tensor) => unary('softplus', x);
/** GELU, exact (erf) or PyTorch's `approximate='tanh'`. */
export const gelu = (x: Tensor, opts: { approximate?: 'none' | 'tanh' } = {}) =>
  unary(opts.approximate === 'tanh' ? 'gelu_tanh' : 'gelu', x);

export const add = (a: Operand, b: Operand) => binary('add', a, b);
export const sub = (a: Operand, b: Operand) => binary('sub', a, b);
export const mul = (a: Operand, b: Operand) => binary('mul', a, b);
export const div = (a: Operand, b: Operand) => binary('div', a, b);
export const pow = (a: Operand, b: Operand) => binary('pow', a, b);
export const maximum = (a: Operand, b: Operand) => binary('maximum', a, b);
export const minimum = (a: Operand, b: Operand) => binary('minimum', a, b);

// ---- reductions ----------------------------------------------------------------------------------

type Axis = number | readonly number[] | undefined;

/** The reduced axes of `x` (every axis when `axis` is undefined). */
function reducedAxes(x: Tensor, axis: Axis): number[] {
  if (axis === undefined) return x.shape.map((_, i) => i);
  return (typeof axis === 'number' ? [axis] : [...axis]).map((a) => normalizeAxis('reduce', a, x.rank));
}

/** `y` (or its gradient) with the reduced axes put back as size 1, ready to broadcast against x. */
function keptShape(x: Tensor, axis: Axis): number[] {
  const axes = reducedAxes(x, axis);
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function reduction(
  kind: 'sum' | 'mean' | 'max' | 'min' | 'logsumexp',
  x: Tensor,
  axis: Axis,
  opts: ReduceOptions,
): Tensor {
  const forward = {
    sum: reduce.sum,
    mean: reduce.mean,
    max: reduce.max,
    min: reduce.min,
    logsumexp: reduce.logsumexp,
  }[kind];
  return record(
    kind,
    [x],
    () => forward(x, axis, opts),
    (save, out) => {
      const kept = keptShape(x, axis);
      const sx = kind === 'sum' || kind === 'mean' ? null : save(x);
      const sy = kind === 'sum' || kind === 'mean' ? null : save(out);
      return (gy) => {
        const g = gy.reshape(kept);
        if (kind === 'sum') return using([g], [g.expand(x.shape)]);
        if (kind === 'mean') {
          const spread = g.expand(x.shape);
          return using([g, spread], [ew.mul(spread, size(kept) / x.size)]);
        }
        const y = sy!.reshape(kept);
        if (kind === 'logsumexp') {
          // d/dx logsumexp = softmax(x) = exp(x - y)
          const shifted = ew.sub(sx!, y);
          const p = ew.exp(shifted);
          return using([g, y, shifted, p], [ew.mul(p, g)]);
        }
        // max / min: the gradient is shared evenly by the tied extreme values (PyTorch amax/amin)
        const same = ew.eq(sx!, y);
        const hit = ew.cast(same, 'f32');
        const ties = reduce.sum(hit, reducedAxes(x, axis), { keepdim: true });
        const share = ew.div(g, ties);
        return using([g, y, same, hit, ties, share], [ew.mul(hit, share)]);
      };
    },
  );
}

/** Sum over `axis` (a number, a list, or every axis when omitted). */
export const sum = (x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}) =>
  x.dtype === 'f32' || x.dtype === 'f16' ? reduction('sum', x, axis, opts) : reduce.sum(x, axis, opts);
export const mean = (x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}) =>
  reduction('mean', x, axis, opts);
export const max = (x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}) =>
  x.dtype === 'f32' || x.dtype === 'f16' ? reduction('max', x, axis, opts) : reduce.max(x, axis, opts);
export const min = (x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}) =>
  x.dtype === 'f32' || x.dtype === 'f16' ? reduction('min', x, axis, opts) : reduce.min(x, axis, opts);
/** log(sum(exp(x))) computed stably; rows of -inf give -inf. */
export const logsumexp = (x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}) =>
  reduction('logsumexp', x, axis, opts);

// ---- softmax, norms ----------------------------------------------------------------------------

/** Softmax along `axis` (default last), PyTorch `F.softmax(x, dim)`. */
export function softmax(x: Tensor, axis = -1): Tensor {
  return record(
    'softmax',
    [x],
    () => sm.softmax(x, axis),
    (save, out) => {
      const y = save(out);
      // dx = y * (gy - sum(gy * y))
      return (gy) => {
        const gyy = ew.mul(gy, y);
        const s = reduce.sum(gyy, axis, { keepdim: true });
        const d = ew.sub(gy, s);
        return using([gyy, s, d], [ew.mul(y, d)]);
      };
    },
  );
}

/** log-softmax along `axis` (default last). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return record(
    'logSoftmax',
    [x],
    () => sm.logSoftmax(x, axis),
    (save, out) => {
      const y = save(out);
      // dx = gy - exp(y) * sum(gy)
      return (gy) => {
        const s = reduce.sum(gy, axis, { keepdim: true });
        const p = ew.exp(y);
        const ps = ew.mul(p, s);
        return using([s, p, ps], [ew.sub(gy, ps)]);
      };
    },
  );
}

function normOp(
  kind: 'layer' | 'rms',
  x: Tensor,
  normalizedShape: readonly number[],
  opts: NormOptions,
): Tensor {
  const forward = kind === 'layer' ? norms.layerNorm : norms.rmsNorm;
  const weight = opts.weight ?? null;
  const bias = opts.bias ?? null;
  const eps = opts.eps ?? (kind === 'layer' ? 1e-5 : 1e-6);
  return record(
    kind === 'layer' ? 'layerNorm' : 'rmsNorm',
    [x, weight, bias],
    () => forward(x, normalizedShape, opts),
    (save) => {
      const sx = save(x);
      const sw = weight ? save(weight) : null;
      return (gy, needs) => {
        const { dx, gyXhat } = norms.normBackward(kind, sx, normalizedShape, gy, sw, eps);
        const dw = gyXhat && needs[1] ? reduce.sum(gyXhat, 0) : null;
        let db: Tensor | null = null;
        if (bias && needs[2]) {
          const rows = gy.reshape([-1, size(normalizedShape)]);
          db = using([rows], reduce.sum(rows, 0));
        }
        const shaped = (t: Tensor | null) => (t ? using([t], t.reshape(normalizedShape)) : null);
        gyXhat?.dispose();
        return [needs[0] ? dx : using([dx], null), shaped(dw), shaped(db)];
      };
    },
  );
}

/** Layer normalization over the trailing `normalizedShape` dims (PyTorch `F.layer_norm`). */
export const layerNorm = (x: Tensor, normalizedShape: readonly number[], opts: NormOptions = {}) =>
  normOp('layer', x, normalizedShape, opts);
/** RMS normalization over the trailing `normalizedShape` dims (PyTorch `F.rms_norm`). */
export const rmsNorm = (x: Tensor, normalizedShape: readonly number[], opts: NormOptions = {}) =>
  normOp('rms', x, normalizedShape, opts);

// ---- matmul, gather, layout ----------------------------------------------------------------------

/** `a @ b` (PyTorch `torch.matmul`: 1-D operands, batch broadcasting), f32. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return record(
    'matmul',
    [a, b],
    () => matmulRaw(a, b),
    (save) => {
      const sa = save(a);
      const sb = save(b);
      return (gy, needs) => {
        // 1-D operands become matrices so that both products are plain batched matmuls
        const a2 = a.rank === 1 ? sa.unsqueeze(0) : alias(sa);
        const b2 = b.rank === 1 ? sb.unsqueeze(-1) : alias(sb);
        let g = alias(gy);
        if (a.rank === 1) g = using([g], g.unsqueeze(-2));
        if (b.rank === 1) g = using([g], g.unsqueeze(-1));
        let da: Tensor | null = null;
        let db: Tensor | null = null;
        if (needs[0]) {
          const bt = b2.mT;
          const full = matmulRaw(g, bt);
          const summed = sumTo(full, a2.shape);
          da = using([bt, full, summed], summed.reshape(a.shape));
        }
        if (needs[1] && b2.rank === 2 && a2.rank > 2) {
          // a weight shared by every batch row (nn.Linear): one product over the folded rows
          const rows = a2.reshape([-1, a2.shape[a2.rank - 1]!]);
          const grows = g.reshape([-1, g.shape[g.rank - 1]!]);
          const at = rows.mT;
          const full = matmulRaw(at, grows);
          db = using([rows, grows, at, full], full.reshape(b.shape));
        } else if (needs[1]) {
          const at = a2.mT;
          const full = matmulRaw(at, g);
          const summed = sumTo(full, b2.shape);
          db = using([at, full, summed], summed.reshape(b.shape));
        }
        return using([a2, b2, g], [da, db]);
      };
    },
  );
}

/** Picks entries of `x` along `axis` at `indices`; gradients of repeated indices sum. */
export function indexSelect(x: Tensor, axis: number, indices: Tensor): Tensor {
  return record(
    'indexSelect',
    [x],
    () => gather.indexSelect(x, axis, indices),
    (save) => {
      const si = save(indices);
      return (gy) => [gather.indexAdd(x.shape, axis, si, gy)];
    },
  );
}

/** Rows of `weight` [numEmbeddings, dim] for integer `ids` of any shape: [...ids.shape, dim]. */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  return record(
    'embedding',
    [weight],
    () => gather.embedding(weight, ids),
    (save) => {
      const si = save(ids);
      return (gy) => [gather.indexAdd(weight.shape, 0, si, gy)];
    },
  );
}

/** Joins tensors along `axis` (PyTorch `torch.cat`). */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  return record(
    'concat',
    tensors,
    () => layout.concat(tensors, axis),
    () => (gy, needs) => {
      const a = normalizeAxis('concat', axis, gy.rank);
      let start = 0;
      return tensors.map((t, i) => {
        const len = t.shape[a]!;
        start += len;
        return needs[i] ? gy.slice(a, start - len, start) : null;
      });
    },
  );
}

/** Pads with a constant in PyTorch `F.pad` order; negative pads crop. */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  // the adjoint of padding is padding by the negated amounts (crop what was added, zero what was cut)
  return record(
    'pad',
    [x],
    () => layout.pad(x, pads, value),
    () => (gy) => [
      layout.pad(
        gy,
        pads.map((p) => -p),
        0,
      ),
    ],
  );
}

// ---- attention -------------------------------------------------------------------------------------

/** Attention with backward from the saved output and log-sum-exp (FlashAttention-2); see `attention`. */
function attentionRecorded(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: AttentionDetailedOptions,
): AttentionOutputs {
  let lse: Tensor | null = null;
  let weights: Tensor | null = null;
  const bias = opts.bias ?? null;
  const out = record(
    'attention',
    [q, k, v, bias],
    () => {
      const r = attn.attention.detailed(q, k, v, opts);
      lse = r.lse;
      weights = r.weights;
      return r.out;
    },
    (save, o) => {
      const [sq, sk, sv, so, sl] = [save(q), save(k), save(v), save(o), save(lse!)];
      const sopts: AttentionOptions = { ...opts };
      for (const key of ['bias', 'mask'] as const) if (opts[key]) sopts[key] = save(opts[key]);
      return (gy) => {
        const g = attn.attentionBackward(sq, sk, sv, so, sl, gy, sopts);
        return [g.dq, g.dk, g.dv, g.dbias];
      };
    },
  );
  return { out, lse: lse!, weights };
}

/**
 * Scaled-dot-product attention: softmax(q·kᵀ·scale (+ mods), masked) · v. q [B, H, Nq, D],
 * k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv]; differentiable in q, k, v and `bias`. See `AttentionOptions`.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const { out, lse } = attentionRecorded(q, k, v, opts);
  lse.dispose();
  return out;
}

/** Attention with its log-sum-exp and, on request, the weights (neither is differentiable). */
attention.detailed = (
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: AttentionDetailedOptions = {},
): AttentionOutputs => attentionRecorded(q, k, v, opts);

/** Linear attention (Katharopoulos et al. 2020), differentiable in q, k and v. */
export function linearAttention(q: Tensor, k: Tensor, v: Tensor, opts: LinearAttentionOptions): Tensor {
  return record(
    'linearAttention',
    [q, k, v],
    () => linear.linearAttention(q, k, v, opts),
    (save) => {
      const [sq, sk, sv] = [save(q), save(k), save(v)];
      return (gy) => {
        const g = linear.linearAttentionBackward(sq, sk, sv, gy, opts);
        return [g.dq, g.dk, g.dv];
      };
    },
  );
}

function blockSparseRecorded(
  op: string,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: BlockSparseOptions,
): BlockSparseOutputs {
  let lse: Tensor | null = null;
  const out = record(
    'blockSparseAttention',
    [q, k, v],
    () => {
      const r = sparse.blockSparseForward(op, q, k, v, opts);
      lse = r.lse;
      return r.out;
    },
    (save, o) => {
      const [sq, sk, sv, so, sl] = [save(q), save(k), save(v), save(o), save(lse!)];
      return (gy) => {
        const g = sparse.blockSparseAttentionBackward(sq, sk, sv, so, sl, gy, opts);
        return [g.dq, g.dk, g.dv];
      };
    },
  );
  return { out, lse: lse! };
}

/** Block-sparse attention (see `BlockSparseOptions`), differentiable in q, k and v. */
export function blockSparseAttention(q: Tensor, k: Tensor, v: Tensor, opts: BlockSparseOptions): Tensor {
  const { out, lse } = blockSparseRecorded('blockSparseAttention', q, k, v, opts);
  lse.dispose();
  return out;
}

/** Block-sparse attention with its log-sum-exp (only `out` is differentiable). */
blockSparseAttention.detailed = (
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: BlockSparseOptions,
): BlockSparseOutputs => blockSparseRecorded('blockSparseAttention.detailed', q, k, v, opts);
