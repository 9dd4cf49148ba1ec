/**
 * softmax / logSoftmax over any axis. One pass per row over max, sum and write, so large logits stay
 * exact. A row that is all -inf is 0/0, NaN here as in PyTorch (attention handles fully masked rows
 * itself).
 */
import { fail } from '../errors.js';
import { runKernel } from '../kernels/registry.js';
import { rowLayout } from '../kernels/rows.js';
import { contiguousStrides } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sameDevice } from './map.js';

function softmaxAny(op: 'softmax' | 'logSoftmax', x: Tensor, axis: number): Tensor {
  sameDevice(op, [x], ['x']);
  if (x.dtype !== 'f32') fail('DTYPE_MISMATCH', `${op}: x has dtype ${x.dtype}; expected f32`);
  const rows = rowLayout(op, x, axis);
  const out = x.device.empty(x.shape, 'f32');
  const inner = x.rank === 0 ? 1 : contiguousStrides(x.shape)[rows.axis]!;
  runKernel('Softmax', x.device, { x, out, log: op === 'logSoftmax', rows, inner });
  return out;
}

/** Softmax along `axis` (default last), PyTorch `F.softmax(x, dim)`. */
export const softmax = (x: Tensor, axis = -1) => softmaxAny('softmax', x, axis);
/** log-softmax along `axis` (default last), computed as x - logsumexp(x) for accuracy. */
export const logSoftmax = (x: Tensor, axis = -1) => softmaxAny('logSoftmax', x, axis);
