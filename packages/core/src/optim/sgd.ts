/** Stochastic gradient descent with momentum (PyTorch `torch.optim.SGD`, same update order). */
import { fail } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Optimizer, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';
import { type SgdHyper, sgdUpdate } from './updates.js';

export type SGDOptions = { lr: number } & Partial<Omit<SgdHyper, 'lr'>>;

/**
 * g += weightDecay·p; buf = g on the first step, else momentum·buf + (1 - dampening)·g;
 * g = nesterov ? g + momentum·buf : buf; p -= lr·g.
 */
export class SGD extends Optimizer<SgdHyper> {
  constructor(params: ParamsInput<SgdHyper>, opts: SGDOptions) {
    super('SGD', params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...opts });
  }

  protected check(g: ParamGroup<SgdHyper>, i: number): void {
    for (const k of ['lr', 'momentum', 'dampening', 'weightDecay'] as const) {
      if (!(Number.isFinite(g[k]) && g[k] >= 0)) {
        fail('INVALID_ARGUMENT', `SGD: group ${i} ${k} is ${g[k]}; expected a finite number >= 0`);
      }
    }
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      fail('INVALID_ARGUMENT', `SGD: group ${i} nesterov needs momentum > 0 and dampening 0`);
    }
  }

  protected stateNames(g: ParamGroup<SgdHyper>): string[] {
    return g.momentum !== 0 ? ['momentum_buffer'] : [];
  }

  protected update(p: Tensor, grad: Tensor, s: ParamState, g: ParamGroup<SgdHyper>): void {
    sgdUpdate(p, grad, s.tensors.momentum_buffer ?? null, g, s.step === 1);
  }
}
