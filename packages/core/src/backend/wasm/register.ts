/**
 * The wasm backend: WebAssembly SIMD kernels (packages/core/wasm, run by runtime.ts) over the same host
 * TypedArrays as the reference. Where a call is too small or its layout is not handled (heuristics.ts),
 * a kernel runs the reference itself; kernels with no wasm version share the reference's by design.
 */
import { registerBackend, registerKernels } from '../../kernels/registry.js';
import {
  checkTargets,
  crossEntropyGradReference,
  crossEntropyReference,
} from '../reference/cross-entropy.js';
import { mapReference } from '../reference/map.js';
import { matmulReference } from '../reference/matmul.js';
import { normGradReference, normReference } from '../reference/norm.js';
import { adamwStepReference } from '../reference/optim.js';
import { softmaxReference } from '../reference/softmax.js';
import { flashAttentionGradWasm, flashAttentionWasm } from './attention.js';
import { elementwiseWasm } from './elementwise.js';
import { matmulWasm } from './matmul.js';
import { neighborhoodAttentionGradWasm, neighborhoodAttentionWasm } from './neighborhood.js';
import {
  adamwWasm,
  crossEntropyBackwardWasm,
  crossEntropyWasm,
  normBackwardWasm,
  normWasm,
  softmaxWasm,
} from './rows.js';

export function registerWasmKernels(): void {
  const backend = 'wasm';
  registerBackend({
    name: backend,
    storage: 'host',
    fallback: 'reference',
    // no wasm version (yet): cheap next to the products, or JavaScript-bound (docs/decisions.md "CPU backend")
    sharedWithFallback: [
      'Reduce',
      'Gather',
      'IndexAdd',
      'RandomFill',
      'DropoutMask',
      'SgdStep',
      'ScaleInPlace',
      'LinearAttention',
      'LinearAttentionGrad',
      'BlockSparseAttention',
    ],
  });
  registerKernels(backend, {
    Map: (a, device) => {
      if (!elementwiseWasm(device.cpu!, a.op.name, a.inputs, a.out, a.shape, a.strides)) mapReference(a);
    },
    MatMul: (a, device) => {
      if (!matmulWasm(device.cpu!, a.a, a.b, a.out, a.geometry)) matmulReference(a);
    },
    Softmax: (a, device) => {
      if (!softmaxWasm(device.cpu!, a)) softmaxReference(a);
    },
    Norm: (a, device) => {
      if (!normWasm(device.cpu!, a)) normReference(a);
    },
    NormGrad: (a, device) => {
      if (!normBackwardWasm(device.cpu!, a)) normGradReference(a);
    },
    CrossEntropy: (a, device) => {
      checkTargets(a.logits, a.targets, a.opts);
      if (!crossEntropyWasm(device.cpu!, a)) crossEntropyReference(a);
    },
    CrossEntropyGrad: (a, device) => {
      if (!crossEntropyBackwardWasm(device.cpu!, a)) crossEntropyGradReference(a);
    },
    AdamWStep: (a, device) => {
      if (!adamwWasm(device.cpu!, a)) adamwStepReference(a);
    },
    FlashAttention: flashAttentionWasm,
    FlashAttentionGrad: flashAttentionGradWasm,
    NeighborhoodAttention: neighborhoodAttentionWasm,
    NeighborhoodAttentionGrad: neighborhoodAttentionGradWasm,
  });
}
