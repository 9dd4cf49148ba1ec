/**
 * The position-wise feed-forward block of a Transformer. Two shapes, with the names their checkpoints
 * use: `linear2(dropout(act(linear1(x))))` (PyTorch `TransformerEncoderLayer`, Vaswani et al. 2017), and
 * SwiGLU `w2(dropout(silu(w1(x)) · w3(x)))` (Shazeer 2020; Llama's `w1` / `w2` / `w3`).
 */
import { gelu, mul, relu, silu } from '../autograd/functions.js';
import type { Device } from '../device.js';
import { fail } from '../errors.js';
import { tidy } from '../scope.js';
import { mixSeed, nextSeed } from '../seeded.js';
import type { Tensor } from '../tensor.js';
import { Dropout } from './dropout.js';
import { Linear } from './layers.js';
import { Module } from './module.js';

/** Pointwise activations by PyTorch name (`gelu` is the exact erf form; `gelu_tanh` is `approximate='tanh'`). */
export const ACTIVATIONS = {
  relu: (x: Tensor) => relu(x),
  gelu: (x: Tensor) => gelu(x),
  gelu_tanh: (x: Tensor) => gelu(x, { approximate: 'tanh' }),
  silu: (x: Tensor) => silu(x),
} as const;

export type ActivationName = keyof typeof ACTIVATIONS;

/** An activation by name, `'swiglu'` (the gated block), or any differentiable function of one tensor. */
export type FeedForwardActivation = ActivationName | 'swiglu' | ((x: Tensor) => Tensor);

export interface FeedForwardOptions {
  /** Default 'relu' (PyTorch's Transformer layers). */
  activation?: FeedForwardActivation;
  /** Dropout after the activation (default 0). */
  dropout?: number;
  /** Biases on the projections (default true; Llama uses false). */
  bias?: boolean;
  seed?: number;
}

/**
 * `FeedForward(dModel, dimFeedforward)`: [..., dModel] -> [..., dModel]. Parameters `linear1.*`,
 * `linear2.*`, or `w1.*` (gate input), `w3.*` (up), `w2.*` (down) for SwiGLU.
 */
export class FeedForward extends Module {
  readonly gated: boolean;
  private readonly act: (x: Tensor) => Tensor;
  private readonly inner: Linear;
  private readonly up: Linear | null;
  private readonly outer: Linear;
  private readonly drop: Dropout;

  constructor(
    device: Device,
    readonly dModel: number,
    readonly dimFeedforward: number,
    opts: FeedForwardOptions = {},
  ) {
    super(device);
    const activation = opts.activation ?? 'relu';
    const seed = opts.seed ?? nextSeed();
    const lin = (name: string, a: number, b: number) =>
      this.registerModule(
        name,
        new Linear(device, a, b, { bias: opts.bias ?? true, seed: mixSeed(seed, name) }),
      );
    this.gated = activation === 'swiglu';
    if (typeof activation === 'function') this.act = activation;
    else if (activation === 'swiglu') this.act = ACTIVATIONS.silu;
    else {
      const fn = ACTIVATIONS[activation];
      if (!fn) {
        fail(
          'INVALID_ARGUMENT',
          `FeedForward: activation ${JSON.stringify(activation)} is not one of ${[...Object.keys(ACTIVATIONS), 'swiglu'].join(', ')}`,
        );
      }
      this.act = fn;
    }
    if (this.gated) {
      this.inner = lin('w1', dModel, dimFeedforward);
      this.outer = lin('w2', dimFeedforward, dModel);
      this.up = lin('w3', dModel, dimFeedforward);
    } else {
      this.inner = lin('linear1', dModel, dimFeedforward);
      this.up = null;
      this.outer = lin('linear2', dimFeedforward, dModel);
    }
    this.drop = this.registerModule(
      'dropout',
      new Dropout(device, opts.dropout ?? 0, { seed: mixSeed(seed, 'dropout') }),
    );
  }

  /** x [..., dModel] -> [..., dModel] */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const h = this.act(this.inner.forward(x)); // [..., dimFeedforward]
      const gatedH = this.up ? mul(h, this.up.forward(x)) : h;
      return this.outer.forward(this.drop.forward(gatedH));
    });
  }
}
