/**
 * The optimizer base (PyTorch `torch.optim.Optimizer`, lite): parameter groups with their own
 * hyper-parameters, per-parameter state tensors updated in place, `zeroGrad`, and a state dict that
 * resumes a run exactly.
 *
 * `step()` is synchronous: it queues one fused kernel per parameter (optim/updates.ts) and reads
 * nothing back, so a whole training step fits in one `tidy` and the GPU queue stays full. Parameters
 * are updated in place: the tensors a model holds stay the same objects.
 */
import { fail } from '../errors.js';
import { copy } from '../ops/elementwise.js';
import { untrack } from '../scope.js';
import { fmt, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';

/** Hyper-parameter values of a group (numbers, flags, pairs such as betas): what goes to JSON. */
export type HyperValue = number | boolean | readonly number[];

/** A group of parameters and its hyper-parameters; `initialLr` is set by an `LRScheduler`. */
export type ParamGroup<H> = H & { params: Tensor[]; initialLr?: number };

/** Parameters as a list, or groups that override some of the optimizer's options. */
export type ParamsInput<H> = readonly Tensor[] | readonly ({ params: readonly Tensor[] } & Partial<H>)[];

/** Host data as `io.readSafetensors` / `loadCheckpoint` give it. */
export interface HostArray {
  shape: readonly number[];
  data: ArrayLike<number> | ArrayLike<bigint>;
}

/**
 * What `stateDict()` returns and `loadStateDict()` takes (PyTorch's `state_dict()` layout):
 * parameters are referred to by their index in group order.
 */
export interface OptimizerStateDict<T = Tensor> {
  /** Calls of `step()` so far. */
  step: number;
  /** Hyper-parameters of each group and the indices of its parameters. */
  paramGroups: (Record<string, HyperValue> & { params: number[] })[];
  /** Per parameter index (absent before its first update): its step count and state tensors. */
  state: Record<number, { step: number; tensors: Record<string, T> }>;
}

export interface ParamState {
  /** Updates this parameter has had (PyTorch keeps it per parameter: skipped steps do not count). */
  step: number;
  tensors: Record<string, Tensor>;
}

export abstract class Optimizer<H extends { lr: number }> {
  readonly paramGroups: ParamGroup<H>[];
  /** Calls of `step()` so far. */
  stepCount = 0;
  protected readonly state = new Map<Tensor, ParamState>();

  constructor(
    readonly name: string,
    params: ParamsInput<H>,
    defaults: H,
  ) {
    const groups: ({ params: readonly Tensor[] } & Partial<H>)[] =
      params.length > 0 && params[0] instanceof Tensor
        ? [{ params: params as readonly Tensor[] } as { params: readonly Tensor[] } & Partial<H>]
        : [...(params as readonly ({ params: readonly Tensor[] } & Partial<H>)[])];
    if (groups.length === 0 || groups.every((g) => g.params.length === 0)) {
      fail('INVALID_ARGUMENT', `${name}: got an empty parameter list`);
    }
    const seen = new Set<Tensor>();
    this.paramGroups = groups.map((g, gi) => {
      const list = [...g.params];
      list.forEach((p, i) => {
        const where = `group ${gi} param ${i}`;
        if (!(p instanceof Tensor)) fail('INVALID_ARGUMENT', `${name}: ${where} is not a Tensor`);
        if (seen.has(p)) fail('INVALID_ARGUMENT', `${name}: ${where} (tensor #${p.id}) appears twice`);
        seen.add(p);
        if (p.dtype !== 'f32') {
          fail('DTYPE_MISMATCH', `${name}: ${where} ${fmt(p.shape)} has dtype ${p.dtype}; expected f32`);
        }
        if (!p.isLeaf) {
          fail('INVALID_ARGUMENT', `${name}: ${where} is computed (${p.gradFn?.name}); optimize leaves only`);
        }
        if (!p.isContiguous) {
          fail(
            'INVALID_ARGUMENT',
            `${name}: ${where} ${fmt(p.shape)} is a strided view; pass contiguous tensors`,
          );
        }
      });
      const group = { ...defaults, ...g, params: list } as ParamGroup<H>;
      this.check(group, gi);
      return group;
    });
  }

  /** Validates a group's hyper-parameters (each optimizer names its own). */
  protected abstract check(group: ParamGroup<H>, index: number): void;

  /** Updates one parameter in place from its gradient; `state.step` already counts this update. */
  protected abstract update(p: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<H>): void;

  /** Names of the state tensors a parameter gets (shape of the parameter each). */
  protected abstract stateNames(group: ParamGroup<H>): string[];

  /** Every parameter, in group order (the indices the state dict uses). */
  get params(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** Updates every parameter that has a `.grad` (others are skipped, as in PyTorch). */
  step(): void {
    this.stepCount++;
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const grad = p.grad;
        if (!grad) continue;
        if (p.disposed) fail('DISPOSED', `${this.name}.step: parameter #${p.id} was disposed`);
        if (!sameShape(grad.shape, p.shape)) {
          fail('SHAPE_MISMATCH', `${this.name}.step: grad ${fmt(grad.shape)} of parameter ${fmt(p.shape)}`);
        }
        if (grad.device !== p.device) fail('DEVICE_MISMATCH', `${this.name}.step: grad on another device`);
        if (grad.dtype !== 'f32')
          fail('DTYPE_MISMATCH', `${this.name}.step: grad has dtype ${grad.dtype}; expected f32`);
        let state = this.state.get(p);
        if (!state) {
          const tensors: Record<string, Tensor> = {};
          for (const n of this.stateNames(group)) tensors[n] = this.own(p.device.zeros(p.shape, 'f32'));
          state = { step: 0, tensors };
          this.state.set(p, state);
        }
        state.step++;
        const g = grad.isContiguous ? grad : grad.contiguous();
        try {
          this.update(p, g, state, group);
        } finally {
          if (g !== grad) g.dispose();
        }
      }
    }
  }

  /** Drops every parameter's gradient (PyTorch `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /**
   * The step counts, hyper-parameters and state tensors. The tensors are the optimizer's own (not
   * copies): read them before the next `step()` changes them, and do not dispose them.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map(this.params.map((p, i) => [p, i]));
    const state: OptimizerStateDict['state'] = {};
    for (const [p, s] of this.state) state[index.get(p)!] = { step: s.step, tensors: { ...s.tensors } };
    let next = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...hyper } = g;
      return { ...(hyper as unknown as Record<string, HyperValue>), params: params.map(() => next++) };
    });
    return { step: this.stepCount, paramGroups, state };
  }

  /**
   * Restores `stateDict()` output (device tensors, or host arrays from `loadCheckpoint`): copies the
   * state into this optimizer's own tensors and takes the hyper-parameters (lr included) of each group.
   */
  loadStateDict(sd: OptimizerStateDict<Tensor | HostArray>): void {
    const where = `${this.name}.loadStateDict`;
    const params = this.params;
    checkStateShape(where, sd);
    if (sd.paramGroups.length !== this.paramGroups.length) {
      fail(
        'INVALID_ARGUMENT',
        `${where}: ${sd.paramGroups.length} groups; this optimizer has ${this.paramGroups.length}`,
      );
    }
    sd.paramGroups.forEach((g, gi) => {
      const group = this.paramGroups[gi]!;
      if (g.params.length !== group.params.length) {
        fail(
          'INVALID_ARGUMENT',
          `${where}: group ${gi} has ${g.params.length} parameters; expected ${group.params.length}`,
        );
      }
      for (const [key, value] of Object.entries(g))
        if (key !== 'params') checkHyper(where, gi, group, key, value);
    });
    const loaded = new Map<Tensor, ParamState>();
    try {
      for (const [key, s] of Object.entries(sd.state)) {
        const i = Number(key);
        const p = params[i];
        if (!p) fail('INVALID_ARGUMENT', `${where}: state for parameter ${key}; there are ${params.length}`);
        const group = this.paramGroups.find((g) => g.params.includes(p))!;
        const want = this.stateNames(group).sort();
        const got = Object.keys(s.tensors).sort();
        if (want.join() !== got.join()) {
          fail(
            'INVALID_ARGUMENT',
            `${where}: parameter ${i} has state [${got.join(', ')}]; expected [${want.join(', ')}]`,
          );
        }
        const tensors: Record<string, Tensor> = {};
        loaded.set(p, { step: s.step, tensors });
        for (const n of want)
          tensors[n] = this.own(this.upload(p, s.tensors[n]!, `${where}: ${n} of parameter ${i}`));
      }
    } catch (e) {
      for (const s of loaded.values()) for (const t of Object.values(s.tensors)) t.dispose();
      throw e;
    }
    for (const s of this.state.values()) for (const t of Object.values(s.tensors)) t.dispose();
    this.state.clear();
    for (const [p, s] of loaded) this.state.set(p, s);
    sd.paramGroups.forEach((g, gi) => {
      const group = this.paramGroups[gi]! as unknown as Record<string, unknown>;
      // own keys only, each checked above: a "__proto__" from a file never reaches a prototype
      for (const key of Object.keys(g)) if (key !== 'params') group[key] = g[key];
    });
    this.stepCount = sd.step;
  }

  /** Frees the state tensors. */
  dispose(): void {
    for (const s of this.state.values()) for (const t of Object.values(s.tensors)) t.dispose();
    this.state.clear();
  }

  private upload(p: Tensor, value: Tensor | HostArray, what: string): Tensor {
    if (!sameShape(value.shape, p.shape)) {
      fail('SHAPE_MISMATCH', `${what} has shape ${fmt(value.shape)}; expected ${fmt(p.shape)}`);
    }
    if (value instanceof Tensor) {
      if (value.device !== p.device)
        fail('DEVICE_MISMATCH', `${what} is on another device than the parameter`);
      if (value.dtype !== 'f32') fail('DTYPE_MISMATCH', `${what} has dtype ${value.dtype}; expected f32`);
      return copy(value);
    }
    if (typeof value.data[0] === 'bigint')
      fail('DTYPE_MISMATCH', `${what} holds 64-bit integers; expected f32`);
    return p.device.tensor(Float32Array.from(value.data as ArrayLike<number>), p.shape);
  }

  /** State belongs to the optimizer, not to the `tidy` scope a step runs in. */
  private own(t: Tensor): Tensor {
    untrack(t);
    return t;
  }
}

/** The state dict's layout, checked before anything is loaded (it may come from a file). */
function checkStateShape(where: string, sd: OptimizerStateDict<unknown>): void {
  const bad = (what: string): never => fail('INVALID_ARGUMENT', `${where}: ${what}`);
  if (typeof sd !== 'object' || sd === null) bad('expected { step, paramGroups, state }');
  if (!Number.isSafeInteger(sd.step) || sd.step < 0) bad(`step ${sd.step} must be an integer >= 0`);
  if (!Array.isArray(sd.paramGroups)) bad('paramGroups must be an array');
  for (const g of sd.paramGroups) {
    if (typeof g !== 'object' || g === null || !Array.isArray(g.params))
      bad('each group needs a params list');
  }
  if (typeof sd.state !== 'object' || sd.state === null) bad('state must be an object');
  for (const [key, s] of Object.entries(sd.state)) {
    if (typeof s !== 'object' || s === null || typeof s.tensors !== 'object' || s.tensors === null)
      bad(`state[${JSON.stringify(key)}] must be { step, tensors }`);
    if (!Number.isSafeInteger(s.step) || s.step < 0)
      bad(`state[${JSON.stringify(key)}].step ${s.step} must be an integer >= 0`);
  }
}

/** A hyper-parameter from a state dict: one the group has (or the scheduler's initialLr), of its kind. */
function checkHyper(where: string, gi: number, group: object, key: string, value: unknown): void {
  const current = (group as Record<string, unknown>)[key];
  if (!Object.hasOwn(group, key) && key !== 'initialLr') {
    fail('INVALID_ARGUMENT', `${where}: group ${gi} has unknown hyper-parameter ${JSON.stringify(key)}`);
  }
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const ok =
    typeof current === 'boolean'
      ? typeof value === 'boolean'
      : Array.isArray(current)
        ? Array.isArray(value) && value.length === current.length && value.every(finite)
        : finite(value);
  if (!ok) {
    fail(
      'INVALID_ARGUMENT',
      `${where}: group ${gi} ${key} = ${JSON.stringify(value)}; expected ${Array.isArray(current) ? `${current.length} finite numbers` : typeof current === 'boolean' ? 'a boolean' : 'a finite number'}`,
    );
  }
}
