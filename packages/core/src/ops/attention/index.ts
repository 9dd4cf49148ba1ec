/**
 * Fused scaled-dot-product attention at the op layer: the contract (docs/api.md "Attention", checked by
 * options.ts) resolved once, then the device backend's `FlashAttention` / `FlashAttentionGrad` kernels.
 * Never allocates Nq x Nk memory unless the attention weights are asked for. The public,
 * differentiable `attention` and `attention.detailed` wrap `attentionForward` (autograd/attention.ts).
 */
import { fail } from '../../errors.js';
import type { AttentionGrads, AttentionOutputs } from '../../kernels/attention.js';
import { runKernel } from '../../kernels/registry.js';
import type { Tensor } from '../../tensor.js';
import { sum } from '../reduce.js';
import { type AttentionOptions, resolveAttention } from './options.js';

export type {
  AttentionGrads,
  AttentionKernel,
  AttentionOutputs,
  CausalAlignment,
  MaskMod,
  ScoreMod,
} from '../../kernels/attention.js';
export type { NeighborhoodOptions } from './neighborhood.js';
export type { AttentionOptions } from './options.js';

export interface AttentionDetailedOptions extends AttentionOptions {
  /**
   * Kernel for single-query rows (decode): 'split-k' cuts the keys into chunks reduced in parallel and
   * merged (Flash-Decoding); 'fused' streams them in one invocation. 'auto' (default) takes split-K
   * when Nq = 1 and Nk >= 128 on WebGPU.
   */
  decode?: 'auto' | 'split-k' | 'fused';
  /** Also return the attention probabilities [B, H, Nq, Nk] (recomputed from lse; for maps). */
  weights?: boolean;
}

/**
 * Attention's forward with its log-sum-exp (and the weights on request), not recorded by autograd;
 * `op` names the caller in errors.
 */
export function attentionForward(
  op: string,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: AttentionDetailedOptions,
): AttentionOutputs {
  const r = resolveAttention(op, q, k, v, opts);
  const weights = opts.weights === true;
  if (r.neighborhood) return runKernel('NeighborhoodAttention', r.device, { r, q, k, v, weights });
  const decode = opts.decode ?? 'auto';
  if (!['auto', 'split-k', 'fused'].includes(decode)) {
    fail(
      'INVALID_ARGUMENT',
      `${op}: decode must be 'auto', 'split-k' or 'fused', got ${JSON.stringify(opts.decode)}`,
    );
  }
  return runKernel('FlashAttention', r.device, { r, q, k, v, weights, decode });
}

/**
 * Backward of `attention` from the saved `out` and `lse` (FlashAttention-2 Alg. 2): recomputes the
 * probabilities tile by tile, so no Nq x Nk buffer is kept (except dbias, which is bias-sized).
 */
export function attentionBackward(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  out: Tensor,
  lse: Tensor,
  dout: Tensor,
  opts: AttentionOptions = {},
): AttentionGrads {
  const r = resolveAttention('attentionBackward', q, k, v, opts);
  const { device, B, H, Nq, Dv } = r;
  const expect = (name: string, t: Tensor, shape: number[]) => {
    if (t.device !== device) fail('DEVICE_MISMATCH', `attentionBackward: ${name} is on another device`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      fail(
        'SHAPE_MISMATCH',
        `attentionBackward: ${name} has shape [${t.shape.join(', ')}]; expected [${shape.join(', ')}]`,
      );
    }
  };
  expect('out', out, [B, H, Nq, Dv]);
  expect('lse', lse, [B, H, Nq]);
  expect('dout', dout, [B, H, Nq, Dv]);
  const args = { r, q, k, v, out, lse, dout };
  const g = r.neighborhood
    ? runKernel('NeighborhoodAttentionGrad', device, args)
    : runKernel('FlashAttentionGrad', device, args);
  return {
    dq: g.dq,
    dk: g.dk,
    dv: g.dv,
    dbias: g.dbias && opts.bias ? reduceToShape(g.dbias, opts.bias.shape) : null,
  };
}
/** Sums a [B, H, Nq, Nk] gradient down to a broadcast operand's shape. */
function reduceToShape(full: Tensor, shape: readonly number[]): Tensor {
  const lead = 4 - shape.length;
  const axes = [0, 1, 2, 3].filter((d) => d < lead || shape[d - lead] === 1);
  if (axes.length === 0) return full;
  const reduced = sum(full, axes, { keepdim: true });
  full.dispose();
  const out = reduced.reshape([...shape]);
  reduced.dispose();
  return out;
}
