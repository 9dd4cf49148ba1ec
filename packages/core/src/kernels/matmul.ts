/** The strides a batched product reads, shared by ops/matmul.ts and the backends' MatMul kernels. */
import { broadcastStrides } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Strides and sizes of a batched product C[b] = A[b]·B[b]. */
export interface MatmulGeometry {
  M: number;
  N: number;
  K: number;
  sam: number;
  sak: number;
  sbk: number;
  sbn: number;
  batchShape: number[];
  sab: number[];
  sbb: number[];
}

/** The geometry of a2 [..., M, K] · b2 [..., K, N] (both at least 2-D) over the broadcast `batchShape`. */
export function matmulGeometry(a2: Tensor, b2: Tensor, batchShape: number[]): MatmulGeometry {
  const M = a2.shape[a2.rank - 2]!;
  const N = b2.shape[b2.rank - 1]!;
  const K = a2.shape[a2.rank - 1]!;
  const sab = broadcastStrides(a2.shape.slice(0, -2), a2.strides.slice(0, -2), batchShape);
  const sbb = broadcastStrides(b2.shape.slice(0, -2), b2.strides.slice(0, -2), batchShape);
  let [sam, sak] = a2.strides.slice(-2) as [number, number];
  let [sbk, sbn] = b2.strides.slice(-2) as [number, number];
  // strides of size-1 dims are never used: normalize them so layout checks see through them
  if (M === 1) sam = 0;
  if (K === 1) {
    sak = 1;
    sbk = 1;
  }
  if (N === 1) sbn = 0;
  return { M, N, K, sam, sak, sbk, sbn, batchShape, sab, sbb };
}
