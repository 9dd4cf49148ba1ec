/** Block-sparse attention's resolved call, shared by its kernels (ops/attention/blocksparse.ts checks it). */
export interface ResolvedBlockSparse {
  B: number;
  H: number;
  Hkv: number;
  Nq: number;
  Nk: number;
  D: number;
  Dv: number;
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
