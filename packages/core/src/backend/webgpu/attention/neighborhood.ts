/**
 * The NeighborhoodAttention and NeighborhoodAttentionGrad kernels on WebGPU: the inputs bound as for
 * FlashAttention (flash.ts), then the strip kernels of neighborhood-forward.ts / -backward.ts with R
 * cells per invocation from ../heuristics.ts. Memory stays linear in N (the weights and dbias outputs,
 * which are N x N by contract, aside).
 */
import { fail } from '../../../errors.js';
import { COPY, copyOf, mapInto } from '../../../kernels/map.js';
import type { KernelSignatures } from '../../../kernels/signatures.js';
import type { Tensor } from '../../../tensor.js';
import { neighborhoodRows } from '../heuristics.js';
import { featuresOf } from './features.js';
import { bind, buffersOf } from './flash.js';
import { deltaSpec } from './looped-backward.js';
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
  const { B, H, Nq, Nk, Dv } = r;
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
    let weights: Tensor | null = null;
    if (withWeights) {
      weights = device.empty([B, H, Nq, Nk], 'f32');
      gpu.run(
        neighborhoodWeightsSpec(f),
        buffersOf([x.q, x.k, x.v, ...x.extra, weights]),
        values,
        Math.ceil((B * H * Nq) / 64),
      );
    }
    return { out, lse, weights };
  } finally {
    x.release();
  }
}

export function neighborhoodAttentionGradWebGpu(
  { r, q, k, v, out, lse, dout }: Sig['NeighborhoodAttentionGrad']['args'],
  device: Tensor['device'],
): Sig['NeighborhoodAttentionGrad']['result'] {
  const gpu = device.gpu!;
  const nb = r.neighborhood!;
  const { B, H, Hkv, Nq, Nk, D, Dv } = r;
  const f = featuresOf(r);
  const R = neighborhoodRows(D, Dv, nb.kw);
  const x = bind(r, q, k, v);
  const oc = out.isContiguous ? out.contiguous() : copyOf(out);
  const gc = dout.isContiguous ? dout.contiguous() : copyOf(dout);
  // [lse, delta] in one buffer (features.ts STATS_OPERAND)
  const stats = device.empty([2 * B * H * Nq], 'f32');
  const lseHalf = stats.slice(0, 0, B * H * Nq);
  const lseFlat = lse.reshape([B * H * Nq]);
  mapInto(COPY, [lseFlat], lseHalf);
  lseHalf.dispose();
  lseFlat.dispose();
  try {
    if (oc.offset || gc.offset) {
      fail('UNSUPPORTED', 'attentionBackward: out and dout must not be offset views; pass copies');
    }
    const values = { ...x.values, ...neighborhoodValues(nb, r, R) };
    gpu.run(deltaSpec(Dv), buffersOf([gc, oc, stats]), { rows: B * H * Nq }, Math.ceil((B * H * Nq) / 64));
    const dq = device.empty([B, H, Nq, D], 'f32');
    const kvSize = B * Hkv * Nk;
    const dkv = device.empty([kvSize * (D + Dv)], 'f32');
    const dbias = r.bias ? device.zeros([B, H, Nq, Nk]) : null;
    gpu.run(
      neighborhoodDqSpec(f, R),
      buffersOf([x.q, x.k, x.v, ...x.extra, gc, stats, dq]),
      values,
      Math.ceil((B * H * values.strips) / WORKGROUP),
    );
    gpu.run(
      neighborhoodDkvSpec(f, R),
      buffersOf([x.q, x.k, x.v, ...x.extra, gc, stats, dkv, ...(dbias ? [dbias] : [])]),
      values,
      Math.ceil((B * Hkv * values.strips) / WORKGROUP),
    );
    const part = (start: number, end: number, shape: number[]) => {
      const flat = dkv.slice(0, start, end);
      const view = flat.reshape(shape);
      flat.dispose();
      return view;
    };
    const grads = {
      dq,
      dk: part(0, kvSize * D, [B, Hkv, Nk, D]),
      dv: part(kvSize * D, kvSize * (D + Dv), [B, Hkv, Nk, Dv]),
      dbias,
    };
    dkv.dispose(); // the two views keep the buffer
    return grads;
  } finally {
    x.release();
    for (const t of [oc, gc, stats]) t.dispose();
  }
}
