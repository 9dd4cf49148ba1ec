/**
 * indexSelect / embedding: rows picked by an integer index tensor (PyTorch `torch.index_select`,
 * `F.embedding`), and their adjoint `indexAdd`. Out-of-range indices: the CPU backend throws at once;
 * a GPU kernel cannot throw, so it writes zeros, records the first bad index in the device's error
 * flags, and the next `read()` throws INDEX_OUT_OF_RANGE naming it (like CUDA's device-side asserts,
 * but with the value).
 */
import { fail } from '../errors.js';
import { runKernel } from '../kernels/registry.js';
import { fmt, normalizeAxis, size } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sameDevice } from './map.js';

/** `shape` seen as [outer, axisLen, inner] around `axis` (normalized to `a`): the kernels' geometry. */
function aroundAxis(op: string, shape: readonly number[], axis: number) {
  const a = normalizeAxis(op, axis, shape.length);
  return { a, outer: size(shape.slice(0, a)), axisLen: shape[a]!, inner: size(shape.slice(a + 1)) };
}

/** Picks entries of `x` along `axis` at `indices` (1-D or any shape: its shape replaces the axis). */
export function indexSelect(
  x: Tensor,
  axis: number,
  indices: Tensor,
  op: 'indexSelect' | 'embedding' = 'indexSelect',
): Tensor {
  const device = sameDevice(op, [x, indices], [op === 'embedding' ? 'weight' : 'x', 'indices']);
  if (indices.dtype !== 'i32' && indices.dtype !== 'u32') {
    fail('DTYPE_MISMATCH', `${op}: indices have dtype ${indices.dtype}; expected i32 or u32`);
  }
  const { a, outer, axisLen, inner } = aroundAxis(op, x.shape, axis);
  const outShape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  const xc = x.contiguous();
  const ic = indices.contiguous();
  const out = device.empty(outShape, x.dtype);
  try {
    runKernel('Gather', device, { op, x: xc, indices: ic, out, outer, axisLen, inner });
    return out;
  } catch (e) {
    out.dispose();
    throw e;
  } finally {
    xc.dispose();
    ic.dispose();
  }
}

/** Rows of `weight` [numEmbeddings, dim] for integer `ids` of any shape: [...ids.shape, dim]. */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  if (weight.rank !== 2)
    fail('SHAPE_MISMATCH', `embedding: weight must be [numEmbeddings, dim], got ${fmt(weight.shape)}`);
  return indexSelect(weight, 0, ids, 'embedding');
}

/**
 * The adjoint of `indexSelect`: a tensor of `shape` with zeros, plus `src` (shaped as indexSelect's
 * output) added at the picked positions; repeated indices sum. Deterministic: each output row walks
 * the indices in order (no float atomics), so results do not change from run to run.
 */
export function indexAdd(shape: readonly number[], axis: number, indices: Tensor, src: Tensor): Tensor {
  const device = sameDevice('indexAdd', [src, indices], ['src', 'indices']);
  const { outer, axisLen, inner } = aroundAxis('indexAdd', shape, axis);
  const ic = indices.contiguous();
  const sc = src.contiguous();
  const out = device.zeros(shape, 'f32');
  try {
    runKernel('IndexAdd', device, { src: sc, indices: ic, out, outer, axisLen, inner });
    return out;
  } finally {
    ic.dispose();
    sc.dispose();
  }
}
