/**
 * What the fused-attention kernels of every backend share: the score modifications (FlexAttention-style
 * mods), the checked and resolved options (`ResolvedAttention`, built by ops/attention/options.ts), and
 * the results. The contract itself is docs/api.md "Attention".
 */
import type { Device } from '../device.js';
import type { Tensor } from '../tensor.js';
import type { ResolvedNeighborhood } from './neighborhood.js';

/** The host copies of a mod's tensors, by WGSL name. */
export type ModTensors = Record<string, Float32Array>;
/** A score modification's TypeScript twin: the new score of (b, h, i, j) from `score`. */
export type ScoreModFn = (score: number, b: number, h: number, i: number, j: number, t: ModTensors) => number;

/** The shapes of an attention call: q [B, H, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv]. */
export interface AttentionShape {
  B: number;
  H: number;
  Hkv: number;
  Nq: number;
  Nk: number;
  D: number;
  Dv: number;
}

/** The shape fields of a resolved call (for the resolved options of the other attention ops). */
export function attentionShape(r: AttentionShape): AttentionShape {
  return { B: r.B, H: r.H, Hkv: r.Hkv, Nq: r.Nq, Nk: r.Nk, D: r.D, Dv: r.Dv };
}

/**
 * A FlexAttention-style modification compiled into the kernel: a WGSL expression over
 * `score: f32, b: u32, h: u32, i: u32, j: u32` (and `<name>_ld(index)` for each tensor in `tensors`),
 * with its TypeScript twin for the CPU backend. Written in code only: nothing loaded from a model file
 * is ever compiled or run.
 */
export interface ScoreMod {
  /** Identifies the expression in the pipeline cache: two mods with one name must be the same code. */
  name: string;
  wgsl: string;
  ts: ScoreModFn;
  /** d(mod)/d(score) at the mod's input `score`, as WGSL and TS; omitted means 1 (additive mods like ALiBi). */
  gradWgsl?: string;
  gradTs?: ScoreModFn;
  /** Small f32 tensors the expression reads (e.g. ALiBi slopes), by WGSL name. */
  tensors?: Record<string, Tensor>;
}

/** Like ScoreMod, but a boolean expression: true = attend. */
export interface MaskMod {
  name: string;
  wgsl: string;
  ts: (b: number, h: number, i: number, j: number, tensors: ModTensors) => boolean;
  tensors?: Record<string, Tensor>;
}

export type CausalAlignment = 'top-left' | 'bottom-right';

export type AttentionKernel = 'auto' | 'registers' | 'tiled';
export const ATTENTION_KERNELS: readonly AttentionKernel[] = ['auto', 'registers', 'tiled'];

/** Everything the kernels need, checked. */
export interface ResolvedAttention extends AttentionShape {
  device: Device;
  scale: number;
  /** 0 = none */
  softcap: number;
  causal: 'none' | CausalAlignment;
  /** Visible keys for query i: i + shift - left <= j <= i + shift + right (right capped at 0 when causal). */
  shift: number;
  left: number;
  right: number;
  mask: { tensor: Tensor; strides: number[] } | null;
  bias: { tensor: Tensor; strides: number[] } | null;
  kvLens: Int32Array | null;
  scoreMod: ScoreMod | null;
  maskMod: MaskMod | null;
  /** 0 = no dropout */
  dropP: number;
  dropSeed: number;
  kernel: AttentionKernel;
  /** 2-D neighbourhood (kernels/neighborhood.ts): served by the NeighborhoodAttention kernels; else null. */
  neighborhood: ResolvedNeighborhood | null;
}

/** Bound used for "no limit" on a window side; far beyond any sequence length. */
export const OPEN = 2 ** 30;

export const MAX_HEAD_DIM = 256;

/** Keys visible to query i before per-element masks: [lo, hi) (may be empty). */
export function keyRange(r: ResolvedAttention, i: number, b: number): [number, number] {
  const lo = Math.max(0, i + r.shift - r.left);
  const end = r.kvLens ? r.kvLens[b]! : r.Nk;
  const hi = Math.min(end, i + r.shift + r.right + 1);
  return [lo, Math.max(lo, hi)];
}

export interface AttentionOutputs {
  /** [B, H, Nq, Dv] */
  out: Tensor;
  /** log-sum-exp of each query row's scores [B, H, Nq]; -inf for rows with no visible key. */
  lse: Tensor;
  /** [B, H, Nq, Nk] when asked for, else null. */
  weights: Tensor | null;
}

export interface AttentionGrads {
  dq: Tensor;
  dk: Tensor;
  dv: Tensor;
  /** Gradient of `opts.bias`, in the bias's own shape (summed over broadcast dims); null without a bias. */
  dbias: Tensor | null;
}
