/**
 * AssemblyScript entry point: the kernels the CPU backend runs (see wasm/build.mjs). Every export takes
 * byte addresses into the one shared memory that JavaScript lays out; nothing here allocates.
 */
export { attnBackwardKV, attnBackwardQ, attnBackwardScratch, attnDelta } from './attention-backward';
export { attnPackKt } from './attention-common';
export { attnForward, attnForwardScratch } from './attention-forward';
export { nbForward, nbScratch } from './attention-neighborhood';
export { nbBackwardKV, nbBackwardQ } from './attention-neighborhood-backward';
export { mapChunk } from './elementwise';
export {
  gemm,
  gemmRowBlock,
  matmulPackB,
  matmulRowsPerTask,
  matmulScratch,
  matmulTask,
  packedBSize,
} from './gemm';
export {
  adamwChunk,
  crossEntropyBackwardRows,
  crossEntropyRows,
  normBackwardRows,
  normRows,
  softmaxRows,
} from './rows';
