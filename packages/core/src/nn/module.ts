/**
 * `nn.Module`: the PyTorch module contract. A module owns named parameters (leaf tensors that require
 * grad), buffers (state that is saved but not trained) and child modules; names join with dots into
 * PyTorch `state_dict` keys (`layers.0.self_attn.in_proj_weight`), so safetensors files move both ways.
 *
 * Lifetimes: a module owns its parameters and buffers (they are taken out of every `tidy` scope when
 * registered) and frees them in `dispose()`. Loading a state dict copies values into the existing
 * tensors, so an optimizer holding `parameters()` keeps working after `loadStateDict`.
 */
import { noGrad } from '../autograd/engine.js';
import type { Device } from '../device.js';
import { fail } from '../errors.js';
import { cast, copyInto } from '../ops/elementwise.js';
import { untrack } from '../scope.js';
import { fmt, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkStateValue, isBigIntArray, isFloatData, type StateValue } from './state-values.js';

// ---- Module ----------------------------------------------------------------------------------------

export type { StateValue } from './state-values.js';

export interface LoadStateDictOptions {
  /** Missing and unexpected keys are errors (default true, as PyTorch). Mis-shaped keys always are. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

const join = (prefix: string, name: string) => (prefix && name ? `${prefix}.${name}` : prefix || name);

export class Module {
  /** Training mode (dropout active); `train()` / `eval()` set it on the whole tree. */
  training = true;
  private readonly params = new Map<string, Tensor | null>();
  private readonly buffers = new Map<string, { tensor: Tensor; persistent: boolean }>();
  private readonly children = new Map<string, Module>();

  constructor(readonly device: Device) {}

  /** The module's name in error messages. */
  protected get typeName(): string {
    return this.constructor.name || 'Module';
  }

  private checkName(kind: string, name: string, allowEmpty = false): void {
    if ((!name && !allowEmpty) || name.includes('.')) {
      fail(
        'INVALID_ARGUMENT',
        `${this.typeName}: ${kind} name ${JSON.stringify(name)} must be non-empty, without dots`,
      );
    }
    if (name && (this.params.has(name) || this.buffers.has(name) || this.children.has(name))) {
      fail(
        'INVALID_ARGUMENT',
        `${this.typeName}: ${kind} name ${JSON.stringify(name)} is already registered`,
      );
    }
  }

  /**
   * Registers `t` as parameter `name` (PyTorch `register_parameter`): it becomes a leaf that requires
   * grad, owned by this module. `null` registers an absent parameter (a layer built with `bias: false`).
   */
  protected registerParameter(name: string, t: Tensor): Tensor;
  protected registerParameter(name: string, t: Tensor | null): Tensor | null;
  protected registerParameter(name: string, t: Tensor | null): Tensor | null {
    this.checkName('parameter', name);
    if (t) this.adopt(name, t).requiresGrad_(true);
    this.params.set(name, t);
    return t;
  }

  /** Registers non-trainable state (PyTorch `register_buffer`); `persistent: false` keeps it out of `stateDict`. */
  protected registerBuffer(name: string, t: Tensor, opts: { persistent?: boolean } = {}): Tensor {
    this.checkName('buffer', name);
    this.adopt(name, t);
    this.buffers.set(name, { tensor: t, persistent: opts.persistent ?? true });
    return t;
  }

  /**
   * Registers a child module under `name`; its parameters are named `name.<its names>`. The empty name
   * inlines the child: its names join this module's directly (how `FeedForward` puts `linear1` and
   * `linear2` straight on a Transformer layer, as PyTorch names them).
   */
  protected registerModule<M extends Module>(name: string, m: M): M {
    this.checkName('module', name, true);
    if (m.device !== this.device)
      fail('DEVICE_MISMATCH', `${this.typeName}: module ${name} is on another device`);
    this.children.set(name || `#${this.children.size}`, m);
    return m;
  }

  private adopt(name: string, t: Tensor): Tensor {
    if (t.device !== this.device) fail('DEVICE_MISMATCH', `${this.typeName}: ${name} is on another device`);
    if (t.gradFn) {
      fail(
        'INVALID_ARGUMENT',
        `${this.typeName}: ${name} must be a leaf tensor, got one computed by ${t.gradFn.name}`,
      );
    }
    untrack(t);
    return t;
  }

  /** This module's own parameter `name` (null when registered as absent). */
  protected param(name: string): Tensor | null {
    const t = this.params.get(name);
    if (t === undefined) fail('INVALID_ARGUMENT', `${this.typeName}: no parameter ${JSON.stringify(name)}`);
    return t;
  }

  /** This module's own buffer `name`. */
  protected buffer(name: string): Tensor {
    const b = this.buffers.get(name);
    if (!b) fail('INVALID_ARGUMENT', `${this.typeName}: no buffer ${JSON.stringify(name)}`);
    return b.tensor;
  }

  /**
   * Replaces this module's parameter `name` with `t` (used as is: pass a leaf that requires grad, such
   * as another module's parameter, to tie weights). Returns the previous tensor, which the caller now
   * owns (dispose it unless it is still used elsewhere).
   */
  setParameter(name: string, t: Tensor): Tensor | null {
    const before = this.param(name);
    if (before && !sameShape(before.shape, t.shape)) {
      fail(
        'SHAPE_MISMATCH',
        `${this.typeName}.setParameter: ${name} is ${fmt(before.shape)}; got ${fmt(t.shape)}`,
      );
    }
    this.adopt(name, t);
    this.params.set(name, t);
    return before;
  }

  /** Direct children by name (inlined children under `#<index>`). */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** Every module of the tree with its dotted name ('' for this one), parents before children. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, m] of this.children)
      out.push(...m.namedModules(join(prefix, name.startsWith('#') ? '' : name)));
    return out;
  }

  private *entries(kind: 'params' | 'buffers', prefix = ''): Generator<[string, Tensor, boolean]> {
    if (kind === 'params') {
      for (const [name, t] of this.params) if (t) yield [join(prefix, name), t, true];
    } else {
      for (const [name, b] of this.buffers) yield [join(prefix, name), b.tensor, b.persistent];
    }
    for (const [name, m] of this.children)
      yield* m.entries(kind, join(prefix, name.startsWith('#') ? '' : name));
  }

  /** Parameters with their dotted PyTorch names; a tensor shared by several names (tied weights) is listed once. */
  namedParameters(): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [name, t] of this.entries('params')) {
      if (seen.has(t)) continue;
      seen.add(t);
      out.push([name, t]);
    }
    return out;
  }

  /** Every trainable tensor once, in registration order (what an optimizer takes). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(): [string, Tensor][] {
    return [...this.entries('buffers')].map(([name, t]) => [name, t]);
  }

  /** Number of trainable values (PyTorch `sum(p.numel() for p in m.parameters())`). */
  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /**
   * Parameters and persistent buffers by PyTorch `state_dict` name (tied weights under each of their
   * names, as PyTorch). The tensors are the module's own: read them, do not dispose them.
   */
  stateDict(): Record<string, Tensor> {
    // prototype-free: a parameter named like an Object.prototype member is a plain key
    const out: Record<string, Tensor> = Object.create(null);
    for (const kind of ['params', 'buffers'] as const) {
      for (const [name, t, persistent] of this.entries(kind)) {
        if (!persistent) continue;
        if (Object.hasOwn(out, name) && out[name] !== t)
          fail('INVALID_ARGUMENT', `${this.typeName}: two tensors are named ${name}`);
        out[name] = t;
      }
    }
    return out;
  }

  /**
   * Copies PyTorch-named values (device tensors on this device, or host tensors from
   * `io.readSafetensors`) into the existing parameters and buffers, converting dtypes as PyTorch does.
   * All or nothing: every entry is checked (missing, unexpected, mis-shaped, null, disposed, on another
   * device, host data of the wrong length or values the target dtype cannot hold) and converted before
   * anything is copied, and one error lists every problem. Keys are own properties only (`toString`
   * or `__proto__` are names like any other). A tied weight counts as present when any of its names is.
   */
  loadStateDict(state: Record<string, StateValue>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const where = `${this.typeName}.loadStateDict`;
    if (typeof state !== 'object' || state === null || Array.isArray(state))
      fail('INVALID_ARGUMENT', `${where}: expected an object of name -> tensor, got ${String(state)}`);
    const strict = opts.strict ?? true;
    if (typeof strict !== 'boolean')
      fail('INVALID_ARGUMENT', `${where}: strict must be a boolean, got ${String(strict)}`);
    const own = this.stateDict();
    const given = Object.keys(state);
    const has = (o: object, k: string) => Object.hasOwn(o, k);
    const present = new Set<Tensor>();
    for (const name of Object.keys(own)) if (has(state, name)) present.add(own[name]!);
    const missingKeys = Object.keys(own).filter((k) => !has(state, k) && !present.has(own[k]!));
    const unexpectedKeys = given.filter((k) => !has(own, k));
    const problems: string[] = [];
    if (strict && missingKeys.length) problems.push(`missing keys [${missingKeys.join(', ')}]`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected keys [${unexpectedKeys.join(', ')}]`);
    for (const name of given) {
      if (!has(own, name)) continue;
      const problem = checkStateValue(name, state[name], own[name]!, this.device);
      if (problem) problems.push(problem);
    }
    if (problems.length) {
      const onlyShapes = problems.every((p) => p.startsWith('mis-shaped'));
      fail(
        onlyShapes ? 'SHAPE_MISMATCH' : 'INVALID_ARGUMENT',
        `${where}: the state dict does not fit this module (nothing was copied):\n  ${problems.join('\n  ')}`,
      );
    }
    noGrad(() => {
      // convert everything first: a failure here (out of memory) still leaves the module untouched
      const sources: [Tensor, Tensor, boolean][] = [];
      try {
        for (const name of given) {
          const target = own[name];
          if (target) sources.push([target, ...this.source(target, state[name]!)]);
        }
      } catch (error) {
        for (const [, src, owned] of sources) if (owned) src.dispose();
        throw error;
      }
      for (const [target, src, owned] of sources) {
        if (src !== target) copyInto(target, src);
        if (owned) src.dispose();
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** `value` as a tensor of `target`'s dtype on this device, and whether the caller must dispose it. */
  private source(target: Tensor, value: StateValue): [Tensor, boolean] {
    let src: Tensor;
    let owned = false;
    if (value instanceof Tensor) src = value;
    else {
      const { data } = value;
      const values: ArrayLike<number> = isBigIntArray(data) ? Array.from(data, Number) : data;
      const float = target.dtype === 'f32' || target.dtype === 'f16';
      // floats into an integer tensor truncate toward zero (PyTorch's copy_); ranges were checked
      const exact = float || !isFloatData(data) ? values : Array.from(values, Math.trunc);
      src = float
        ? this.device.tensor(Float32Array.from(exact), target.shape, { dtype: 'f32' })
        : this.device.tensor(Float64Array.from(exact), target.shape, { dtype: target.dtype });
      owned = true;
    }
    if (src.dtype !== target.dtype) {
      const converted = cast(src, target.dtype);
      if (owned) src.dispose();
      src = converted;
      owned = true;
    }
    return [src, owned];
  }

  /** Sets training mode on this module and every descendant (PyTorch `train(mode)`). */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: dropout off (PyTorch `eval()`). */
  eval(): this {
    return this.train(false);
  }

  /** Sets `requiresGrad` on every parameter (freezing or unfreezing the module, PyTorch `requires_grad_`). */
  requiresGrad_(value = true): this {
    for (const t of this.parameters()) t.requiresGrad_(value);
    return this;
  }

  /** Drops every parameter's `.grad` (PyTorch `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const t of this.parameters()) {
      t.grad?.dispose();
      t.grad = null;
    }
  }

  /** Frees every parameter and buffer of the tree (a tensor tied under several names, once). */
  dispose(): void {
    for (const t of this.parameters()) t.dispose();
    for (const [, t] of this.namedBuffers()) t.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** A list of modules named `0`, `1`, ... (PyTorch `nn.ModuleList`). */
export class ModuleList<M extends Module = Module> extends Module implements Iterable<M> {
  private readonly items: M[] = [];

  constructor(device: Device, modules: Iterable<M> = []) {
    super(device);
    for (const m of modules) this.push(m);
  }

  push(m: M): this {
    this.items.push(this.registerModule(String(this.items.length), m));
    return this;
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): M {
    const m = this.items.at(i);
    if (!m) fail('INDEX_OUT_OF_RANGE', `ModuleList: index ${i} is outside [0, ${this.items.length})`);
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

/**
 * Ties `target.weight` to `source.weight` (GPT-2's output head sharing the token embedding, Press & Wolf
 * 2017): both modules then hold one tensor, `parameters()` lists it once, its gradient sums both uses,
 * and `stateDict()` shows it under both names. Shapes must agree: `Linear(dim, vocab).weight` and
 * `Embedding(vocab, dim).weight` are both [vocab, dim]. The target's previous weight is disposed.
 */
export function tieWeights(
  target: Module & { readonly weight: Tensor },
  source: Module & { readonly weight: Tensor },
): void {
  const before = target.setParameter('weight', source.weight);
  if (before !== source.weight) before?.dispose();
}
