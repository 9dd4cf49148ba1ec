/**
 * Every kernel's arguments and results: the contract between the ops (which check arguments and work
 * out shapes) and the backends (which implement kernels). Kernel names are PascalCase and never a
 * public op's name (tfjs: `abs` the op, `Abs` the kernel). A package that adds kernels extends this
 * interface by declaration merging: `declare module '@multihead/core' { interface KernelSignatures {
 * Stft: { args: ...; result: ... } } }`.
 */
import type { DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import type { AttentionOutputs, ResolvedAttention } from './attention.js';
import type { ResolvedBlockSparse } from './block-sparse.js';
import type { LinearGrads, ResolvedLinear } from './linear-attention.js';
import type { MapArgs } from './map.js';
import type { MatmulGeometry } from './matmul.js';
import type { RowLayout } from './rows.js';

export type { MatmulGeometry } from './matmul.js';

export type ReduceKind = 'sum' | 'max' | 'min' | 'lse' | 'argmax' | 'argmin';
export type NormKind = 'layer' | 'rms';

export interface CrossEntropyRowOptions {
  ignoreIndex: number;
  labelSmoothing: number;
}

export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/** AdamW's step constants, computed in f64 on the host (optim/updates.ts). */
export interface AdamWConstants {
  decay: number;
  beta1: number;
  beta2: number;
  stepSize: number;
  bc2Sqrt: number;
  eps: number;
}

/** The counter-based hash's key and first counter (kernels/random.ts). */
export interface RandomStream {
  key0: number;
  key1: number;
  offset: number;
}

export interface KernelSignatures {
  /** `op` elementwise into `out` (may be a strided view) over coalesced dims (kernels/map.ts). */
  Map: { args: MapArgs; result: undefined };
  /** C = A·B into contiguous `out` [...batch, M, N]; operands read through `geometry`'s strides. */
  MatMul: { args: { a: Tensor; b: Tensor; out: Tensor; geometry: MatmulGeometry }; result: undefined };
  /** One axis of `x` reduced (the result drops it) into a new tensor of `outDtype`. */
  Reduce: { args: { kind: ReduceKind; x: Tensor; rows: RowLayout; outDtype: DType }; result: Tensor };
  /** softmax / log-softmax along `rows.axis` into contiguous `out`; `inner` is out's stride there. */
  Softmax: {
    args: { x: Tensor; out: Tensor; log: boolean; rows: RowLayout; inner: number };
    result: undefined;
  };
  /** Layer / RMS norm over rows of `dim` (x, weight, bias contiguous; weight and bias optional). */
  Norm: {
    args: {
      kind: NormKind;
      x: Tensor;
      weight: Tensor | null;
      bias: Tensor | null;
      out: Tensor;
      rows: number;
      dim: number;
      eps: number;
    };
    result: undefined;
  };
  /** dx of Norm, and with a weight dy·xhat per element (`gyXhat`, summed by the caller for dweight). */
  NormGrad: {
    args: {
      kind: NormKind;
      x: Tensor;
      gy: Tensor;
      weight: Tensor | null;
      dx: Tensor;
      gyXhat: Tensor | null;
      rows: number;
      dim: number;
      eps: number;
    };
    result: undefined;
  };
  /** out[o, p, i] = x[o, indices[p], i] (x, indices contiguous); bad indices: see ops/gather.ts. */
  Gather: {
    args: {
      op: 'indexSelect' | 'embedding';
      x: Tensor;
      indices: Tensor;
      out: Tensor;
      outer: number;
      axisLen: number;
      inner: number;
    };
    result: undefined;
  };
  /** out (zeros) [o, indices[p], i] += src[o, p, i], in index order (deterministic). */
  IndexAdd: {
    args: { src: Tensor; indices: Tensor; out: Tensor; outer: number; axisLen: number; inner: number };
    result: undefined;
  };
  /** Uniform in [a, b), or normal with mean a and std b, from the counter hash into contiguous `out`. */
  RandomFill: {
    args: { dist: 'uniform' | 'normal'; out: Tensor; stream: RandomStream; a: number; b: number };
    result: undefined;
  };
  /** Inverted dropout's multiplier: `scale` where the stream's uniform is >= p, else 0. */
  DropoutMask: { args: { out: Tensor; stream: RandomStream; p: number; scale: number }; result: undefined };
  /** Per-row losses and weights (`lossRows` [2, rows]) and log-sum-exp (`lse`) over the last axis. */
  CrossEntropy: {
    args: {
      logits: Tensor;
      targets: Tensor;
      rows: RowLayout;
      lossRows: Tensor;
      lse: Tensor;
      opts: CrossEntropyRowOptions;
    };
    result: undefined;
  };
  /** d loss / d logits into contiguous `dx`; `g` read at g.offset + row·gStride. */
  CrossEntropyGrad: {
    args: {
      logits: Tensor;
      targets: Tensor;
      rows: RowLayout;
      lse: Tensor;
      g: Tensor;
      gStride: 0 | 1;
      dx: Tensor;
      opts: CrossEntropyRowOptions;
    };
    result: undefined;
  };
  /** One SGD step in place on p (and the momentum buffer). */
  SgdStep: {
    args: { p: Tensor; g: Tensor; buf: Tensor | null; hyper: SgdHyper; first: boolean };
    result: undefined;
  };
  /** One AdamW step in place on p, m, v (and vmax for AMSGrad). */
  AdamWStep: {
    args: { p: Tensor; g: Tensor; m: Tensor; v: Tensor; vmax: Tensor | null; consts: AdamWConstants };
    result: undefined;
  };
  /** x *= c[0] in place, c a one-element tensor on the device. */
  ScaleInPlace: { args: { x: Tensor; c: Tensor }; result: undefined };
  /** Fused flash-style attention forward: out, lse and (when asked) the weights. */
  FlashAttention: {
    args: {
      r: ResolvedAttention;
      q: Tensor;
      k: Tensor;
      v: Tensor;
      weights: boolean;
      decode: 'auto' | 'split-k' | 'fused';
    };
    result: AttentionOutputs;
  };
  /** Fused attention backward from the saved out and lse; `dbias` is [B, H, Nq, Nk] (or null). */
  FlashAttentionGrad: {
    args: { r: ResolvedAttention; q: Tensor; k: Tensor; v: Tensor; out: Tensor; lse: Tensor; dout: Tensor };
    result: { dq: Tensor; dk: Tensor; dv: Tensor; dbias: Tensor | null };
  };
  /** FlashAttention restricted to `r.neighborhood` (kernels/neighborhood.ts): cost grows with N·kh·kw. */
  NeighborhoodAttention: {
    args: { r: ResolvedAttention; q: Tensor; k: Tensor; v: Tensor; weights: boolean };
    result: AttentionOutputs;
  };
  /** Its backward from the saved out and lse, as FlashAttentionGrad (dbias [B, H, Nq, Nk] or null). */
  NeighborhoodAttentionGrad: {
    args: { r: ResolvedAttention; q: Tensor; k: Tensor; v: Tensor; out: Tensor; lse: Tensor; dout: Tensor };
    result: { dq: Tensor; dk: Tensor; dv: Tensor; dbias: Tensor | null };
  };
  /** Linear attention forward [B, H, Nq, Dv] (kernels/linear-attention.ts holds the derivation). */
  LinearAttention: { args: { r: ResolvedLinear; q: Tensor; k: Tensor; v: Tensor }; result: Tensor };
  LinearAttentionGrad: {
    args: { r: ResolvedLinear; q: Tensor; k: Tensor; v: Tensor; dout: Tensor };
    result: LinearGrads;
  };
  /** Block-sparse attention forward over the layout's allowed key blocks: out and lse. */
  BlockSparseAttention: {
    args: { r: ResolvedBlockSparse; q: Tensor; k: Tensor; v: Tensor };
    result: { out: Tensor; lse: Tensor };
  };
}
