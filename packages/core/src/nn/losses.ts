/**
 * Loss functions with PyTorch's semantics (`torch.nn.functional`). `crossEntropy` is one fused op with
 * its own kernels (ops/cross-entropy.ts): no [rows, C] log-probabilities are kept for backward, only
 * each row's log-sum-exp. `mseLoss` and `binaryCrossEntropyWithLogits` are compositions of
 * differentiable elementwise ops.
 */
import { alias, record } from '../autograd/engine.js';
import * as F from '../autograd/functions.js';
import { fail } from '../errors.js';
import { crossEntropyBackward, crossEntropyRows } from '../ops/cross-entropy.js';
import * as ew from '../ops/elementwise.js';
import { sameDevice } from '../ops/map.js';
import * as reduce from '../ops/reduce.js';
import { tidy } from '../scope.js';
import { broadcastShapes, fmt, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';

/** How per-element losses combine (PyTorch `reduction`). */
export type Reduction = 'mean' | 'sum' | 'none';

export interface CrossEntropyOptions {
  /** Rows whose target equals this contribute no loss and no gradient (PyTorch default -100). */
  ignoreIndex?: number;
  /** ε in [0, 1]: the target distribution is (1 - ε)·onehot + ε/C (PyTorch `label_smoothing`). */
  labelSmoothing?: number;
  /** 'mean' (default) divides by the number of non-ignored rows; 'none' gives targets' shape. */
  reduction?: Reduction;
}

const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

function checkReduction(op: string, reduction: unknown): Reduction {
  if (!REDUCTIONS.includes(reduction as Reduction)) {
    fail(
      'INVALID_ARGUMENT',
      `${op}: reduction is ${JSON.stringify(reduction)}; expected 'mean', 'sum' or 'none'`,
    );
  }
  return reduction as Reduction;
}

function checkFloat(op: string, name: string, t: unknown): Tensor {
  if (!(t instanceof Tensor)) fail('INVALID_ARGUMENT', `${op}: ${name} must be a Tensor, got ${typeof t}`);
  if (t.dtype !== 'f32') {
    fail('DTYPE_MISMATCH', `${op}: ${name} ${fmt(t.shape)} has dtype ${t.dtype}; expected f32`);
  }
  return t;
}

/**
 * Cross-entropy of `logits` [..., C] (class dim LAST, unlike PyTorch's dim 1: a [B, T, C] language-model
 * output needs no transpose) against integer class `targets` (i32, shape = logits' shape without the
 * last dim). Equals `F.cross_entropy(logits.reshape(-1, C), targets.reshape(-1), ...)`.
 * Out-of-range targets throw INDEX_OUT_OF_RANGE (on WebGPU at the next read, see ops/cross-entropy.ts).
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  checkFloat(op, 'logits', logits);
  if (!(targets instanceof Tensor)) fail('INVALID_ARGUMENT', `${op}: targets must be a Tensor`);
  sameDevice(op, [logits, targets], ['logits', 'targets']);
  if (logits.rank < 1 || logits.shape[logits.rank - 1]! < 1) {
    fail('SHAPE_MISMATCH', `${op}: logits ${fmt(logits.shape)} must be [..., C] with C >= 1`);
  }
  const rowShape = logits.shape.slice(0, -1);
  if (targets.dtype !== 'i32') {
    fail(
      'DTYPE_MISMATCH',
      `${op}: targets ${fmt(targets.shape)} have dtype ${targets.dtype}; expected i32 class indices ` +
        "(cast with cast(t, 'i32'); probability targets are not supported)",
    );
  }
  if (!sameShape(targets.shape, rowShape)) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: targets ${fmt(targets.shape)} must have the shape of logits ${fmt(logits.shape)} without the class dim: ${fmt(rowShape)}`,
    );
  }
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const labelSmoothing = opts.labelSmoothing ?? 0;
  if (!Number.isInteger(ignoreIndex) || Math.abs(ignoreIndex) > 2 ** 31 - 1) {
    fail('INVALID_ARGUMENT', `${op}: ignoreIndex ${ignoreIndex} must be an i32 integer`);
  }
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    fail('INVALID_ARGUMENT', `${op}: labelSmoothing ${labelSmoothing} must be in [0, 1]`);
  }
  const rowOpts = { ignoreIndex, labelSmoothing };
  const t = targets.contiguous();
  let lse: Tensor | null = null;
  let count: Tensor | null = null; // number of non-ignored rows ('mean' only)
  try {
    return record(
      op,
      [logits],
      () => {
        const { rows, lse: l } = crossEntropyRows(logits, t, rowOpts); // rows [2, n]: loss | weight
        lse = l;
        if (reduction === 'mean') {
          const stats = reduce.sum(rows, 1); // [2]: sum of losses, count
          rows.dispose();
          count = stats.slice(0, 1, 2);
          const total = stats.slice(0, 0, 1);
          const q = ew.div(total, count);
          const loss = q.reshape([]);
          for (const x of [stats, total, q]) x.dispose();
          return loss;
        }
        const losses = rows.slice(0, 0, 1);
        rows.dispose();
        const out = reduction === 'sum' ? reduce.sum(losses) : losses.reshape(rowShape);
        losses.dispose();
        return out;
      },
      (save) => {
        const [sx, st, sl] = [save(logits), save(t), save(lse!)];
        const sc = count ? save(count) : null;
        return (gy) => {
          // the gradient of each row's loss: one value for every row, or one per row for 'none'
          const g = sc ? ew.div(gy, sc) : reduction === 'sum' ? alias(gy) : gy.contiguous();
          const dx = crossEntropyBackward(sx, st, sl, g, reduction === 'none' ? 1 : 0, rowOpts);
          g.dispose();
          return [dx];
        };
      },
    );
  } finally {
    t.dispose();
    (lse as Tensor | null)?.dispose();
    (count as Tensor | null)?.dispose();
  }
}

function reduceLoss(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return loss;
  return reduction === 'sum' ? F.sum(loss) : F.mean(loss);
}

function checkPair(op: string, input: Tensor, target: Tensor, inputName = 'input'): void {
  checkFloat(op, inputName, input);
  checkFloat(op, 'target', target);
  sameDevice(op, [input, target], [inputName, 'target']);
  if (!sameShape(input.shape, target.shape)) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: ${inputName} ${fmt(input.shape)} and target ${fmt(target.shape)} must have the same shape`,
    );
  }
}

/** Mean squared error (PyTorch `F.mse_loss`); input and target of the same shape. */
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  checkPair('mseLoss', input, target);
  const reduction = checkReduction('mseLoss', opts.reduction ?? 'mean');
  return tidy(() => reduceLoss(F.square(F.sub(input, target)), reduction));
}

export interface BinaryCrossEntropyOptions {
  reduction?: Reduction;
  /** Weight of positive examples, broadcast against the logits (PyTorch `pos_weight`, e.g. shape [C]). */
  posWeight?: Tensor | number;
}

/**
 * Binary cross-entropy on logits (PyTorch `F.binary_cross_entropy_with_logits`), stable for any |x|:
 * (1 - t)·x + w·softplus(-x), with w = 1 + (posWeight - 1)·t and softplus(z) = max(z, 0) + log(1 + e^-|z|).
 * `target` holds probabilities in [0, 1] (soft labels allowed), same shape as `logits`.
 */
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  target: Tensor,
  opts: BinaryCrossEntropyOptions = {},
): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  checkPair(op, logits, target, 'logits');
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  const pw = opts.posWeight;
  if (pw instanceof Tensor) {
    checkFloat(op, 'posWeight', pw);
    sameDevice(op, [logits, pw], ['logits', 'posWeight']);
    const shape = broadcastShapes(op, [logits.shape, pw.shape], ['logits', 'posWeight']);
    if (!sameShape(shape, logits.shape)) {
      fail(
        'SHAPE_MISMATCH',
        `${op}: posWeight ${fmt(pw.shape)} must broadcast to logits ${fmt(logits.shape)}`,
      );
    }
  } else if (pw !== undefined && !Number.isFinite(pw)) {
    fail('INVALID_ARGUMENT', `${op}: posWeight ${pw} must be a finite number or a Tensor`);
  }
  return tidy(() => {
    const softplusNeg = F.softplus(F.neg(logits));
    let weighted = softplusNeg;
    if (pw !== undefined) {
      // log weight of PyTorch's formula: 1 + (posWeight - 1) * t
      const w =
        pw instanceof Tensor ? F.add(F.mul(F.sub(pw, 1), target), 1) : F.add(F.mul(target, pw - 1), 1);
      weighted = F.mul(w, softplusNeg);
    }
    return reduceLoss(F.add(F.mul(F.sub(1, target), logits), weighted), reduction);
  });
}
