/**
 * The wasm backend: WebAssembly SIMD kernels (packages/core/wasm, run by runtime.ts) over the same host
 * TypedArrays as the reference. Where a call is too small or its layout is not handled (heuristics.ts),
 * a kernel runs the reference itself; kernels with no wasm version share the reference's by design.
 */
import { registerBackend, registerKernel } from '../../kernels/registry.js';
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
  registerKernel({
    kernel: 'Map',
    backend,
    run: (a, device) => {
      if (!elementwiseWasm(device.cpu!, a.op.name, a.inputs, a.out, a.shape, a.strides)) mapReference(a);
    },
  });
  registerKernel({
    kernel: 'MatMul',
    backend,
    run: (a, device) => {
      if (!matmulWasm(device.cpu!, a.a, a.b, a.out, a.geometry)) matmulReference(a);
    },
  });
  registerKernel({
    kernel: 'Softmax',
    backend,
    run: (a, device) => {
      if (!softmaxWasm(device.cpu!, a.x, a.out, a.log, a.rows.axis)) softmaxReference(a);
    },
  });
  registerKernel({
    kernel: 'Norm',
    backend,
    run: (a, device) => {
      const layer = a.kind === 'layer';
      if (!normWasm(device.cpu!, layer, a.x, a.weight, a.bias, a.out, a.rows, a.dim, a.eps)) normReference(a);
    },
  });
  registerKernel({
    kernel: 'NormGrad',
    backend,
    run: (a, device) => {
      const layer = a.kind === 'layer';
      const done = normBackwardWasm(
        device.cpu!,
        layer,
        a.x,
        a.gy,
        a.weight,
        a.dx,
        a.gyXhat,
        a.rows,
        a.dim,
        a.eps,
      );
      if (!done) normGradReference(a);
    },
  });
  registerKernel({
    kernel: 'CrossEntropy',
    backend,
    run: (a, device) => {
      checkTargets(a.logits, a.targets, a.opts);
      if (!crossEntropyWasm(device.cpu!, a.logits, a.targets, a.lossRows, a.lse, a.opts))
        crossEntropyReference(a);
    },
  });
  registerKernel({
    kernel: 'CrossEntropyGrad',
    backend,
    run: (a, device) => {
      const { logits, targets, lse, g, gStride, dx, opts } = a;
      if (!crossEntropyBackwardWasm(device.cpu!, logits, targets, lse, g, gStride, dx, opts))
        crossEntropyGradReference(a);
    },
  });
  registerKernel({
    kernel: 'AdamWStep',
    backend,
    run: (a, device) => {
      if (!adamwWasm(device.cpu!, a.p, a.g, a.m, a.v, a.vmax, a.consts)) adamwStepReference(a);
    },
  });
  registerKernel({ kernel: 'FlashAttention', backend, run: flashAttentionWasm });
  registerKernel({ kernel: 'FlashAttentionGrad', backend, run: flashAttentionGradWasm });
}
