/**
 * Batched matrix product with PyTorch `torch.matmul` semantics: 1-D operands are promoted (and the
 * added dim removed), batch dims broadcast, and transposed views (`x.mT`) are read through their
 * strides without copies (each backend's MatMul kernel reads the strides of kernels/matmul.ts).
 */
import { fail } from '../errors.js';
import { type MatmulGeometry, matmulGeometry } from '../kernels/matmul.js';
import { runKernel } from '../kernels/registry.js';
import { broadcastShapes, fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sameDevice } from './map.js';

/** Checks the operands, promotes 1-D ones and works out strides; the caller disposes a2/b2 if new. */
export function promotedGeometry(a: Tensor, b: Tensor): { a2: Tensor; b2: Tensor; g: MatmulGeometry } {
  if (a.dtype !== 'f32' || b.dtype !== 'f32') {
    fail('DTYPE_MISMATCH', `matmul: expected f32 operands, got a ${a.dtype} and b ${b.dtype}`);
  }
  if (a.rank === 0 || b.rank === 0) {
    fail(
      'SHAPE_MISMATCH',
      `matmul: operands must be at least 1-D, got a ${fmt(a.shape)} and b ${fmt(b.shape)}`,
    );
  }
  const K = a.shape[a.rank - 1]!;
  const K2 = b.shape[b.rank === 1 ? 0 : b.rank - 2]!;
  if (K !== K2) {
    fail(
      'SHAPE_MISMATCH',
      `matmul: a ${fmt(a.shape)} and b ${fmt(b.shape)}: inner dims differ (${K} vs ${K2})`,
    );
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batchShape = broadcastShapes('matmul (batch dims)', [aBatch, bBatch], ['a', 'b']);
  if (batchShape.length > 8) fail('UNSUPPORTED', `matmul: ${batchShape.length} batch dims exceed 8`);
  const a2 = a.rank === 1 ? a.unsqueeze(0) : a;
  const b2 = b.rank === 1 ? b.unsqueeze(1) : b;
  return { a2, b2, g: matmulGeometry(a2, b2, batchShape) };
}

/** `a @ b` (PyTorch `torch.matmul`), f32. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const device = sameDevice('matmul', [a, b], ['a', 'b']);
  const { a2, b2, g } = promotedGeometry(a, b);
  try {
    const { M, N, batchShape } = g;
    const out = device.empty([...batchShape, M, N], 'f32', false); // every backend writes all of C
    runKernel('MatMul', device, { a: a2, b: b2, out, geometry: g });
    if (a.rank !== 1 && b.rank !== 1) return out;
    const shape = [...batchShape, ...(a.rank === 1 ? [] : [M]), ...(b.rank === 1 ? [] : [N])];
    const result = out.reshape(shape);
    out.dispose();
    return result;
  } finally {
    if (a2 !== a) a2.dispose();
    if (b2 !== b) b2.dispose();
  }
}
