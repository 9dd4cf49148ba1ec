/**
 * Positional information for attention: absolute encodings added to token embeddings (sinusoidal,
 * learned, 2-D sin-cos for patch grids), rotary embeddings applied to q and k (RoPE), and additive
 * attention biases (ALiBi, T5 relative position buckets). Tables are computed on the host in float64
 * and uploaded as f32.
 */
import { add, concat, embedding, mul, neg } from '../autograd/functions.js';
import type { Device } from '../device.js';
import { hostArray } from '../dtype.js';
import { fail } from '../errors.js';
import type { ScoreMod } from '../kernels/attention.js';
import { tidy } from '../scope.js';
import { mixSeed, nextSeed } from '../seeded.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { Embedding, positiveInt } from './layers.js';
import { Module } from './module.js';

// ---- absolute: sinusoidal, learned, 2-D --------------------------------------------------------------

/**
 * Sinusoidal positions (Vaswani et al. 2017, §3.5) [n, dim]: PE[p, 2i] = sin(p / base^(2i/dim)),
 * PE[p, 2i+1] = cos(p / base^(2i/dim)) (sin and cos interleaved; an odd `dim` ends with a sin column).
 */
export function sinusoidalPositions(
  device: Device,
  n: number,
  dim: number,
  opts: { base?: number } = {},
): Tensor {
  positiveInt('sinusoidalPositions', 'n', n);
  positiveInt('sinusoidalPositions', 'dim', dim);
  const base = opts.base ?? 10000;
  device.checkFits('f32', n * dim);
  const out = hostArray('f32', n * dim) as Float32Array;
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < dim; c++) {
      const angle = p / base ** ((c - (c % 2)) / dim);
      out[p * dim + c] = c % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return device.tensor(out, [n, dim]);
}

/** 1-D sin-cos of MAE: [sin(pos·ω) for ω, cos(pos·ω) for ω] with ω_k = 1 / base^(k / (dim/2)). */
function sinCos1d(
  out: Float32Array,
  row: number,
  stride: number,
  col: number,
  dim: number,
  pos: number,
  base: number,
) {
  const half = dim / 2;
  for (let k = 0; k < half; k++) {
    const angle = pos / base ** (k / half);
    out[row * stride + col + k] = Math.sin(angle);
    out[row * stride + col + half + k] = Math.cos(angle);
  }
}

/**
 * 2-D sin-cos positions for a patch grid (MAE, He et al. 2022, `get_2d_sincos_pos_embed`):
 * [gridH·gridW, dim], patches in row-major order; the first dim/2 columns encode the column (w)
 * coordinate and the last dim/2 the row (h) coordinate, each as MAE's 1-D [sin..., cos...]. `dim` must
 * be a multiple of 4. `clsToken` prepends a row of zeros (MAE's class token).
 */
export function sinCos2d(
  device: Device,
  gridH: number,
  gridW: number,
  dim: number,
  opts: { clsToken?: boolean; base?: number } = {},
): Tensor {
  positiveInt('sinCos2d', 'gridH', gridH);
  positiveInt('sinCos2d', 'gridW', gridW);
  if (!Number.isInteger(dim) || dim < 4 || dim % 4 !== 0) {
    fail('INVALID_ARGUMENT', `sinCos2d: dim must be a positive multiple of 4, got ${dim}`);
  }
  const base = opts.base ?? 10000;
  const first = opts.clsToken ? 1 : 0;
  const rows = first + gridH * gridW;
  device.checkFits('f32', rows * dim);
  const out = hostArray('f32', rows * dim) as Float32Array;
  for (let h = 0; h < gridH; h++) {
    for (let w = 0; w < gridW; w++) {
      const row = first + h * gridW + w;
      sinCos1d(out, row, dim, 0, dim / 2, w, base); // MAE's meshgrid(grid_w, grid_h): w first
      sinCos1d(out, row, dim, dim / 2, dim / 2, h, base);
    }
  }
  return device.tensor(out, [rows, dim]);
}

/**
 * Learned absolute positions (GPT-2 `wpe`, BERT `position_embeddings`): an `Embedding(maxPositions,
 * dim)` whose `forward(n, { offset })` returns the rows of positions offset..offset+n-1 [n, dim]
 * (or takes explicit position ids, like `Embedding`).
 */
export class LearnedPositionalEmbedding extends Embedding {
  constructor(device: Device, maxPositions: number, dim: number, opts: { seed?: number } = {}) {
    super(device, maxPositions, dim, opts.seed === undefined ? {} : { seed: opts.seed });
  }

  override forward(positions: Tensor | number, opts: { offset?: number } = {}): Tensor {
    if (typeof positions !== 'number') return super.forward(positions);
    const offset = opts.offset ?? 0;
    if (!Number.isInteger(positions) || positions < 0 || !Number.isInteger(offset) || offset < 0) {
      fail(
        'INVALID_ARGUMENT',
        `LearnedPositionalEmbedding: n ${positions} and offset ${offset} must be integers >= 0`,
      );
    }
    if (offset + positions > this.numEmbeddings) {
      fail(
        'INDEX_OUT_OF_RANGE',
        `LearnedPositionalEmbedding: positions ${offset}..${offset + positions - 1} exceed maxPositions ${this.numEmbeddings}`,
      );
    }
    return tidy(() => {
      const ids = this.device.tensor(
        Int32Array.from({ length: positions }, (_, i) => offset + i),
        [positions],
      );
      return super.forward(ids);
    });
  }
}

// ---- RoPE ----------------------------------------------------------------------------------------------

export interface RopeOptions {
  /** Frequency base θ (default 10000; Llama 3 uses 500000). */
  base?: number;
  /** Position of the first row (KV-cache decoding: the number of cached tokens). Default 0. */
  offset?: number;
  /** Explicit position of each of the N rows (overrides offset), e.g. for packed sequences. */
  positions?: ArrayLike<number>;
  /** Rotate only the first `rotaryDim` features (GPT-NeoX `rotary_pct`); default all of D. Must be even. */
  rotaryDim?: number;
}

/**
 * cos and sin tables [N, rotaryDim] of rotary embeddings in the rotate-half layout: column c and
 * c + rotaryDim/2 share the frequency θ^(-2c/rotaryDim) (HF Llama / GPT-NeoX `cat(freqs, freqs)`).
 */
export function ropeTables(
  device: Device,
  n: number,
  rotaryDim: number,
  opts: Omit<RopeOptions, 'rotaryDim'> = {},
): { cos: Tensor; sin: Tensor } {
  if (!Number.isInteger(rotaryDim) || rotaryDim < 2 || rotaryDim % 2 !== 0) {
    fail('INVALID_ARGUMENT', `rope: rotaryDim must be a positive even integer, got ${rotaryDim}`);
  }
  const base = opts.base ?? 10000;
  const offset = opts.offset ?? 0;
  if (opts.positions && opts.positions.length !== n) {
    fail(
      'SHAPE_MISMATCH',
      `rope: positions has ${opts.positions.length} entries; expected one per row (N = ${n})`,
    );
  }
  const half = rotaryDim / 2;
  device.checkFits('f32', n * rotaryDim);
  const cos = hostArray('f32', n * rotaryDim) as Float32Array;
  const sin = hostArray('f32', n * rotaryDim) as Float32Array;
  for (let i = 0; i < n; i++) {
    const pos = opts.positions ? opts.positions[i]! : offset + i;
    for (let c = 0; c < half; c++) {
      const angle = pos * base ** (-(2 * c) / rotaryDim);
      for (const col of [c, c + half]) {
        cos[i * rotaryDim + col] = Math.cos(angle);
        sin[i * rotaryDim + col] = Math.sin(angle);
      }
    }
  }
  return { cos: device.tensor(cos, [n, rotaryDim]), sin: device.tensor(sin, [n, rotaryDim]) };
}

/**
 * Rotary position embedding (RoFormer, Su et al. 2021) of x [..., N, D] (q or k as [B, H, N, D]),
 * differentiable in x. Rotate-half formulation of HF Llama / GPT-NeoX: features c and c + D/2 form a
 * pair, `x·cos + rotateHalf(x)·sin` with rotateHalf(x) = [-x₂, x₁]. Checkpoints in the interleaved
 * GPT-J / Meta-Llama layout (pairs 2c, 2c+1) need their q/k projection rows permuted first (as HF's
 * conversion script does). Scores then depend on positions only through i - j.
 */
export function applyRope(x: Tensor, opts: RopeOptions = {}): Tensor {
  if (x.rank < 2) fail('SHAPE_MISMATCH', `applyRope: x must be [..., N, D], got ${fmt(x.shape)}`);
  const N = x.shape[x.rank - 2]!;
  const D = x.shape[x.rank - 1]!;
  const rd = opts.rotaryDim ?? D;
  if (rd > D) fail('INVALID_ARGUMENT', `applyRope: rotaryDim ${rd} exceeds the head dim D = ${D}`);
  return tidy(() => {
    const { cos, sin } = ropeTables(x.device, N, rd, opts); // [N, rd], broadcast over the leading dims
    const rot = rd === D ? x : x.slice(-1, 0, rd);
    const x1 = rot.slice(-1, 0, rd / 2);
    const x2 = rot.slice(-1, rd / 2, rd);
    const rotated = add(mul(rot, cos), mul(concat([neg(x2), x1], -1), sin));
    return rd === D ? rotated : concat([rotated, x.slice(-1, rd, D)], -1);
  });
}

// ---- ALiBi ---------------------------------------------------------------------------------------------

/**
 * ALiBi head slopes (Press et al. 2022): 2^(-8(h+1)/H) for H a power of two; otherwise those of the
 * nearest lower power of two followed by every other slope of the next one (the paper's `get_slopes`).
 */
export function alibiSlopes(nHead: number): Float32Array {
  positiveInt('alibiSlopes', 'nHead', nHead);
  const powerOf2 = (n: number) => Array.from({ length: n }, (_, h) => 2 ** ((-8 * (h + 1)) / n));
  const lower = 2 ** Math.floor(Math.log2(nHead));
  const slopes =
    lower === nHead
      ? powerOf2(nHead)
      : [...powerOf2(lower), ...powerOf2(2 * lower).filter((_, i) => i % 2 === 0)];
  return Float32Array.from(slopes.slice(0, nHead));
}

/**
 * ALiBi as an additive attention bias [1, H, Nq, Nk]: -slope_h · |j - (i + offset)| (pass `offset` =
 * Nk - Nq to align the last query with the last key when decoding with a cache). Under a causal mask
 * this is the paper's -slope·(i - j). For long sequences prefer `alibiScoreMod`, which computes the same
 * term in the kernel without an Nq x Nk tensor.
 */
export function alibiBias(
  device: Device,
  nHead: number,
  nq: number,
  nk: number,
  opts: { offset?: number } = {},
): Tensor {
  positiveInt('alibiBias', 'nq', nq);
  positiveInt('alibiBias', 'nk', nk);
  const slopes = alibiSlopes(nHead);
  const offset = opts.offset ?? 0;
  device.checkFits('f32', nHead * nq * nk);
  const out = hostArray('f32', nHead * nq * nk) as Float32Array;
  for (let h = 0; h < nHead; h++) {
    for (let i = 0; i < nq; i++) {
      for (let j = 0; j < nk; j++) out[(h * nq + i) * nk + j] = -slopes[h]! * Math.abs(j - (i + offset));
    }
  }
  return device.tensor(out, [1, nHead, nq, nk]);
}

/**
 * ALiBi computed inside the fused kernel: `score - slopes[h]·|i - j|` with `slopes` an f32 tensor [H]
 * (e.g. `device.tensor(alibiSlopes(H), [H])`, owned by the caller). Pass as `attention(..., { scoreMod })`.
 */
export function alibiScoreMod(slopes: Tensor): ScoreMod {
  return {
    name: 'alibi',
    wgsl: 'score - slopes_ld(h) * abs(f32(i) - f32(j))',
    ts: (s, _b, h, i, j, t) => s - t.slopes![h]! * Math.abs(i - j),
    tensors: { slopes },
  };
}

// ---- T5 relative position buckets ------------------------------------------------------------------------

export interface T5BucketOptions {
  /** Keys before and after the query get separate buckets (encoder; default true). Decoders use false. */
  bidirectional?: boolean;
  /** Default 32. */
  numBuckets?: number;
  /** Distances beyond this share the last bucket (default 128). */
  maxDistance?: number;
}

/**
 * The bucket of `relativePosition` = key position - query position, as HF T5
 * (`T5Attention._relative_position_bucket`): half the buckets exact for small distances, the rest
 * logarithmic up to maxDistance. The logarithm runs in float32 steps as PyTorch does, so bucket
 * boundaries match checkpoints exactly.
 */
export function t5RelativeBucket(relativePosition: number, opts: T5BucketOptions = {}): number {
  let numBuckets = opts.numBuckets ?? 32;
  const maxDistance = opts.maxDistance ?? 128;
  let bucket = 0;
  let rp = relativePosition;
  if (opts.bidirectional ?? true) {
    numBuckets = Math.floor(numBuckets / 2);
    if (rp > 0) bucket += numBuckets;
    rp = Math.abs(rp);
  } else rp = -Math.min(rp, 0);
  const maxExact = Math.floor(numBuckets / 2);
  if (rp < maxExact) return bucket + rp;
  const f = Math.fround;
  const scaled = f(
    f(f(Math.log(f(rp / maxExact))) / f(Math.log(maxDistance / maxExact))) * (numBuckets - maxExact),
  );
  return bucket + Math.min(maxExact + Math.trunc(scaled), numBuckets - 1);
}

export interface RelativePositionBiasOptions extends T5BucketOptions {
  numHeads: number;
  seed?: number;
}

/**
 * T5's learned relative position bias (Raffel et al. 2020): an `Embedding(numBuckets, numHeads)` named
 * `relative_attention_bias` (HF `T5Attention.relative_attention_bias.weight`). `forward(nq, nk)` returns the
 * additive bias [1, H, Nq, Nk] for `attention(..., { bias })`, differentiable in the table. T5 itself
 * does not scale scores: use it with `scale: 1` for HF parity.
 */
export class RelativePositionBias extends Module {
  readonly numHeads: number;
  readonly bucketOptions: Required<T5BucketOptions>;
  readonly relativeAttentionBias: Embedding;

  constructor(device: Device, opts: RelativePositionBiasOptions) {
    super(device);
    positiveInt('RelativePositionBias', 'numHeads', opts.numHeads);
    this.numHeads = opts.numHeads;
    this.bucketOptions = {
      bidirectional: opts.bidirectional ?? true,
      numBuckets: opts.numBuckets ?? 32,
      maxDistance: opts.maxDistance ?? 128,
    };
    positiveInt('RelativePositionBias', 'numBuckets', this.bucketOptions.numBuckets);
    const seed = mixSeed(opts.seed ?? nextSeed(), 'relative_attention_bias');
    this.relativeAttentionBias = this.registerModule(
      'relative_attention_bias',
      new Embedding(device, this.bucketOptions.numBuckets, opts.numHeads, { seed }),
    );
  }

  /** Bucket ids [Nq, Nk] for queries at offset..offset+nq-1 and keys at 0..nk-1. */
  buckets(nq: number, nk: number, opts: { offset?: number } = {}): Int32Array {
    const offset = opts.offset ?? 0;
    this.device.checkFits('i32', nq * nk);
    const ids = hostArray('i32', nq * nk) as Int32Array;
    for (let i = 0; i < nq; i++) {
      for (let j = 0; j < nk; j++) ids[i * nk + j] = t5RelativeBucket(j - (i + offset), this.bucketOptions);
    }
    return ids;
  }

  /**
   * The bias [1, H, Nq, Nk] for nq queries and nk keys; `offset` is the first query's position (decoding
   * with a cache: Nk - Nq, matching HF's slice of the last Nq rows).
   */
  forward(nq: number, nk: number, opts: { offset?: number } = {}): Tensor {
    positiveInt('RelativePositionBias', 'nq', nq);
    positiveInt('RelativePositionBias', 'nk', nk);
    return tidy(() => {
      const ids = this.device.tensor(this.buckets(nq, nk, opts), [nq, nk], { dtype: 'i32' });
      const values = embedding(this.relativeAttentionBias.weight, ids); // [Nq, Nk, H]
      return values.permute([2, 0, 1]).unsqueeze(0).contiguous(); // [1, H, Nq, Nk]
    });
  }
}
