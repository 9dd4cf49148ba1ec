/**
 * Reverse-mode autograd on a tape of nodes, as PyTorch does it: every tensor computed from one that
 * requires grad points at the node that made it (`gradFn`); `backward` walks the nodes in reverse
 * topological order and adds each leaf's gradient to its `.grad`.
 *
 * Lifetimes stay explicit. A node keeps what its backward needs as untracked views (so the user may
 * dispose or `tidy` away the forward tensors), is referenced once by the tensor it produced and once
 * by every node that consumes it, and frees its saved tensors as soon as backward has used them, or
 * when its last reference goes (a graph nobody runs backward through). Backward runs under `noGrad`:
 * no double backward.
 */
import { fail } from '../errors.js';
import { add, copy, copyInto } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { untrack } from '../scope.js';
import { fmt, type Shape, sameShape } from '../shape.js';
import { autogradHooks, type BackwardOptions, type GradFn, Tensor } from '../tensor.js';

let gradEnabled = true;

/** Runs `fn` with recording set to `enabled`, and restores what it was after, even on a throw. */
function withGradEnabled<T>(enabled: boolean, fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Runs `fn` without recording anything on the tape (PyTorch `torch.no_grad`). */
export function noGrad<T>(fn: () => T): T {
  return withGradEnabled(false, fn);
}

/** Runs `fn` with recording on, inside a `noGrad` block too (PyTorch `torch.enable_grad`). */
export function enableGrad<T>(fn: () => T): T {
  return withGradEnabled(true, fn);
}

export const isGradEnabled = (): boolean => gradEnabled;

/**
 * Maps the gradient of a node's output to one gradient per input (null where none flows); `needs[i]`
 * says whether input i wants one (it required grad when the op ran).
 */
export type BackwardFn = (gy: Tensor, needs: readonly boolean[]) => readonly (Grad | null)[];

/**
 * The gradient of a view that covers part of its input (slice) or all of it in another order
 * (permute): `value` belongs at `view(gradient of the input)`. The engine writes it into the input's
 * gradient buffer instead of building a zero-filled copy per view, so splitting a tensor into k
 * slices (q, k, v out of one projection) costs one input-sized buffer, not k.
 */
export class PartialGrad {
  constructor(
    readonly shape: Shape,
    readonly view: (t: Tensor) => Tensor,
    readonly value: Tensor,
  ) {}

  /**
   * The elements of `target` (contiguous, offset 0, of the input's shape) this gradient covers, as one
   * index range per dim, or null when the view is not such a box (a strided slice, a permutation).
   */
  box(target: Tensor): Box | null {
    const dst = this.view(target);
    try {
      return viewBox(dst, target);
    } finally {
      dst.dispose();
    }
  }

  /** Adds the value into `target` (owned by the engine, of the input's shape); `fresh`: zeros there. */
  addInto(target: Tensor, fresh: boolean): void {
    const dst = this.view(target);
    if (fresh) copyInto(dst, this.value);
    else {
      const sum = add(dst, this.value);
      copyInto(dst, sum);
      sum.dispose();
    }
    dst.dispose();
  }

  /** A full gradient of the input's shape. */
  materialize(): Tensor {
    const dx = this.value.device.zeros(this.shape, this.value.dtype);
    this.addInto(dx, true);
    return dx;
  }

  dispose(): void {
    this.value.dispose();
  }
}

type Grad = Tensor | PartialGrad;

/** Per dim, the index range [lo, hi) that a view covers in its contiguous target. */
type Box = readonly (readonly [number, number])[];

/**
 * The index ranges `view` covers in `target` (contiguous, offset 0, same rank), when it is a box: the
 * target's own strides (step-1 slices, however nested) and an offset inside it; null otherwise.
 */
function viewBox(view: Tensor, target: Tensor): Box | null {
  if (view.rank !== target.rank || view.storage !== target.storage) return null;
  let rest = view.offset;
  const box: [number, number][] = [];
  for (let d = 0; d < target.rank; d++) {
    const n = view.shape[d]!;
    if (n === 0) return null;
    if (n > 1 && view.strides[d] !== target.strides[d]) return null;
    const stride = target.strides[d]!;
    const lo = target.shape[d]! === 1 ? 0 : Math.floor(rest / stride);
    rest -= lo * stride;
    if (lo + n > target.shape[d]!) return null;
    box.push([lo, lo + n]);
  }
  return rest === 0 ? box : null;
}

/** Whether two boxes of one target share no element. */
const disjoint = (a: Box, b: Box): boolean => a.some(([lo, hi], d) => hi <= b[d]![0] || b[d]![1] <= lo);

/**
 * The boxes already written into targets that `merge` made from partial gradients: a partial gradient
 * whose box misses all of them is copied in rather than added (q, k and v slices of one projection
 * fill three disjoint thirds of its gradient: three copies, not a copy and two adds).
 */
const written = new WeakMap<Tensor, Box[]>();

/** Keeps `t` for backward and returns the kept handle (an untracked view that shares storage). */
export type Save = (t: Tensor) => Tensor;

type Edge = { node: Node } | { leaf: Tensor } | null;

class Node implements GradFn {
  private refs = 0;
  private backwardFn: BackwardFn | null = null;
  private saved: Tensor[] = [];

  constructor(
    readonly name: string,
    readonly edges: readonly Edge[],
    readonly inputShapes: readonly (Shape | null)[],
  ) {}

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs > 0) return;
    this.free();
    for (const e of this.edges) if (e && 'node' in e) e.node.release();
  }

  save(t: Tensor): Tensor {
    const kept = t.detach();
    untrack(kept);
    this.saved.push(kept);
    return kept;
  }

  setBackward(fn: BackwardFn): void {
    this.backwardFn = fn;
  }

  run(gy: Tensor): readonly (Grad | null)[] {
    if (!this.backwardFn) {
      fail(
        'INVALID_ARGUMENT',
        `backward: the graph through ${this.name} was freed by an earlier backward; pass { retainGraph: true } to that call to run backward twice`,
      );
    }
    const grads = this.backwardFn(
      gy,
      this.edges.map((e) => e !== null),
    );
    grads.forEach((g, i) => {
      const want = this.inputShapes[i];
      if (g && want && !sameShape(g.shape, want)) {
        fail(
          'SHAPE_MISMATCH',
          `backward of ${this.name}: grad ${i} is ${fmt(g.shape)}; expected ${fmt(want)}`,
        );
      }
    });
    return grads;
  }

  /** Drops the saved tensors (after backward, or when the graph is dropped). */
  free(): void {
    for (const t of this.saved) t.dispose();
    this.saved = [];
    this.backwardFn = null;
  }
}

type Input = Tensor | number | null | undefined;

const needsGrad = (inputs: readonly Input[]): boolean =>
  gradEnabled && inputs.some((t) => t instanceof Tensor && t.requiresGrad);

/**
 * Runs `forward` and, when grad mode is on and some input requires grad, records a node on its
 * output. `setup(save, out)` runs only then: it keeps (with `save`) what backward needs and returns
 * the backward function, whose grads line up with `inputs`.
 */
export function record(
  name: string,
  inputs: readonly Input[],
  forward: () => Tensor,
  setup: (save: Save, out: Tensor) => BackwardFn,
): Tensor {
  if (!needsGrad(inputs)) return forward();
  let out = noGrad(forward);
  if (inputs.includes(out)) out = out.detach(); // an op that hands back its input still needs its own node
  const edges: Edge[] = inputs.map((t) => {
    if (!(t instanceof Tensor) || !t.requiresGrad) return null;
    if (!t.gradFn) return { leaf: t };
    const node = t.gradFn as Node;
    node.retain();
    return { node };
  });
  const node = new Node(
    name,
    edges,
    inputs.map((t) => (t instanceof Tensor ? t.shape : null)),
  );
  node.setBackward(setup((t) => node.save(t), out));
  node.retain();
  out.gradFn = node;
  return out;
}

/** A new handle on `t`'s storage: backward functions return one where a gradient passes through. */
export const alias = (t: Tensor): Tensor => t.detach();

/** Adds `g` into a leaf's `.grad`; a leaf's grad owns its storage, so optimizers may update it in place. */
function accumulate(leaf: Tensor, g: Tensor): void {
  if (leaf.disposed) {
    g.dispose();
    return;
  }
  let owned = g;
  if (leaf.grad) {
    owned = add(leaf.grad, g);
    leaf.grad.dispose();
    g.dispose();
  } else if (!g.isContiguous || g.offset !== 0 || g.storage.refs > 1 || g.dtype !== leaf.dtype) {
    owned = copy(g);
    g.dispose();
  }
  untrack(owned);
  leaf.grad = owned;
}

function materialized(g: PartialGrad): Tensor {
  const full = g.materialize();
  g.dispose();
  return full;
}

/** A tensor the engine may write into: its own, contiguous storage. */
const owned = (t: Tensor) => t.isContiguous && t.offset === 0 && t.storage.refs === 1;

/** Adds `g` to the gradient pending for a node (`before`, or nothing yet). */
function merge(before: Tensor | undefined, g: Grad): Tensor {
  if (g instanceof PartialGrad) {
    let target = before ?? g.value.device.zeros(g.shape, g.value.dtype);
    let boxes = before === undefined ? [] : written.get(before);
    if (before && !owned(before)) {
      target = copy(before);
      before.dispose();
      boxes = undefined;
    }
    const box = boxes ? g.box(target) : null;
    const fresh = box !== null && boxes!.every((b) => disjoint(b, box));
    g.addInto(target, fresh);
    if (fresh) written.set(target, [...boxes!, box]);
    else written.delete(target);
    g.dispose();
    return target;
  }
  if (!before) return g;
  const sum = add(before, g);
  before.dispose();
  g.dispose();
  return sum;
}

function backward(root: Tensor, grad: Tensor | undefined, opts: BackwardOptions): void {
  if (!root.requiresGrad) {
    fail(
      'INVALID_ARGUMENT',
      `backward: tensor #${root.id} ${fmt(root.shape)} does not require grad (no input had requiresGrad, or it was computed under noGrad)`,
    );
  }
  if (grad) {
    if (grad.device !== root.device) fail('DEVICE_MISMATCH', 'backward: grad is on another device');
    if (!sameShape(grad.shape, root.shape)) {
      fail('SHAPE_MISMATCH', `backward: grad has shape ${fmt(grad.shape)}; expected ${fmt(root.shape)}`);
    }
  } else if (root.size !== 1) {
    fail(
      'INVALID_ARGUMENT',
      `backward: grad can be omitted only for one-element tensors; got ${fmt(root.shape)}, pass grad`,
    );
  }
  noGrad(() => {
    const seed = grad ? alias(grad) : root.device.ones(root.shape, root.dtype);
    const top = root.gradFn as Node | null;
    if (!top) {
      accumulate(root, seed);
      return;
    }
    // consumers of each node inside this graph: a node runs once all of them have given it a grad
    const consumers = new Map<Node, number>();
    const stack = [top];
    const seen = new Set<Node>([top]);
    while (stack.length > 0) {
      for (const e of stack.pop()!.edges) {
        if (!e || !('node' in e)) continue;
        consumers.set(e.node, (consumers.get(e.node) ?? 0) + 1);
        if (!seen.has(e.node)) {
          seen.add(e.node);
          stack.push(e.node);
        }
      }
    }
    const pending = new Map<Node, Tensor>([[top, seed]]);
    const ready = [top];
    try {
      while (ready.length > 0) {
        const node = ready.pop()!;
        const gy = pending.get(node);
        pending.delete(node);
        if (gy) {
          let grads: readonly (Grad | null)[];
          try {
            grads = node.run(gy);
          } finally {
            gy.dispose();
          }
          grads.forEach((g, i) => {
            const e = node.edges[i];
            if (!g) return;
            if (!e) g.dispose();
            else if ('leaf' in e) accumulate(e.leaf, g instanceof PartialGrad ? materialized(g) : g);
            else pending.set(e.node, merge(pending.get(e.node), g));
          });
        }
        if (!opts.retainGraph) node.free();
        for (const e of node.edges) {
          if (!e || !('node' in e)) continue;
          const left = consumers.get(e.node)! - 1;
          consumers.set(e.node, left);
          if (left === 0) ready.push(e.node);
        }
      }
    } finally {
      for (const g of pending.values()) g.dispose();
    }
  });
}

/** Views record a node whose backward puts the gradient back where the view took its elements. */
function recordView(kind: string, input: Tensor, make: (t: Tensor) => Tensor): Tensor {
  return record(
    kind,
    [input],
    () => make(input),
    (_save, out) => {
      // a permutation's gradient is the inverse permutation of gy: a view, no buffer and no copy
      const inverse = kind === 'permute' ? inversePermutation(input, out) : null;
      if (inverse) return (gy) => [gy.permute(inverse)];
      return (gy) => [viewBackward(kind, input.shape, make, gy)];
    },
  );
}

/**
 * The permutation that takes `out` (a permuted view of `input`) back to `input`'s dim order, found by
 * matching each dim's (size, stride); dims that match alike are interchangeable. Null if none fits.
 */
function inversePermutation(input: Tensor, out: Tensor): number[] | null {
  if (out.rank !== input.rank || out.offset !== input.offset) return null;
  const inverse = new Array<number>(input.rank).fill(-1);
  for (let i = 0; i < out.rank; i++) {
    const j = input.shape.findIndex(
      (n, d) => inverse[d] === -1 && n === out.shape[i] && input.strides[d] === out.strides[i],
    );
    if (j < 0) return null;
    inverse[j] = i;
  }
  return inverse;
}

function viewBackward(kind: string, shape: Shape, make: (t: Tensor) => Tensor, gy: Tensor): Grad {
  if (kind === 'expand') return sumTo(gy, shape);
  if (kind === 'reshape' || kind === 'contiguous' || kind === 'squeeze' || kind === 'unsqueeze') {
    return gy.reshape(shape);
  }
  // permute, slice: the gradient goes back through the same view of the input's gradient
  return new PartialGrad(shape, make, alias(gy));
}

/** Sums a broadcast gradient down to `shape` (the operand's shape before broadcasting). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return alias(g);
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  // summing leading dims (a bias broadcast over [batch, time]) is one pass over [rows, rest]
  const prefix = axes.every((a, i) => a === i) && g.isContiguous;
  const rows = prefix ? g.reshape([-1, ...g.shape.slice(axes.length)]) : g;
  const s = prefix ? sum(rows, 0, { keepdim: true }) : sum(g, axes, { keepdim: true });
  if (rows !== g) rows.dispose();
  const out = s.reshape(shape);
  s.dispose();
  return out;
}

/** Connects Tensor's view methods and `backward` to the tape (called by createDevice). */
export function installAutograd(): void {
  autogradHooks.view = (kind, input, make) => (gradEnabled ? recordView(kind, input, make) : make(input));
  autogradHooks.backward = backward;
}
