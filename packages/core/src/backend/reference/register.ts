/**
 * The reference backend: plain TypeScript over host TypedArrays, the oracle every other kernel is
 * tested against (float64 inside where it matters). It has every kernel and no fallback.
 */
import { registerBackend, registerKernels } from '../../kernels/registry.js';
import { flashAttentionGradReference, flashAttentionReference } from './attention.js';
import { blockSparseReference } from './block-sparse.js';
import { crossEntropyGradReference, crossEntropyReference } from './cross-entropy.js';
import { gatherReference, indexAddReference } from './gather.js';
import { linearAttentionReference } from './linear-attention.js';
import { mapReference } from './map.js';
import { matmulReference } from './matmul.js';
import { normGradReference, normReference } from './norm.js';
import { adamwStepReference, scaleInPlaceReference, sgdStepReference } from './optim.js';
import { dropoutMaskReference, randomFillReference } from './random.js';
import { reduceReference } from './reduce.js';
import { softmaxReference } from './softmax.js';

export function registerReferenceKernels(): void {
  const backend = 'reference';
  registerBackend({ name: backend, storage: 'host', fallback: null });
  registerKernels(backend, {
    Map: mapReference,
    MatMul: matmulReference,
    Reduce: reduceReference,
    Softmax: softmaxReference,
    Norm: normReference,
    NormGrad: normGradReference,
    Gather: gatherReference,
    IndexAdd: indexAddReference,
    RandomFill: randomFillReference,
    DropoutMask: dropoutMaskReference,
    CrossEntropy: crossEntropyReference,
    CrossEntropyGrad: crossEntropyGradReference,
    SgdStep: sgdStepReference,
    AdamWStep: adamwStepReference,
    ScaleInPlace: scaleInPlaceReference,
    FlashAttention: flashAttentionReference,
    FlashAttentionGrad: flashAttentionGradReference,
    NeighborhoodAttention: flashAttentionReference,
    NeighborhoodAttentionGrad: flashAttentionGradReference,
    LinearAttention: linearAttentionReference.forward,
    LinearAttentionGrad: linearAttentionReference.backward,
    BlockSparseAttention: blockSparseReference,
  });
}
