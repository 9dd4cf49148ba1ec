/**
 * Learning-rate schedules as plain functions of the step, and an `LRScheduler` that applies one to an
 * optimizer (PyTorch `LambdaLR` driving Hugging Face's schedule lambdas).
 */
import { fail } from '../errors.js';
import type { Optimizer } from './optimizer.js';

/** The learning rate at `step` (0-based: the lr of the step-th `optimizer.step()`) for base rate `baseLr`. */
export type Schedule = (step: number, baseLr: number) => number;

export interface WarmupOptions {
  warmupSteps: number;
  /** Where the decay ends; needed by the cosine schedule, optional for linear (constant after warmup). */
  totalSteps?: number;
  /** The learning rate the decay ends at (default 0). */
  minLr?: number;
}

function checkSteps(name: string, o: WarmupOptions, needsTotal: boolean): void {
  if (!(Number.isInteger(o.warmupSteps) && o.warmupSteps >= 0)) {
    fail('INVALID_ARGUMENT', `${name}: warmupSteps ${o.warmupSteps} must be an integer >= 0`);
  }
  if (needsTotal && o.totalSteps === undefined) fail('INVALID_ARGUMENT', `${name}: totalSteps is required`);
  if (o.totalSteps !== undefined && !(Number.isInteger(o.totalSteps) && o.totalSteps >= o.warmupSteps)) {
    fail(
      'INVALID_ARGUMENT',
      `${name}: totalSteps ${o.totalSteps} must be an integer >= warmupSteps ${o.warmupSteps}`,
    );
  }
}

/** Linear warmup from 0 over `warmupSteps` (HF: step / max(1, warmupSteps)). */
const warmup = (step: number, warmupSteps: number) => step / Math.max(1, warmupSteps);

/**
 * Hugging Face `get_cosine_schedule_with_warmup` (num_cycles 0.5): linear warmup, then half a cosine
 * from the base rate down to `minLr` at `totalSteps` (HF `get_cosine_with_min_lr_schedule_with_warmup`
 * when minLr > 0). Past `totalSteps` the rate stays at `minLr` (HF's formula would rise again).
 */
export function cosineWithWarmup(opts: WarmupOptions & { totalSteps: number }): Schedule {
  checkSteps('cosineWithWarmup', opts, true);
  const { warmupSteps, totalSteps, minLr = 0 } = opts;
  return (step, baseLr) => {
    if (step < warmupSteps) return baseLr * warmup(step, warmupSteps);
    const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
    const factor = Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
    return minLr === 0 ? baseLr * factor : minLr + (baseLr - minLr) * factor;
  };
}

/**
 * Linear warmup, then constant (HF `get_constant_schedule_with_warmup`) or, with `totalSteps`, linear
 * decay to `minLr` (HF `get_linear_schedule_with_warmup`).
 */
export function linearWarmup(opts: WarmupOptions): Schedule {
  checkSteps('linearWarmup', opts, false);
  const { warmupSteps, totalSteps, minLr = 0 } = opts;
  return (step, baseLr) => {
    if (step < warmupSteps) return baseLr * warmup(step, warmupSteps);
    if (totalSteps === undefined) return baseLr;
    const factor = Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
    return minLr + (baseLr - minLr) * factor;
  };
}

/** The base rate at every step. */
export const constant = (): Schedule => (_step, baseLr) => baseLr;

/**
 * Sets each parameter group's `lr` to `schedule(step, initialLr)`: at construction for `lastStep`
 * (default 0), then after every `step()`. Call `scheduler.step()` after `optimizer.step()`. The base
 * rate is kept in each group as `initialLr` (PyTorch's `initial_lr`), so it travels in the optimizer's
 * state dict and a resumed run needs only `lastStep`.
 */
export class LRScheduler {
  lastStep: number;

  constructor(
    readonly optimizer: Optimizer<{ lr: number }>,
    readonly schedule: Schedule,
    opts: { lastStep?: number } = {},
  ) {
    for (const g of optimizer.paramGroups) g.initialLr ??= g.lr;
    this.lastStep = opts.lastStep ?? 0;
    this.apply();
  }

  step(): void {
    this.lastStep++;
    this.apply();
  }

  /** The learning rate of the first group now. */
  get lr(): number {
    return this.optimizer.paramGroups[0]?.lr ?? Number.NaN;
  }

  stateDict(): { lastStep: number } {
    return { lastStep: this.lastStep };
  }

  loadStateDict(sd: { lastStep: number }): void {
    if (!Number.isInteger(sd.lastStep) || sd.lastStep < 0) {
      fail('INVALID_ARGUMENT', `LRScheduler.loadStateDict: lastStep ${sd.lastStep} must be an integer >= 0`);
    }
    this.lastStep = sd.lastStep;
    this.apply();
  }

  private apply(): void {
    for (const g of this.optimizer.paramGroups) g.lr = this.schedule(this.lastStep, g.initialLr ?? g.lr);
  }
}
