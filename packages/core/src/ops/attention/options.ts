/**
 * The attention contract (docs/api.md "Attention"), checked and resolved once for every
 * backend: shapes, GQA grouping, scale, softcap, which keys each query sees (causal alignment, sliding
 * window, boolean mask, kvLens, maskMod), and additive score terms (bias, scoreMod).
 */
import { fail } from '../../errors.js';
import {
  ATTENTION_KERNELS,
  type AttentionKernel,
  type CausalAlignment,
  MAX_HEAD_DIM,
  type MaskMod,
  OPEN,
  type ResolvedAttention,
  type ScoreMod,
} from '../../kernels/attention.js';
import { broadcastStrides, fmt } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { sameDevice } from '../map.js';
import { type NeighborhoodOptions, resolveNeighborhood } from './neighborhood.js';

export interface AttentionOptions {
  /** Multiplies q·k; default 1/sqrt(D). */
  scale?: number;
  /** c > 0 applies c·tanh(s/c) to scaled scores before bias and masking (Gemma 2). */
  softcap?: number;
  /**
   * `true` or 'top-left' (PyTorch `is_causal`): key j visible from query i iff j <= i.
   * 'bottom-right' (FlashAttention, KV-cache decode): iff j <= i + Nk - Nq.
   */
  causal?: boolean | CausalAlignment;
  /**
   * Sliding window [left, right]: key j visible iff i' - left <= j <= i' + right, where i' = i, or
   * i + Nk - Nq under bottom-right causal alignment. Use Infinity for an open side.
   */
  window?: readonly [number, number];
  /** Boolean, true = attend (PyTorch SDPA), broadcastable to [B, H, Nq, Nk]. */
  mask?: Tensor;
  /** Keys j >= kvLens[b] are padding (varlen batches): Int32Array(B) or an i32 tensor [B]. */
  kvLens?: Int32Array | readonly number[];
  /** Additive f32 scores, broadcastable to [B, H, Nq, Nk] (relative positions, ALiBi, graph distances). */
  bias?: Tensor;
  scoreMod?: ScoreMod;
  maskMod?: MaskMod;
  /**
   * Dropout on the attention probabilities: each (b, h, i, j) is kept with probability 1 - p and scaled
   * by 1/(1 - p). The mask comes from a counter-based hash of (seed, index), so backward regenerates it
   * exactly and CPU and GPU drop the same entries. lse and `weights` are the undropped softmax.
   */
  dropout?: { p: number; seed: number };
  /**
   * WebGPU kernel family for head dims divisible by 4 (ignored on the CPU backend and for other shapes):
   * 'registers' keeps several rows per invocation in registers and uses no barriers (what software
   * adapters such as SwiftShader run fastest), 'tiled' keeps one row per invocation and streams tiles
   * through workgroup memory (what hardware GPUs run well). 'auto' (default) picks by adapter.
   */
  kernel?: AttentionKernel;
  /**
   * 2-D neighbourhood attention (NATTEN): each query sees the kh x kw window of keys around its cell of
   * a [rows, cols] grid (raster order), shifted inward at the borders. Replaces `causal` and `window`
   * (use `neighborhood.causal`); combines with every other option. Runs kernels whose cost grows with
   * N·kh·kw (see `NeighborhoodOptions`).
   */
  neighborhood?: NeighborhoodOptions;
}

function broadcast4(op: string, name: string, t: Tensor, target: number[]): number[] {
  if (t.rank > 4)
    fail(
      'SHAPE_MISMATCH',
      `${op}: ${name} ${fmt(t.shape)} has more than 4 dims; expected broadcastable to ${fmt(target)}`,
    );
  const lead = 4 - t.rank;
  t.shape.forEach((d, i) => {
    if (d !== 1 && d !== target[lead + i]) {
      fail(
        'SHAPE_MISMATCH',
        `${op}: ${name} ${fmt(t.shape)} does not broadcast to [B, H, Nq, Nk] = ${fmt(target)}`,
      );
    }
  });
  return broadcastStrides(t.shape, t.strides, target);
}

export function resolveAttention(
  op: string,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: AttentionOptions,
): ResolvedAttention {
  const extra = [opts.mask, opts.bias].filter((t): t is Tensor => t !== undefined);
  const device = sameDevice(
    op,
    [q, k, v, ...extra],
    ['q', 'k', 'v', ...(opts.mask ? ['mask'] : []), ...(opts.bias ? ['bias'] : [])],
  );
  for (const [name, t] of [
    ['q', q],
    ['k', k],
    ['v', v],
  ] as const) {
    if (t.rank !== 4) fail('SHAPE_MISMATCH', `${op}: ${name} must be 4-D [B, H, N, D], got ${fmt(t.shape)}`);
    if (t.dtype !== 'f32') fail('DTYPE_MISMATCH', `${op}: ${name} has dtype ${t.dtype}; expected f32`);
  }
  const [B, H, Nq, D] = q.shape as [number, number, number, number];
  const [Bk, Hkv, Nk, Dk] = k.shape as [number, number, number, number];
  const [Bv, Hv, Nv, Dv] = v.shape as [number, number, number, number];
  const shapes = `q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}`;
  if (Bk !== B || Bv !== B) fail('SHAPE_MISMATCH', `${op}: batch sizes differ: ${shapes}`);
  if (Hv !== Hkv || Nv !== Nk) fail('SHAPE_MISMATCH', `${op}: k and v must agree on [B, Hkv, Nk]: ${shapes}`);
  if (Dk !== D) fail('SHAPE_MISMATCH', `${op}: q and k head dims differ (${D} vs ${Dk}): ${shapes}`);
  if (Hkv === 0 || H % Hkv !== 0) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: q heads H = ${H} must be a multiple of k/v heads Hkv = ${Hkv} (GQA/MQA): ${shapes}`,
    );
  }
  if (D > MAX_HEAD_DIM || Dv > MAX_HEAD_DIM || D < 1 || Dv < 1) {
    fail('SHAPE_MISMATCH', `${op}: head dims must be in [1, ${MAX_HEAD_DIM}], got D = ${D}, Dv = ${Dv}`);
  }
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  if (!Number.isFinite(scale)) fail('INVALID_ARGUMENT', `${op}: scale must be finite, got ${opts.scale}`);
  const softcap = opts.softcap ?? 0;
  if (!(softcap >= 0) || !Number.isFinite(softcap))
    fail('INVALID_ARGUMENT', `${op}: softcap must be a finite number >= 0, got ${opts.softcap}`);
  const c = opts.causal ?? false;
  if (![false, true, 'top-left', 'bottom-right'].includes(c)) {
    fail(
      'INVALID_ARGUMENT',
      `${op}: causal must be true, false, 'top-left' (PyTorch is_causal) or 'bottom-right' (FlashAttention), got ${JSON.stringify(c)}`,
    );
  }
  const neighborhood = opts.neighborhood
    ? resolveNeighborhood(op, opts.neighborhood, Nq, Nk, { causal: opts.causal, window: opts.window })
    : null;
  const causal = c === false ? 'none' : c === 'bottom-right' ? 'bottom-right' : 'top-left';
  let left = OPEN;
  let right = OPEN;
  if (opts.window) {
    const [l, r] = opts.window;
    const ok = (x: number) => x === Number.POSITIVE_INFINITY || (Number.isInteger(x) && x >= 0);
    if (opts.window.length !== 2 || !ok(l) || !ok(r)) {
      fail(
        'INVALID_ARGUMENT',
        `${op}: window must be [left, right] with non-negative integers or Infinity, got ${JSON.stringify(opts.window)}`,
      );
    }
    left = Math.min(l, OPEN);
    right = Math.min(r, OPEN);
  }
  if (causal !== 'none') right = Math.min(right, 0);
  const shift = causal === 'bottom-right' ? Nk - Nq : 0;
  const target = [B, H, Nq, Nk];
  let mask: ResolvedAttention['mask'] = null;
  if (opts.mask) {
    if (opts.mask.dtype !== 'bool')
      fail('DTYPE_MISMATCH', `${op}: mask has dtype ${opts.mask.dtype}; expected bool (true = attend)`);
    mask = { tensor: opts.mask, strides: broadcast4(op, 'mask', opts.mask, target) };
  }
  let bias: ResolvedAttention['bias'] = null;
  if (opts.bias) {
    if (opts.bias.dtype !== 'f32')
      fail('DTYPE_MISMATCH', `${op}: bias has dtype ${opts.bias.dtype}; expected f32`);
    bias = { tensor: opts.bias, strides: broadcast4(op, 'bias', opts.bias, target) };
  }
  let kvLens: Int32Array | null = null;
  if (opts.kvLens !== undefined) {
    kvLens = Int32Array.from(opts.kvLens);
    if (kvLens.length !== B)
      fail('SHAPE_MISMATCH', `${op}: kvLens has ${kvLens.length} entries; expected one per batch (B = ${B})`);
    kvLens.forEach((n, b) => {
      if (n < 0 || n > Nk)
        fail('INDEX_OUT_OF_RANGE', `${op}: kvLens[${b}] = ${n} is outside [0, Nk = ${Nk}]`);
    });
  }
  for (const mod of [opts.scoreMod, opts.maskMod]) {
    for (const [name, t] of Object.entries(mod?.tensors ?? {})) {
      sameDevice(op, [q, t], ['q', `${mod!.name}.${name}`]);
      if (!/^[a-z][a-z0-9_]*$/.test(name))
        fail(
          'INVALID_ARGUMENT',
          `${op}: tensor name ${JSON.stringify(name)} in ${mod!.name} must be a lower-case identifier`,
        );
    }
  }
  const dropP = opts.dropout?.p ?? 0;
  const dropSeed = opts.dropout?.seed ?? 0;
  if (opts.dropout && (!(dropP >= 0 && dropP < 1) || !Number.isSafeInteger(dropSeed))) {
    fail(
      'INVALID_ARGUMENT',
      `${op}: dropout must be { p in [0, 1), seed: integer }, got ${JSON.stringify(opts.dropout)}`,
    );
  }
  const kernel = opts.kernel ?? 'auto';
  if (!ATTENTION_KERNELS.includes(kernel)) {
    fail(
      'INVALID_ARGUMENT',
      `${op}: kernel must be one of ${ATTENTION_KERNELS.join(', ')}, got ${JSON.stringify(opts.kernel)}`,
    );
  }
  return {
    device,
    B,
    H,
    Hkv,
    Nq,
    Nk,
    D,
    Dv,
    scale,
    softcap,
    causal,
    shift,
    left,
    right,
    mask,
    bias,
    kvLens,
    scoreMod: opts.scoreMod ?? null,
    maskMod: opts.maskMod ?? null,
    dropP,
    dropSeed,
    kernel,
    neighborhood,
  };
}
