/**
 * The WebGPU backend: WGSL kernels (this folder) on GPU buffers, chosen by heuristics.ts. It has every
 * kernel and no fallback: host kernels cannot read GPU buffers, so a missing one throws UNSUPPORTED.
 */
import { registerBackend, registerKernels } from '../../kernels/registry.js';
import { blockSparseWebGpu } from './attention/block-sparse.js';
import { flashAttentionGradWebGpu, flashAttentionWebGpu } from './attention/flash.js';
import { linearAttentionWebGpu } from './attention/linear.js';
import { neighborhoodAttentionGradWebGpu, neighborhoodAttentionWebGpu } from './attention/neighborhood.js';
import { crossEntropyGradWebGpu, crossEntropyWebGpu } from './kernels/cross-entropy.js';
import { gatherWebGpu, indexAddWebGpu } from './kernels/gather.js';
import { mapWebGpu } from './kernels/map.js';
import { matmulWebGpu } from './kernels/matmul.js';
import { normGradWebGpu, normWebGpu } from './kernels/norm.js';
import { adamwStepWebGpu, scaleInPlaceWebGpu, sgdStepWebGpu } from './kernels/optim.js';
import { dropoutMaskWebGpu, randomFillWebGpu } from './kernels/random.js';
import { reduceWebGpu } from './kernels/reduce.js';
import { softmaxWebGpu } from './kernels/softmax.js';

export function registerWebGpuKernels(): void {
  const backend = 'webgpu';
  registerBackend({ name: backend, storage: 'webgpu', fallback: null });
  registerKernels(backend, {
    Map: mapWebGpu,
    MatMul: matmulWebGpu,
    Reduce: reduceWebGpu,
    Softmax: softmaxWebGpu,
    Norm: normWebGpu,
    NormGrad: normGradWebGpu,
    Gather: gatherWebGpu,
    IndexAdd: indexAddWebGpu,
    RandomFill: randomFillWebGpu,
    DropoutMask: dropoutMaskWebGpu,
    CrossEntropy: crossEntropyWebGpu,
    CrossEntropyGrad: crossEntropyGradWebGpu,
    SgdStep: sgdStepWebGpu,
    AdamWStep: adamwStepWebGpu,
    ScaleInPlace: scaleInPlaceWebGpu,
    FlashAttention: flashAttentionWebGpu,
    FlashAttentionGrad: flashAttentionGradWebGpu,
    NeighborhoodAttention: neighborhoodAttentionWebGpu,
    NeighborhoodAttentionGrad: neighborhoodAttentionGradWebGpu,
    LinearAttention: linearAttentionWebGpu.forward,
    LinearAttentionGrad: linearAttentionWebGpu.backward,
    BlockSparseAttention: blockSparseWebGpu,
  });
}
