/**
 * The NeighborhoodAttention and NeighborhoodAttentionGrad kernels on WebGPU: the inputs bound as for
 * FlashAttention (flash.ts), then the strip kernels of neighborhood-forward.ts / -backward.ts with R
 * cells per invocation from ../heuristics.ts. Memory stays linear in N (the weights and dbias outputs,
 * which are N x N by contract, aside).
 */
import type { KernelSignatures } from '../../../kernels/signatures.js';
import type { Tensor } from '../../../tensor.js';
import { neighborhoodRows } from '../heuristics.js';
import { featuresOf } from './features.js';
import { attentionBackwardWebGpu, bind, buffersOf, runWeights } from './flash.js';
import { neighborhoodDkvSpec, neighborhoodDqSpec } from './neighborhood-backward.js';
import { neighborhoodValues } from './neighborhood-common.js';
import { neighborhoodForwardSpec, neighborhoodWeightsSpec } from './neighborhood-forward.js';

type Sig = KernelSignatures;

const WORKGROUP = 32;

export function neighborhoodAttentionWebGpu(
  { r, q, k, v, weights: withWeights }: Sig['NeighborhoodAttention']['args'],
  device: Tensor['device'],
): Sig['NeighborhoodAttention']['result'] {
  const gpu = device.gpu!;
  const nb = r.neighborhood!;
  const { B, H, Nq, Dv } = r;
  const f = featuresOf(r);
  const R = neighborhoodRows(r.D, r.Dv, nb.kw);
  const x = bind(r, q, k, v);
  try {
    const values = { ...x.values, ...neighborhoodValues(nb, r, R) };
    const out = device.empty([B, H, Nq, Dv], 'f32');
    const lse = device.empty([B, H, Nq], 'f32');
    gpu.run(
      neighborhoodForwardSpec(f, R),
      buffersOf([x.q, x.k, x.v, ...x.extra, out, lse]),
      values,
      Math.ceil((B * H * values.strips) / WORKGROUP),
    );
    const weights = withWeights ? runWeights(neighborhoodWeightsSpec(f), r, x, values) : null;
    return { out, lse, weights };
  } finally {
    x.release();
  }
}

export function neighborhoodAttentionGradWebGpu(
  args: Sig['NeighborhoodAttentionGrad']['args'],
  device: Tensor['device'],
): Sig['NeighborhoodAttentionGrad']['result'] {
  const { r } = args;
  const nb = r.neighborhood!;
  const { B, H, Hkv } = r;
  const f = featuresOf(r);
  const R = neighborhoodRows(r.D, r.Dv, nb.kw);
  return attentionBackwardWebGpu(args, device, ({ gpu, x, dqBuffers, dkvBuffers }) => {
    const values = { ...x.values, ...neighborhoodValues(nb, r, R) };
    gpu.run(neighborhoodDqSpec(f, R), dqBuffers, values, Math.ceil((B * H * values.strips) / WORKGROUP));
    gpu.run(neighborhoodDkvSpec(f, R), dkvBuffers, values, Math.ceil((B * Hkv * values.strips) / WORKGROUP));
  });
}
