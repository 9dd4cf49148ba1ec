/**
 * The public, differentiable attention ops. Each kernel-level forward returns its output with the
 * log-sum-exp its backward needs; `savedLseOp` records that once for all of them (FlashAttention-2:
 * backward recomputes the probabilities from the saved lse, so no N x N buffer is kept), and gives the
 * op its `.detailed` twin that also returns lse (and any other outputs, never differentiable).
 */

import type { BlockSparseOptions, BlockSparseOutputs } from '../ops/attention/blocksparse.js';
import { blockSparseAttentionBackward, blockSparseForward } from '../ops/attention/blocksparse.js';
import type { AttentionDetailedOptions, AttentionOptions, AttentionOutputs } from '../ops/attention/index.js';
import { attentionBackward, attentionForward } from '../ops/attention/index.js';
import type { LinearAttentionOptions } from '../ops/attention/linear.js';
import { linearAttentionBackward, linearAttentionForward } from '../ops/attention/linear.js';
import type { Tensor } from '../tensor.js';
import { record, type Save } from './engine.js';

/** What backward gets: the saved inputs, output and lse (untracked views that survive `tidy`). */
interface SavedAttention {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  out: Tensor;
  lse: Tensor;
}

interface SavedLseOp<Opts, DetailedOpts extends Opts, Outputs extends { out: Tensor; lse: Tensor }> {
  (q: Tensor, k: Tensor, v: Tensor, opts: Opts): Tensor;
  detailed(q: Tensor, k: Tensor, v: Tensor, opts: DetailedOpts): Outputs;
}

/**
 * A differentiable op from a forward returning `{ out, lse, ... }` (`op` names the caller in errors)
 * and a backward from the saved tensors: only `out` is recorded; lse and the other outputs are
 * detached. `extra(opts)` lists further tensors that receive gradients (attention's bias), and
 * `saveOpts` keeps the tensors inside the options alive for backward.
 */
function savedLseOp<Opts, DetailedOpts extends Opts, Outputs extends { out: Tensor; lse: Tensor }>(
  name: string,
  forward: (op: string, q: Tensor, k: Tensor, v: Tensor, opts: DetailedOpts) => Outputs,
  backward: (saved: SavedAttention, gy: Tensor, opts: Opts) => readonly (Tensor | null)[],
  extra: (opts: Opts) => readonly (Tensor | null)[] = () => [],
  saveOpts: (opts: Opts, save: Save) => Opts = (opts) => opts,
): SavedLseOp<Opts, DetailedOpts, Outputs> {
  const run = (op: string, q: Tensor, k: Tensor, v: Tensor, opts: DetailedOpts): Outputs => {
    let outputs: Outputs | null = null;
    const out = record(
      name,
      [q, k, v, ...extra(opts)],
      () => {
        outputs = forward(op, q, k, v, opts);
        return outputs.out;
      },
      (save, o) => {
        const saved = { q: save(q), k: save(k), v: save(v), out: save(o), lse: save(outputs!.lse) };
        const savedOpts = saveOpts(opts, save);
        return (gy) => backward(saved, gy, savedOpts);
      },
    );
    return { ...outputs!, out };
  };
  const plain = (q: Tensor, k: Tensor, v: Tensor, opts: Opts): Tensor => {
    const { out, ...rest } = run(name, q, k, v, opts as DetailedOpts);
    for (const t of Object.values(rest)) (t as Tensor | null)?.dispose();
    return out;
  };
  return Object.assign(plain, {
    detailed: (q: Tensor, k: Tensor, v: Tensor, opts: DetailedOpts) => run(`${name}.detailed`, q, k, v, opts),
  });
}

const fusedAttention = savedLseOp<AttentionOptions, AttentionDetailedOptions, AttentionOutputs>(
  'attention',
  attentionForward,
  (s, gy, opts) => {
    const g = attentionBackward(s.q, s.k, s.v, s.out, s.lse, gy, opts);
    return [g.dq, g.dk, g.dv, g.dbias];
  },
  (opts) => [opts.bias ?? null],
  (opts, save) => {
    const saved: AttentionOptions = { ...opts };
    for (const key of ['bias', 'mask'] as const) if (opts[key]) saved[key] = save(opts[key]);
    return saved;
  },
);

/**
 * Scaled-dot-product attention: softmax(q·kᵀ·scale (+ mods), masked) · v. q [B, H, Nq, D],
 * k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv]; differentiable in q, k, v and `bias`. See `AttentionOptions`.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  return fusedAttention(q, k, v, opts);
}

/** Attention with its log-sum-exp and, on request, the weights (neither is differentiable). */
attention.detailed = (
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: AttentionDetailedOptions = {},
): AttentionOutputs => fusedAttention.detailed(q, k, v, opts);

const sparseAttention = savedLseOp<BlockSparseOptions, BlockSparseOptions, BlockSparseOutputs>(
  'blockSparseAttention',
  blockSparseForward,
  (s, gy, opts) => {
    const g = blockSparseAttentionBackward(s.q, s.k, s.v, s.out, s.lse, gy, opts);
    return [g.dq, g.dk, g.dv];
  },
);

/** Block-sparse attention (see `BlockSparseOptions`), differentiable in q, k and v. */
export function blockSparseAttention(q: Tensor, k: Tensor, v: Tensor, opts: BlockSparseOptions): Tensor {
  return sparseAttention(q, k, v, opts);
}

/** Block-sparse attention with its log-sum-exp (only `out` is differentiable). */
blockSparseAttention.detailed = (
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: BlockSparseOptions,
): BlockSparseOutputs => sparseAttention.detailed(q, k, v, opts);

/** Linear attention (Katharopoulos et al. 2020), differentiable in q, k and v. */
export function linearAttention(q: Tensor, k: Tensor, v: Tensor, opts: LinearAttentionOptions): Tensor {
  return record(
    'linearAttention',
    [q, k, v],
    () => linearAttentionForward('linearAttention', q, k, v, opts),
    (save) => {
      const [sq, sk, sv] = [save(q), save(k), save(v)];
      return (gy) => {
        const g = linearAttentionBackward(sq, sk, sv, gy, opts);
        return [g.dq, g.dk, g.dv];
      };
    },
  );
}
