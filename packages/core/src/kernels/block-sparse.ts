/** Block-sparse attention's resolved call, shared by its kernels (ops/attention/blocksparse.ts checks it). */
import type { AttentionShape } from './attention.js';

export interface ResolvedBlockSparse extends AttentionShape {
  scale: number;
  causal: boolean;
  /** key j visible from query i iff j <= i + shift (when causal) */
  shift: number;
  bs: number;
  nqb: number;
  nkb: number;
  /** The layout as a row-major [nqb, nkb] 0/1 mask. */
  mask: Uint8Array;
  /** CSR of the layout: row pointers [nqb + 1], then the sorted key blocks of each query block. */
  blocks: Int32Array;
}
