/**
 * Linear attention (Katharopoulos et al. 2020, "Transformers are RNNs"), layout [B, H, N, D] like
 * `attention` (GQA: head h reads k/v head h / (H / Hkv); Dv may differ from D; D, Dv <= 256):
 *
 *   out_i = φ(q_i)ᵀ S_i / (φ(q_i)ᵀ z_i + eps),   S_i = Σ_{j ∈ V(i)} φ(k_j) v_jᵀ,   z_i = Σ_{j ∈ V(i)} φ(k_j)
 *
 * V(i) is every key, or with `causal` the keys j <= i (top-left, PyTorch is_causal) or j <= i + Nk - Nq
 * (bottom-right). Memory is never Nq x Nk: non-causal reduces S and z once per (b, kv head), then applies
 * them; causal runs the prefix sums as a scan over N that keeps one column of the D x (Dv + 1) state
 * per invocation (the paper's RNN view).
 *
 * Everything, forward and backward, is one product with two stream orders (see `Engine.product`):
 *   P(x, y, w)_i = Σ_{t visible from i} (x_i · y_t) w_t
 * The forward is P(φq, φk, [v, 1]): the ones column gives the normalizer φ(q_i)ᵀ z_i beside the
 * numerator. With ĝ_i = [g_i / den_i, -(g_i · out_i) / den_i] (the gradient of that augmented
 * numerator, den_i = φ(q_i)ᵀ z_i + eps):
 *   dφq = P(ĝ, [v, 1], φk)          queries read keys j <= i
 *   dφk = P([v, 1], ĝ, φq)          keys read the queries that see them (reverse scan), GQA heads summed
 *   dv  = P(φk, φq, ĝ[:, :Dv])      likewise
 * and dq, dk go through the feature map's Jacobian. Every backend implements the same primitives, so
 * the derivation lives once, in kernels/linear-attention.ts (`linearForward`, `linearBackward`).
 *
 * Feature maps:
 * - 'elu+1': φ(x) = elu(x) + 1 (the paper's choice), positive, so the normalizer is > 0.
 * - 'cosine': φ(x) = x / max(||x||, 1e-12), the row L2-normalized as PyTorch `F.normalize` (eps 1e-12:
 *   a zero row maps to zeros, its gradient stays finite). φ(q)·φ(k) is then the cosine similarity,
 *   which is bounded (so the state never blows up with N) but may be negative: the normalizer
 *   Σ_j cos(q_i, k_j) can be near zero or below it. We keep the paper's formula with `eps` added as
 *   given rather than clamping (a clamp would change the function and its gradient silently), so with
 *   'cosine' choose inputs or `eps` so that φ(q_i)ᵀ z_i + eps stays away from 0; a query with no
 *   visible key, or a zero query row, gets out = 0 / eps = 0.
 */
import { fail } from '../../errors.js';
import { attentionShape, type CausalAlignment } from '../../kernels/attention.js';
import type { LinearGrads, ResolvedLinear } from '../../kernels/linear-attention.js';
import { runKernel } from '../../kernels/registry.js';
import type { Tensor } from '../../tensor.js';
import { resolveAttention } from './options.js';

export type LinearFeatureMap = 'elu+1' | 'cosine';

export interface LinearAttentionOptions {
  /** φ applied to each row of q and k: 'elu+1' (Katharopoulos et al.) or 'cosine' (L2-normalized rows). */
  featureMap: LinearFeatureMap;
  /**
   * `true` or 'top-left' (PyTorch `is_causal`): key j visible from query i iff j <= i.
   * 'bottom-right' (FlashAttention, KV-cache decode): iff j <= i + Nk - Nq. Default: every key.
   */
  causal?: boolean | CausalAlignment;
  /** Added to the normalizer φ(q_i)ᵀ z_i; default 1e-6 (the paper's code). Must be finite and >= 0. */
  eps?: number;
}

export type LinearAttentionGrads = LinearGrads;

const FEATURE_MAPS: readonly LinearFeatureMap[] = ['elu+1', 'cosine'];

export function resolveLinear(
  op: string,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: LinearAttentionOptions,
): ResolvedLinear {
  const o = (opts ?? {}) as Partial<LinearAttentionOptions>;
  const causal = o.causal ?? false;
  // shapes, dtypes, devices, GQA and the causal alignment follow `attention` exactly
  const r = resolveAttention(op, q, k, v, { causal });
  const map = FEATURE_MAPS.indexOf(o.featureMap as LinearFeatureMap);
  if (map < 0) {
    fail(
      'INVALID_ARGUMENT',
      `${op}: featureMap must be 'elu+1' or 'cosine', got ${JSON.stringify(o.featureMap)}`,
    );
  }
  const eps = o.eps ?? 1e-6;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) {
    fail('INVALID_ARGUMENT', `${op}: eps must be a finite number >= 0, got ${o.eps}`);
  }
  return {
    ...attentionShape(r),
    map,
    causal: r.causal !== 'none',
    shift: r.shift,
    eps,
  };
}

/**
 * Linear attention's forward, not recorded by autograd (the public, differentiable `linearAttention`
 * wraps it): q [B, H, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv] -> [B, H, Nq, Dv]. Cost O(N·D·Dv),
 * memory O(N·(D + Dv) + D·Dv); see the file comment for the formula, the feature maps and eps.
 */
export function linearAttentionForward(
  op: string,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: LinearAttentionOptions,
): Tensor {
  const r = resolveLinear(op, q, k, v, opts);
  return runKernel('LinearAttention', q.device, { r, q, k, v });
}

/**
 * Gradients of sum(linearAttention(q, k, v, opts) ∘ dout) with respect to q, k and v. Recomputes the
 * forward (features and numerators, O(N·(D + Dv)) memory) and runs three more products; see the file
 * comment for the derivation.
 */
export function linearAttentionBackward(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  dout: Tensor,
  opts: LinearAttentionOptions,
): LinearAttentionGrads {
  const op = 'linearAttentionBackward';
  const r = resolveLinear(op, q, k, v, opts);
  if (dout.device !== q.device) fail('DEVICE_MISMATCH', `${op}: dout is on another device than q`);
  const want = [r.B, r.H, r.Nq, r.Dv];
  if (dout.dtype !== 'f32') fail('DTYPE_MISMATCH', `${op}: dout has dtype ${dout.dtype}; expected f32`);
  if (dout.rank !== 4 || dout.shape.some((d, i) => d !== want[i])) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: dout has shape [${dout.shape.join(', ')}]; expected [B, H, Nq, Dv] = [${want.join(', ')}]`,
    );
  }
  return runKernel('LinearAttentionGrad', q.device, { r, q, k, v, dout });
}
