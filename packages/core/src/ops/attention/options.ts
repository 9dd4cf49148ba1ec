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
import { Tensor } from '../../tensor.js';
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
  /** Keys j >= kvLens[b] are padding (varlen batches): B integers in [0, Nk] (Int32Array or number[]). */
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

const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** A value for an error message: numbers as JavaScript prints them (NaN, Infinity, -0 as 0), the rest as JSON. */
function show(x: unknown): string {
  if (typeof x === 'number' || typeof x === 'bigint') return String(x);
  if (Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView))) {
    const list = x as ArrayLike<unknown>;
    const head = Array.prototype.slice.call(list, 0, 8).map(show);
    return `[${head.join(', ')}${list.length > 8 ? `, ... (${list.length} entries)` : ''}]`;
  }
  try {
    const text = JSON.stringify(x) ?? String(x);
    return text.length > 120 ? `${text.slice(0, 120)}...` : text;
  } catch {
    return String(x);
  }
}

/**
 * kvLens checked entry by entry before any conversion: `Int32Array.from` would turn NaN into 0, 2.5
 * into 2 and 2^32 + 1 into 1 without a word.
 */
function resolveKvLens(op: string, lens: unknown, B: number, Nk: number): Int32Array {
  if (!Array.isArray(lens) && !(ArrayBuffer.isView(lens) && !(lens instanceof DataView))) {
    fail('INVALID_ARGUMENT', `${op}: kvLens must be an Int32Array or an array of numbers, got ${show(lens)}`);
  }
  const list = lens as ArrayLike<unknown>;
  if (list.length !== B)
    fail('SHAPE_MISMATCH', `${op}: kvLens has ${list.length} entries; expected one per batch (B = ${B})`);
  for (let b = 0; b < B; b++) {
    const n = list[b];
    if (typeof n !== 'number' || !Number.isInteger(n))
      fail('INVALID_ARGUMENT', `${op}: kvLens[${b}] = ${show(n)}; expected an integer in [0, Nk = ${Nk}]`);
    if (n < 0 || n > Nk) fail('INDEX_OUT_OF_RANGE', `${op}: kvLens[${b}] = ${n} is outside [0, Nk = ${Nk}]`);
  }
  return Int32Array.from(list as ArrayLike<number>);
}

/** dropout = { p in [0, 1), seed: safe integer }, both given: `dropout: 0.1` is an error, not p = 0. */
function resolveDropout(op: string, dropout: unknown): { p: number; seed: number } {
  const d = dropout as { p?: unknown; seed?: unknown } | null;
  const p = d?.p;
  const seed = d?.seed;
  if (
    typeof d !== 'object' ||
    d === null ||
    !isFiniteNumber(p) ||
    !(p >= 0 && p < 1) ||
    typeof seed !== 'number' ||
    !Number.isSafeInteger(seed)
  ) {
    fail(
      'INVALID_ARGUMENT',
      `${op}: dropout must be { p in [0, 1), seed: integer } (both given; seed a safe integer), got ${show(dropout)}`,
    );
  }
  return { p, seed };
}

export function resolveAttention(
  op: string,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: AttentionOptions,
): ResolvedAttention {
  for (const [name, t] of [
    ['q', q],
    ['k', k],
    ['v', v],
    ['mask', opts.mask],
    ['bias', opts.bias],
  ] as const) {
    if ((t !== undefined || name === 'q' || name === 'k' || name === 'v') && !(t instanceof Tensor))
      fail('INVALID_ARGUMENT', `${op}: ${name} must be a Tensor, got ${show(t)}`);
  }
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
  if (opts.scale !== undefined && !isFiniteNumber(opts.scale))
    fail('INVALID_ARGUMENT', `${op}: scale must be a finite number, got ${show(opts.scale)}`);
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  if (opts.softcap !== undefined && !(isFiniteNumber(opts.softcap) && opts.softcap >= 0))
    fail('INVALID_ARGUMENT', `${op}: softcap must be a finite number >= 0, got ${show(opts.softcap)}`);
  const softcap = opts.softcap ?? 0;
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
  if (opts.window !== undefined) {
    // checked before destructuring: a number or a string is not a [left, right] pair
    const ok = (x: unknown) => x === Number.POSITIVE_INFINITY || (Number.isInteger(x) && (x as number) >= 0);
    const w: unknown = opts.window;
    if (!Array.isArray(w) || w.length !== 2 || !ok(w[0]) || !ok(w[1])) {
      fail(
        'INVALID_ARGUMENT',
        `${op}: window must be [left, right] with non-negative integers or Infinity, got ${show(w)}`,
      );
    }
    left = Math.min(w[0] as number, OPEN);
    right = Math.min(w[1] as number, OPEN);
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
  const kvLens = opts.kvLens === undefined ? null : resolveKvLens(op, opts.kvLens, B, Nk);
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
  const { p: dropP, seed: dropSeed } =
    opts.dropout === undefined ? { p: 0, seed: 0 } : resolveDropout(op, opts.dropout);
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
