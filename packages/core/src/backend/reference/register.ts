/**
 * The reference backend: plain TypeScript over host TypedArrays, the oracle every other kernel is
 * tested against (float64 inside where it matters). It has every kernel and no fallback.
 */
import { registerBackend, registerKernel } from '../../kernels/registry.js';
import { flashAttentionGradReference, flashAttentionReference } from './attention.js';
import { blockSparseReference } from './block-sparse.js';
import { crossEntropyGradReference, crossEntropyReference } from './cross-entropy.js';
import { gatherReference, indexAddReference } from './gather.js';
import { linearAttentionGradReference, linearAttentionReference } from './linear-attention.js';
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
  registerKernel({ kernel: 'Map', backend, run: mapReference });
  registerKernel({ kernel: 'MatMul', backend, run: matmulReference });
  registerKernel({ kernel: 'Reduce', backend, run: reduceReference });
  registerKernel({ kernel: 'Softmax', backend, run: softmaxReference });
  registerKernel({ kernel: 'Norm', backend, run: normReference });
  registerKernel({ kernel: 'NormGrad', backend, run: normGradReference });
  registerKernel({ kernel: 'Gather', backend, run: gatherReference });
  registerKernel({ kernel: 'IndexAdd', backend, run: indexAddReference });
  registerKernel({ kernel: 'RandomFill', backend, run: randomFillReference });
  registerKernel({ kernel: 'DropoutMask', backend, run: dropoutMaskReference });
  registerKernel({ kernel: 'CrossEntropy', backend, run: crossEntropyReference });
  registerKernel({ kernel: 'CrossEntropyGrad', backend, run: crossEntropyGradReference });
  registerKernel({ kernel: 'SgdStep', backend, run: sgdStepReference });
  registerKernel({ kernel: 'AdamWStep', backend, run: adamwStepReference });
  registerKernel({ kernel: 'ScaleInPlace', backend, run: scaleInPlaceReference });
  registerKernel({ kernel: 'FlashAttention', backend, run: flashAttentionReference });
  registerKernel({ kernel: 'FlashAttentionGrad', backend, run: flashAttentionGradReference });
  registerKernel({ kernel: 'LinearAttention', backend, run: linearAttentionReference });
  registerKernel({ kernel: 'LinearAttentionGrad', backend, run: linearAttentionGradReference });
  registerKernel({ kernel: 'BlockSparseAttention', backend, run: blockSparseReference });
}
