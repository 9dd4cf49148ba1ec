/**
 * The WebGPU backend: WGSL kernels (this folder) on GPU buffers, chosen by heuristics.ts. It has every
 * kernel and no fallback: host kernels cannot read GPU buffers, so a missing one throws UNSUPPORTED.
 */
import { registerBackend, registerKernel } from '../../kernels/registry.js';
import { blockSparseWebGpu } from './attention/block-sparse.js';
import { flashAttentionGradWebGpu, flashAttentionWebGpu } from './attention/flash.js';
import { linearAttentionGradWebGpu, linearAttentionWebGpu } from './attention/linear.js';
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
  registerKernel({ kernel: 'Map', backend, run: mapWebGpu });
  registerKernel({ kernel: 'MatMul', backend, run: matmulWebGpu });
  registerKernel({ kernel: 'Reduce', backend, run: reduceWebGpu });
  registerKernel({ kernel: 'Softmax', backend, run: softmaxWebGpu });
  registerKernel({ kernel: 'Norm', backend, run: normWebGpu });
  registerKernel({ kernel: 'NormGrad', backend, run: normGradWebGpu });
  registerKernel({ kernel: 'Gather', backend, run: gatherWebGpu });
  registerKernel({ kernel: 'IndexAdd', backend, run: indexAddWebGpu });
  registerKernel({ kernel: 'RandomFill', backend, run: randomFillWebGpu });
  registerKernel({ kernel: 'DropoutMask', backend, run: dropoutMaskWebGpu });
  registerKernel({ kernel: 'CrossEntropy', backend, run: crossEntropyWebGpu });
  registerKernel({ kernel: 'CrossEntropyGrad', backend, run: crossEntropyGradWebGpu });
  registerKernel({ kernel: 'SgdStep', backend, run: sgdStepWebGpu });
  registerKernel({ kernel: 'AdamWStep', backend, run: adamwStepWebGpu });
  registerKernel({ kernel: 'ScaleInPlace', backend, run: scaleInPlaceWebGpu });
  registerKernel({ kernel: 'FlashAttention', backend, run: flashAttentionWebGpu });
  registerKernel({ kernel: 'FlashAttentionGrad', backend, run: flashAttentionGradWebGpu });
  registerKernel({ kernel: 'LinearAttention', backend, run: linearAttentionWebGpu });
  registerKernel({ kernel: 'LinearAttentionGrad', backend, run: linearAttentionGradWebGpu });
  registerKernel({ kernel: 'BlockSparseAttention', backend, run: blockSparseWebGpu });
}
