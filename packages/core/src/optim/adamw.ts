/** AdamW (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization"; PyTorch `torch.optim.AdamW`). */
import { fail } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Optimizer, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';
import { type AdamWHyper, adamwUpdate } from './updates.js';

export type AdamWOptions = Partial<AdamWHyper>;

/**
 * p *= 1 - lr·weightDecay; m = β1·m + (1 - β1)·g; v = β2·v + (1 - β2)·g²;
 * p -= lr / (1 - β1^t) · m / (sqrt(v) / sqrt(1 - β2^t) + eps)  (v replaced by its running max with AMSGrad).
 * Defaults are PyTorch's: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0.01.
 */
export class AdamW extends Optimizer<AdamWHyper> {
  constructor(params: ParamsInput<AdamWHyper>, opts: AdamWOptions = {}) {
    super('AdamW', params, {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0.01,
      amsgrad: false,
      ...opts,
    });
  }

  protected check(g: ParamGroup<AdamWHyper>, i: number): void {
    for (const k of ['lr', 'eps', 'weightDecay'] as const) {
      if (!(Number.isFinite(g[k]) && g[k] >= 0)) {
        fail('INVALID_ARGUMENT', `AdamW: group ${i} ${k} is ${g[k]}; expected a finite number >= 0`);
      }
    }
    const b = g.betas;
    if (!Array.isArray(b) || b.length !== 2 || !b.every((x) => x >= 0 && x < 1)) {
      fail(
        'INVALID_ARGUMENT',
        `AdamW: group ${i} betas ${JSON.stringify(b)}; expected [beta1, beta2] in [0, 1)`,
      );
    }
  }

  protected stateNames(g: ParamGroup<AdamWHyper>): string[] {
    return g.amsgrad ? ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] : ['exp_avg', 'exp_avg_sq'];
  }

  protected update(p: Tensor, grad: Tensor, s: ParamState, g: ParamGroup<AdamWHyper>): void {
    const { exp_avg: m, exp_avg_sq: v, max_exp_avg_sq: vmax } = s.tensors;
    adamwUpdate(p, grad, m!, v!, vmax ?? null, g, s.step);
  }
}
