/**
 * Dropout (Srivastava et al. 2014), inverted as in PyTorch: in training each element is zeroed with
 * probability p and the survivors are scaled by 1/(1 - p); in evaluation it is the identity. Masks come
 * from the counter-based generator of ops/random.ts, so a seed reproduces them on every backend.
 */
import { mul } from '../autograd/functions.js';
import type { Device } from '../device.js';
import { fail } from '../errors.js';
import { dropoutMask } from '../ops/random.js';
import { mixSeed, nextSeed } from '../seeded.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export interface DropoutOptions {
  /** Seed of the mask (default: the next seed of the global generator, see `manualSeed`). */
  seed?: number;
  /** Apply dropout (default true); false returns `x` itself, as PyTorch `F.dropout(training=False)`. */
  training?: boolean;
}

function checkP(op: string, p: number): void {
  if (!(p >= 0 && p <= 1)) fail('INVALID_ARGUMENT', `${op}: p must be in [0, 1], got ${p}`);
}

/** PyTorch `F.dropout(x, p, training)`, differentiable in x (the gradient is masked and scaled alike). */
export function dropout(x: Tensor, p: number, opts: DropoutOptions = {}): Tensor {
  checkP('dropout', p);
  if (!(opts.training ?? true) || p === 0) return x;
  // 0 or 1/(1-p) per element: kept where rand(seed) >= p, probability 1 - p
  const scale = dropoutMask(x.device, x.shape, p, { seed: opts.seed ?? nextSeed() });
  const y = mul(x, scale);
  scale.dispose();
  return y;
}

/**
 * `nn.Dropout(p)`: active in training mode, the identity after `eval()`. Each call draws a fresh mask
 * (seed mixed with a call counter), so training steps differ and a seeded run repeats exactly.
 */
export class Dropout extends Module {
  private readonly seed: number;
  private calls = 0;

  constructor(
    device: Device,
    readonly p = 0.5,
    opts: { seed?: number } = {},
  ) {
    super(device);
    checkP('Dropout', p);
    this.seed = opts.seed ?? nextSeed();
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return dropout(x, this.p, { seed: mixSeed(this.seed, this.calls++) });
  }
}
