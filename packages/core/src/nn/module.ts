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
import type { HostTensor } from '../io/safetensors.js';
import { cast, copyInto } from '../ops/elementwise.js';
import { untrack } from '../scope.js';

import { fmt, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';

// ---- Module ----------------------------------------------------------------------------------------

export type StateValue = Tensor | HostTensor;

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
    const out: Record<string, Tensor> = {};
    for (const kind of ['params', 'buffers'] as const) {
      for (const [name, t, persistent] of this.entries(kind)) {
        if (!persistent) continue;
        if (name in out && out[name] !== t)
          fail('INVALID_ARGUMENT', `${this.typeName}: two tensors are named ${name}`);
        out[name] = t;
      }
    }
    return out;
  }

  /**
   * Copies PyTorch-named values (device tensors on this device, or host tensors from
   * `io.readSafetensors`) into the existing parameters and buffers, converting dtypes as PyTorch does.
   * Everything is checked before anything is copied: one error lists every missing key, unexpected key
   * and mis-shaped key. A tied weight counts as present when any of its names is.
   */
  loadStateDict(state: Record<string, StateValue>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const present = new Set<Tensor>();
    for (const [name, t] of Object.entries(own)) if (name in state) present.add(t);
    const missingKeys = Object.keys(own).filter((k) => !(k in state) && !present.has(own[k]!));
    const unexpectedKeys = Object.keys(state).filter((k) => !(k in own));
    const problems: string[] = [];
    if (strict && missingKeys.length) problems.push(`missing keys [${missingKeys.join(', ')}]`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected keys [${unexpectedKeys.join(', ')}]`);
    for (const [name, value] of Object.entries(state)) {
      const target = own[name];
      if (!target) continue;
      if (!sameShape(value.shape, target.shape)) {
        problems.push(`mis-shaped: ${name} has shape ${fmt(value.shape)}; expected ${fmt(target.shape)}`);
      } else if (value instanceof Tensor && value.device !== this.device) {
        problems.push(
          `${name} is on another device (${value.device.backend}); pass host tensors or tensors on this device`,
        );
      }
    }
    if (problems.length) {
      const onlyShapes = problems.every((p) => p.startsWith('mis-shaped'));
      fail(
        onlyShapes ? 'SHAPE_MISMATCH' : 'INVALID_ARGUMENT',
        `${this.typeName}.loadStateDict: the state dict does not fit this module:\n  ${problems.join('\n  ')}`,
      );
    }
    noGrad(() => {
      for (const [name, value] of Object.entries(state)) {
        const target = own[name];
        if (target) this.copyValue(target, value);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  private copyValue(target: Tensor, value: StateValue): void {
    let src: Tensor;
    if (value instanceof Tensor) src = value;
    else {
      const { data } = value;
      const values: ArrayLike<number> = data instanceof BigInt64Array ? Array.from(data, Number) : data;
      const float = target.dtype === 'f32' || target.dtype === 'f16';
      src = float
        ? this.device.tensor(Float32Array.from(values), target.shape, { dtype: 'f32' })
        : this.device.tensor(Int32Array.from(values), target.shape, { dtype: 'i32' });
    }
    if (src.dtype !== target.dtype) {
      const converted = cast(src, target.dtype);
      if (src !== value) src.dispose();
      src = converted;
    }
    if (src !== target) copyInto(target, src);
    if (src !== value) src.dispose();
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
