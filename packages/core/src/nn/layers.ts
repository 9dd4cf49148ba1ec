/**
 * Basic layers with PyTorch names, shapes and default initialization: `Linear`, `Embedding`,
 * `LayerNorm`, `RMSNorm`. Initial values are drawn from the seeded generator of ops/random.ts, so a
 * `seed` gives the same weights on every backend.
 */
import { add, layerNorm, matmul, rmsNorm } from '../autograd/functions.js';
import { embeddingWithPadding } from '../autograd/layout.js';
import type { Device } from '../device.js';
import { fail } from '../errors.js';
import { fillInPlace } from '../ops/elementwise.js';
import { rand, randn } from '../ops/random.js';
import { tidy } from '../scope.js';
import { mixSeed, nextSeed } from '../seeded.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** Throws INVALID_ARGUMENT naming `op` and `name` unless `v` is a positive integer (layer sizes). */
export function positiveInt(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1)
    fail('INVALID_ARGUMENT', `${op}: ${name} must be a positive integer, got ${v}`);
}

/** `x @ weight.T + bias` over the last dim of x (PyTorch `F.linear`); weight [out, in], bias [out]. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  const [out, inFeatures] = weight.shape as [number, number];
  if (weight.rank !== 2 || x.rank < 1 || x.shape[x.rank - 1] !== inFeatures) {
    fail(
      'SHAPE_MISMATCH',
      `linear: x ${fmt(x.shape)} does not end in weight's in-features (weight ${fmt(weight.shape)} is [out, in])`,
    );
  }
  return tidy(() => {
    // one 2-D product over every leading dim: the weight's gradient is then a single matmul
    const rows = x.rank === 2 ? x : x.reshape([-1, inFeatures]);
    const y = matmul(rows, weight.mT);
    const biased = bias ? add(y, bias) : y;
    return x.rank === 2 ? biased : biased.reshape([...x.shape.slice(0, -1), out]);
  });
}

export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Seed of the initial values (default: the global generator, see `manualSeed`). */
  seed?: number;
}

/**
 * A layer of one `weight` and an optional `bias` [weightShape[0]], both uniform in ±1/sqrt(fanIn)
 * (PyTorch's kaiming_uniform_(a=√5) default and its bias rule, shared by `nn.Linear` and `nn.Conv2d`), so
 * a PyTorch state dict loads as it is.
 */
export abstract class WeightBiasLayer extends Module {
  protected constructor(
    device: Device,
    weightShape: number[],
    fanIn: number,
    opts: { bias?: boolean; seed?: number },
  ) {
    super(device);
    const seed = opts.seed ?? nextSeed();
    const bound = 1 / Math.sqrt(fanIn);
    const uniform = (shape: number[], salt: string) =>
      rand(device, shape, { seed: mixSeed(seed, salt), low: -bound, high: bound });
    this.registerParameter('weight', uniform(weightShape, 'weight'));
    this.registerParameter('bias', (opts.bias ?? true) ? uniform([weightShape[0]!], 'bias') : null);
  }

  get weight(): Tensor {
    return this.param('weight')!;
  }

  get bias(): Tensor | null {
    return this.param('bias');
  }
}

/**
 * `y = x Wᵀ + b` (PyTorch `nn.Linear`): `weight` [outFeatures, inFeatures], `bias` [outFeatures], both
 * uniform in ±1/sqrt(inFeatures) (WeightBiasLayer).
 */
export class Linear extends WeightBiasLayer {
  constructor(
    device: Device,
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    positiveInt('Linear', 'inFeatures', inFeatures);
    positiveInt('Linear', 'outFeatures', outFeatures);
    super(device, [outFeatures, inFeatures], inFeatures, opts);
  }

  /** x [..., inFeatures] -> [..., outFeatures] */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

export interface EmbeddingOptions {
  /** This row starts at zero and gets no gradient (PyTorch `padding_idx`; negative counts from the end). */
  paddingIdx?: number;
  seed?: number;
}

/** Rows of `weight` for `ids`, with no gradient flowing into row `paddingIdx` (PyTorch `F.embedding`). */
export function embedding(weight: Tensor, ids: Tensor, opts: { paddingIdx?: number } = {}): Tensor {
  return embeddingWithPadding(weight, ids, opts.paddingIdx);
}

/**
 * A lookup table (PyTorch `nn.Embedding`): `weight` [numEmbeddings, embeddingDim] from N(0, 1), the
 * `paddingIdx` row zeroed. `forward(ids)` takes integer ids of any shape and returns [...ids.shape, dim].
 */
export class Embedding extends Module {
  readonly paddingIdx: number | null;

  constructor(
    device: Device,
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: EmbeddingOptions = {},
  ) {
    super(device);
    positiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    positiveInt('Embedding', 'embeddingDim', embeddingDim);
    const p = opts.paddingIdx;
    if (p !== undefined && (!Number.isInteger(p) || p < -numEmbeddings || p >= numEmbeddings)) {
      fail('INVALID_ARGUMENT', `Embedding: paddingIdx ${p} is outside [-${numEmbeddings}, ${numEmbeddings})`);
    }
    this.paddingIdx = p === undefined ? null : p < 0 ? p + numEmbeddings : p;
    const weight = randn(device, [numEmbeddings, embeddingDim], {
      seed: mixSeed(opts.seed ?? nextSeed(), 'weight'),
    });
    if (this.paddingIdx !== null) {
      const row = weight.slice(0, this.paddingIdx, this.paddingIdx + 1);
      fillInPlace(row, 0);
      row.dispose();
    }
    this.registerParameter('weight', weight);
  }

  get weight(): Tensor {
    return this.param('weight')!;
  }

  /** ids (i32) [...] -> [..., embeddingDim] */
  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids, this.paddingIdx === null ? {} : { paddingIdx: this.paddingIdx });
  }
}

export interface LayerNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn `weight` (ones) and `bias` (zeros) (default true). */
  elementwiseAffine?: boolean;
  /** Learn `bias` when elementwiseAffine (default true; PyTorch >= 2.1 `bias`). */
  bias?: boolean;
}

const shapeOf = (op: string, s: number | readonly number[]): number[] => {
  const shape = typeof s === 'number' ? [s] : [...s];
  if (shape.length === 0) fail('INVALID_ARGUMENT', `${op}: normalizedShape must not be empty`);
  for (const d of shape) positiveInt(op, 'normalizedShape', d);
  return shape;
};

/** A normalization over the trailing `normalizedShape` dims, with `weight` (ones) when `affine`. */
export abstract class TrailingNorm extends Module {
  readonly normalizedShape: readonly number[];

  protected constructor(
    device: Device,
    op: string,
    normalizedShape: number | readonly number[],
    readonly eps: number,
    affine: boolean,
  ) {
    super(device);
    this.normalizedShape = shapeOf(op, normalizedShape);
    this.registerParameter('weight', affine ? device.ones(this.normalizedShape) : null);
  }

  get weight(): Tensor | null {
    return this.param('weight');
  }
}

/** Layer normalization over the trailing `normalizedShape` dims (PyTorch `nn.LayerNorm`; biased variance). */
export class LayerNorm extends TrailingNorm {
  constructor(device: Device, normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    const affine = opts.elementwiseAffine ?? true;
    super(device, 'LayerNorm', normalizedShape, opts.eps ?? 1e-5, affine);
    this.registerParameter('bias', affine && (opts.bias ?? true) ? device.zeros(this.normalizedShape) : null);
  }

  get bias(): Tensor | null {
    return this.param('bias');
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
}

export interface RMSNormOptions {
  /**
   * Added to the mean square. Default: float32 machine epsilon (2⁻²³), PyTorch `nn.RMSNorm(eps=None)`;
   * Llama checkpoints use 1e-5 or 1e-6 — pass theirs.
   */
  eps?: number;
  /** Learn `weight` (ones) (default true). */
  elementwiseAffine?: boolean;
}

/** `x · rsqrt(mean(x²) + eps) · weight` over the trailing dims (PyTorch `nn.RMSNorm`, Zhang & Sennrich 2019). */
export class RMSNorm extends TrailingNorm {
  constructor(device: Device, normalizedShape: number | readonly number[], opts: RMSNormOptions = {}) {
    super(device, 'RMSNorm', normalizedShape, opts.eps ?? 2 ** -23, opts.elementwiseAffine ?? true);
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.normalizedShape, { weight: this.weight, eps: this.eps });
  }
}
