/** Differentiable matmul, gathers and layout ops (concat, pad) with PyTorch's backward formulas. */
import { fillInPlace } from '../ops/elementwise.js';
import * as gather from '../ops/gather.js';
import * as layout from '../ops/layout.js';
import { matmul as matmulRaw } from '../ops/matmul.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { using } from './backward-helpers.js';
import { alias, record, sumTo } from './engine.js';

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
        if (needs[1] && b2.rank === 2 && (a2.rank > 2 || transposed(b2))) {
          // a weight shared by every batch row (nn.Linear): one product over the folded rows
          const rows = a2.reshape([-1, a2.shape[a2.rank - 1]!]);
          const grows = g.reshape([-1, g.shape[g.rank - 1]!]);
          if (transposed(b2)) {
            // b is Wᵀ (x·Wᵀ): compute dW = gᵀ·x in W's own layout and hand back its transposed view,
            // so the gradient that reaches W is contiguous (no copy of [in, out] into [out, in])
            const gt = grows.mT;
            const dW = matmulRaw(gt, rows);
            db = using([rows, grows, gt, dW], dW.mT);
          } else {
            const at = rows.mT;
            const full = matmulRaw(at, grows);
            db = using([rows, grows, at, full], full.reshape(b.shape));
          }
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

/** Whether a matrix is the transposed view of a row-major one (columns contiguous). */
const transposed = (m: Tensor) => m.strides[0] === 1 && m.strides[1] !== 1 && m.shape[0]! > 1;

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
  return embeddingWithPadding(weight, ids);
}

/**
 * `embedding` whose gradient leaves row `paddingIdx` of the weight at zero (none when undefined): the
 * one recorded op behind both `embedding` and `nn.embedding` (PyTorch `padding_idx`).
 */
export function embeddingWithPadding(weight: Tensor, ids: Tensor, paddingIdx?: number): Tensor {
  return record(
    'embedding',
    [weight],
    () => gather.embedding(weight, ids),
    (save) => {
      const si = save(ids);
      return (gy) => {
        const g = gather.indexAdd(weight.shape, 0, si, gy);
        if (paddingIdx !== undefined) {
          const row = g.slice(0, paddingIdx, paddingIdx + 1);
          fillInPlace(row, 0);
          row.dispose();
        }
        return [g];
      };
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
