/**
 * Fused cross-entropy over the last axis (PyTorch `F.cross_entropy` with the class dim last): one
 * invocation per row, two sweeps (max, then sum of exp), so no [rows, C] log-probabilities are ever
 * written. The forward gives each row's loss, its weight (1, or 0 for an ignored row) and its
 * log-sum-exp; the backward recomputes the probabilities from that log-sum-exp.
 *
 * Row loss with label smoothing ε (PyTorch, Szegedy et al. 2016):
 *   (1 - ε)·(lse - x_t) + ε·mean_c(lse - x_c),  0 for rows whose target is `ignoreIndex`
 * and its gradient  softmax(x) - ((1 - ε)·onehot(t) + ε/C), scaled by the upstream gradient.
 *
 * Out-of-range targets: the CPU backend throws INDEX_OUT_OF_RANGE at once; a GPU kernel cannot throw,
 * so it gives the row loss 0 and weight 0, records the first bad target in the device's error flags
 * and the next `read()` throws naming it (the pattern of ops/gather.ts).
 */

import { runKernel } from '../kernels/registry.js';
import { rowLayout } from '../kernels/rows.js';
import type { CrossEntropyRowOptions } from '../kernels/signatures.js';
import type { Tensor } from '../tensor.js';

export type { CrossEntropyRowOptions } from '../kernels/signatures.js';

/**
 * Per-row losses and weights `[2, rows]` (row 0: loss, row 1: 1 or 0 for ignored rows) and the rows'
 * log-sum-exp `[rows]`. `logits` [..., C] f32 (any strides), `targets` contiguous i32 [...].
 */
export function crossEntropyRows(
  logits: Tensor,
  targets: Tensor,
  opts: CrossEntropyRowOptions,
): { rows: Tensor; lse: Tensor } {
  const device = logits.device;
  const r = rowLayout('crossEntropy', logits, -1);
  const rows = device.empty([2, r.outerCount], 'f32');
  const lse = device.empty([r.outerCount], 'f32');
  try {
    runKernel('CrossEntropy', device, { logits, targets, rows: r, lossRows: rows, lse, opts });
  } catch (e) {
    rows.dispose();
    lse.dispose();
    throw e;
  }
  return { rows, lse };
}

/**
 * d loss / d logits, contiguous [..., C]: `g` holds the upstream gradient of each row's loss, read at
 * `g.offset + row * gStride` (gStride 0: one value for every row).
 */
export function crossEntropyBackward(
  logits: Tensor,
  targets: Tensor,
  lse: Tensor,
  g: Tensor,
  gStride: 0 | 1,
  opts: CrossEntropyRowOptions,
): Tensor {
  const r = rowLayout('crossEntropy', logits, -1);
  const dx = logits.device.empty(logits.shape, 'f32');
  runKernel('CrossEntropyGrad', logits.device, { logits, targets, rows: r, lse, g, gStride, dx, opts });
  return dx;
}
