/**
 * Exponential moving average of parameters (Polyak averaging; the `torch_ema` package's
 * `ExponentialMovingAverage`, timm's `ModelEmaV2`): after each optimizer step, `update()` moves a shadow
 * copy of every parameter toward it, shadow = decay·shadow + (1 - decay)·param. Evaluating with the
 * averaged weights (`copyTo`, or `store` / `copyTo` / `restore` around an evaluation) smooths the last
 * steps' noise. With `warmup` (default true) the decay is min(decay, (1 + n) / (10 + n)) at update n, as
 * torch_ema's `use_num_updates`, so early shadows are not stuck near the initial weights.
 */

import { noGrad } from '../autograd/engine.js';
import { fail } from '../errors.js';
import * as ew from '../ops/elementwise.js';
import { tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';

export interface ExponentialMovingAverageOptions {
  /** Weight of the old average, in [0, 1) (default 0.999). */
  decay?: number;
  /** Ramp the decay up over the first updates (default true). */
  warmup?: boolean;
}

export class ExponentialMovingAverage {
  readonly decay: number;
  private readonly warmup: boolean;
  private readonly params: readonly Tensor[];
  /** The averaged values, one per parameter (owned here: `dispose` frees them). */
  readonly shadow: readonly Tensor[];
  private stored: Tensor[] | null = null;
  /** Updates so far. */
  numUpdates = 0;

  constructor(params: readonly Tensor[], opts: ExponentialMovingAverageOptions = {}) {
    const decay = opts.decay ?? 0.999;
    if (!(decay >= 0 && decay < 1)) {
      fail('INVALID_ARGUMENT', `ExponentialMovingAverage: decay is ${decay}; expected a number in [0, 1)`);
    }
    if (params.length === 0) fail('INVALID_ARGUMENT', 'ExponentialMovingAverage: no parameters given');
    params.forEach((p, i) => {
      if (p.dtype !== 'f32')
        fail('INVALID_ARGUMENT', `ExponentialMovingAverage: parameter ${i} is ${p.dtype}; expected f32`);
    });
    this.decay = decay;
    this.warmup = opts.warmup ?? true;
    this.params = [...params];
    this.shadow = noGrad(() => params.map((p) => ew.copy(p)));
  }

  /** The decay the next update uses. */
  currentDecay(): number {
    const n = this.numUpdates;
    return this.warmup ? Math.min(this.decay, (1 + n) / (10 + n)) : this.decay;
  }

  /** shadow = d·shadow + (1 - d)·param for every parameter (call after each optimizer step). */
  update(): void {
    const d = this.currentDecay();
    noGrad(() => {
      this.params.forEach((p, i) => {
        const s = this.shadow[i]!;
        tidy(() => ew.copyInto(s, ew.add(ew.mul(s, d), ew.mul(p, 1 - d))));
      });
    });
    this.numUpdates++;
  }

  /** Writes the averages into the parameters (or into `params`, in the same order). */
  copyTo(params: readonly Tensor[] = this.params): void {
    if (params.length !== this.shadow.length) {
      fail(
        'INVALID_ARGUMENT',
        `ExponentialMovingAverage.copyTo: ${params.length} parameters; expected ${this.shadow.length}`,
      );
    }
    noGrad(() => {
      params.forEach((p, i) => {
        ew.copyInto(p, this.shadow[i]!);
      });
    });
  }

  /** Saves the parameters' current values (for `restore` after evaluating with the averages). */
  store(): void {
    for (const t of this.stored ?? []) t.dispose();
    this.stored = noGrad(() => this.params.map((p) => ew.copy(p)));
  }

  /** Puts back what `store` saved. */
  restore(): void {
    if (!this.stored) fail('INVALID_ARGUMENT', 'ExponentialMovingAverage.restore: nothing stored');
    const stored = this.stored;
    noGrad(() => {
      this.params.forEach((p, i) => {
        ew.copyInto(p, stored[i]!);
      });
    });
    for (const t of stored) t.dispose();
    this.stored = null;
  }

  dispose(): void {
    for (const t of [...this.shadow, ...(this.stored ?? [])]) t.dispose();
    this.stored = null;
  }
}
