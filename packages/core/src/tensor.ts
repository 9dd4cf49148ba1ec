import type { Device } from './device.js';
import { type DType, gpuBytes, type ReadArray, type TypedArray } from './dtype.js';
import { fail } from './errors.js';
import { track } from './scope.js';
import { checkShape, contiguousStrides, fmt, normalizeAxis, type Shape, size } from './shape.js';

/** Memory behind one or more tensors (views share it); freed when the last view is disposed. */
export class Storage {
  refs = 1;
  constructor(
    readonly device: Device,
    readonly byteLength: number,
    readonly buffer: GPUBuffer | null,
    readonly array: TypedArray | null,
  ) {}

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) this.device.freeStorage(this);
  }
}

/** Ops that tensor methods need but that live in higher layers (installed by create-device.ts). */
export const tensorHooks: { contiguous?: (t: Tensor) => Tensor } = {};

/** A node of the autograd graph (autograd/engine.ts); tensor.ts only holds and releases it. */
export interface GradFn {
  readonly name: string;
  /** Drops one reference; the node frees what it saved when nothing refers to it any more. */
  release(): void;
}

export interface BackwardOptions {
  /** Keep the saved tensors so `backward` can run through the graph again (PyTorch `retain_graph`). */
  retainGraph?: boolean;
}

/** What the autograd layer installs, so that tensor.ts stays below it (see autograd/engine.ts). */
export const autogradHooks: {
  /** Runs a view op and, when autograd records, gives the view a node that replays the op on grads. */
  view?: (kind: string, input: Tensor, make: (t: Tensor) => Tensor) => Tensor;
  backward?: (t: Tensor, grad: Tensor | undefined, opts: BackwardOptions) => void;
} = {};

let nextId = 1;

/**
 * An n-dimensional array on a device: `shape`, `strides` and `offset` (in elements) over a shared
 * `Storage`. Views (reshape of contiguous data, permute, slice, expand) share storage without copies.
 */
export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  /** The autograd node that produced this tensor; null for leaves and for tensors made under `noGrad`. */
  gradFn: GradFn | null = null;
  /** The gradient accumulated into this leaf by `backward` (PyTorch `.grad`); null until then. */
  grad: Tensor | null = null;
  private _requiresGrad = false;
  private _disposed = false;

  constructor(
    readonly device: Device,
    private readonly _storage: Storage,
    readonly dtype: DType,
    shape: Shape,
    strides: Shape = contiguousStrides(shape),
    readonly offset = 0,
  ) {
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze([...strides]);
    device.register(this);
    track(this);
  }

  get disposed(): boolean {
    return this._disposed;
  }

  /** The storage, or a clear error if this tensor was disposed. */
  get storage(): Storage {
    if (this._disposed) {
      fail('DISPOSED', `tensor #${this.id} ${fmt(this.shape)} ${this.dtype} was used after dispose()`);
    }
    return this._storage;
  }

  /** True for leaves marked to collect `.grad` and for every tensor computed from one under grad mode. */
  get requiresGrad(): boolean {
    return this._requiresGrad || this.gradFn !== null;
  }

  set requiresGrad(value: boolean) {
    if (this.gradFn) {
      fail(
        'INVALID_ARGUMENT',
        `requiresGrad: tensor #${this.id} is computed (${this.gradFn.name}); use detach()`,
      );
    }
    if (value && this.dtype !== 'f32' && this.dtype !== 'f16') {
      fail('DTYPE_MISMATCH', `requiresGrad: only float tensors can require grad, got ${this.dtype}`);
    }
    this._requiresGrad = value;
  }

  /** A tensor made by the user (or by `detach`), not by an op recorded on the tape. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** Sets `requiresGrad` in place and returns this tensor (PyTorch `requires_grad_`). */
  requiresGrad_(value = true): this {
    this.requiresGrad = value;
    return this;
  }

  /**
   * Computes the gradient of this tensor with respect to every leaf that requires grad and adds it
   * to the leaves' `.grad` (PyTorch `backward`). `grad` defaults to 1 for a one-element tensor.
   * Synchronous: it queues the GPU work, so it can run inside `tidy`; `await` on it is harmless.
   */
  backward(grad?: Tensor, opts: BackwardOptions = {}): void {
    const run = autogradHooks.backward;
    if (!run) fail('UNSUPPORTED', 'backward: autograd is not loaded; import from @multihead/core');
    run(this, grad, opts);
  }

  /** The same values, cut from the autograd graph (shares storage; PyTorch `detach`). */
  detach(): Tensor {
    return this.as(this.shape, this.strides, this.offset);
  }

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return size(this.shape);
  }

  get isContiguous(): boolean {
    const c = contiguousStrides(this.shape);
    return this.shape.every((d, i) => d === 1 || c[i] === this.strides[i]);
  }

  /** Bytes this tensor's elements take on its device. */
  get byteLength(): number {
    return this.size * (this.device.backend === 'webgpu' ? gpuBytes(this.dtype) : 4);
  }

  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this.device.unregister(this);
    this._storage.release();
    this.gradFn?.release();
    this.gradFn = null;
    this.grad?.dispose();
    this.grad = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** A new tensor over the same storage. */
  private as(shape: Shape, strides: Shape, offset: number): Tensor {
    return new Tensor(this.device, this.storage.retain(), this.dtype, shape, strides, offset);
  }

  /** Runs a view op, recorded on the autograd tape when this tensor requires grad. */
  private view(kind: string, make: (t: Tensor) => Tensor): Tensor {
    const record = autogradHooks.view;
    return record && this.requiresGrad ? record(kind, this, make) : make(this);
  }

  /** A contiguous tensor with the same values (a view of this one when already contiguous). */
  contiguous(): Tensor {
    return this.view('contiguous', (t) => {
      if (t.isContiguous) return t.as(t.shape, contiguousStrides(t.shape), t.offset);
      const copy = tensorHooks.contiguous;
      if (!copy) return fail('UNSUPPORTED', 'contiguous: ops are not loaded; import from @multihead/core');
      return copy(t);
    });
  }

  /** Same elements in a new shape; one dimension may be -1. A view when the data is contiguous. */
  reshape(shape: readonly number[]): Tensor {
    return this.view('reshape', (t) => t.reshapeView(shape));
  }

  private reshapeView(shape: readonly number[]): Tensor {
    const target = [...shape];
    const unknown = target.indexOf(-1);
    if (unknown >= 0) {
      const known = target.reduce((n, d, i) => (i === unknown ? n : n * d), 1);
      target[unknown] = known === 0 ? 0 : this.size / known;
    }
    checkShape('reshape: shape', target);
    if (size(target) !== this.size) {
      fail(
        'SHAPE_MISMATCH',
        `reshape: cannot view ${fmt(this.shape)} (${this.size} elements) as ${fmt(shape)}`,
      );
    }
    if (this.isContiguous) return this.as(target, contiguousStrides(target), this.offset);
    const c = this.contiguous();
    const out = c.reshape(target);
    c.dispose();
    return out;
  }

  /** PyTorch `permute`: dimension i of the result is dimension dims[i] of this tensor. */
  permute(dims: readonly number[]): Tensor {
    return this.view('permute', (t) => t.permuteView(dims));
  }

  private permuteView(dims: readonly number[]): Tensor {
    const norm = dims.map((d) => normalizeAxis('permute', d, this.rank));
    if (norm.length !== this.rank || new Set(norm).size !== this.rank) {
      fail('INVALID_ARGUMENT', `permute: dims ${fmt(dims)} is not a permutation of ${this.rank} dimensions`);
    }
    return this.as(
      norm.map((d) => this.shape[d]!),
      norm.map((d) => this.strides[d]!),
      this.offset,
    );
  }

  transpose(a: number, b: number): Tensor {
    const dims = this.shape.map((_, i) => i);
    const x = normalizeAxis('transpose', a, this.rank);
    const y = normalizeAxis('transpose', b, this.rank);
    [dims[x], dims[y]] = [dims[y]!, dims[x]!];
    return this.permute(dims);
  }

  /** Transpose of the last two dimensions (PyTorch `mT`). */
  get mT(): Tensor {
    if (this.rank < 2) fail('INVALID_ARGUMENT', `mT: needs rank >= 2, got ${fmt(this.shape)}`);
    return this.transpose(-2, -1);
  }

  /** Elements start..end (exclusive, negative counts from the end) with `step` along `axis`. */
  slice(axis: number, start: number, end?: number, step = 1): Tensor {
    return this.view('slice', (t) => t.sliceView(axis, start, end, step));
  }

  private sliceView(axis: number, start: number, end?: number, step = 1): Tensor {
    const a = normalizeAxis('slice', axis, this.rank);
    for (const [name, v] of [
      ['start', start],
      ['end', end],
    ] as const) {
      if (v !== undefined && !Number.isSafeInteger(v))
        fail(
          'INVALID_ARGUMENT',
          `slice: ${name} must be an integer (negative counts from the end), got ${v}`,
        );
    }
    const n = this.shape[a]!;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
    const s = clamp(start);
    const e = clamp(end ?? n);
    if (!Number.isInteger(step) || step < 1)
      fail('INVALID_ARGUMENT', `slice: step must be a positive integer, got ${step}`);
    const len = Math.max(0, Math.ceil((e - s) / step));
    const shape = [...this.shape];
    const strides = [...this.strides];
    shape[a] = len;
    strides[a] = this.strides[a]! * step;
    return this.as(shape, strides, this.offset + s * this.strides[a]!);
  }

  /** Broadcast to `shape` without copying (stride 0 on expanded dims); -1 keeps a dimension. */
  expand(shape: readonly number[]): Tensor {
    return this.view('expand', (t) => t.expandView(shape));
  }

  private expandView(shape: readonly number[]): Tensor {
    const lead = shape.length - this.rank;
    if (lead < 0)
      fail('SHAPE_MISMATCH', `expand: cannot expand ${fmt(this.shape)} to fewer dims ${fmt(shape)}`);
    const outShape: number[] = [];
    const strides: number[] = [];
    shape.forEach((d, i) => {
      const own = i - lead >= 0 ? this.shape[i - lead]! : 1;
      const target = d === -1 ? own : d;
      if (own !== target && own !== 1) {
        fail(
          'SHAPE_MISMATCH',
          `expand: ${fmt(this.shape)} does not broadcast to ${fmt(shape)} (dimension ${i})`,
        );
      }
      outShape.push(target);
      strides.push(i - lead >= 0 && own === target ? this.strides[i - lead]! : 0);
    });
    return this.as(outShape, strides, this.offset);
  }

  unsqueeze(axis: number): Tensor {
    return this.view('unsqueeze', (t) => t.unsqueezeView(axis));
  }

  private unsqueezeView(axis: number): Tensor {
    const a = normalizeAxis('unsqueeze', axis, this.rank + 1);
    const shape = [...this.shape];
    const strides = [...this.strides];
    shape.splice(a, 0, 1);
    strides.splice(a, 0, a < this.rank ? this.strides[a]! * this.shape[a]! : 1);
    return this.as(shape, strides, this.offset);
  }

  /** Drops `axis` (which must be 1), or every size-1 dimension when no axis is given. */
  squeeze(axis?: number): Tensor {
    return this.view('squeeze', (t) => t.squeezeView(axis));
  }

  private squeezeView(axis?: number): Tensor {
    const drop =
      axis === undefined
        ? this.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)
        : [normalizeAxis('squeeze', axis, this.rank)];
    for (const a of drop) {
      if (this.shape[a] !== 1)
        fail('SHAPE_MISMATCH', `squeeze: dimension ${a} of ${fmt(this.shape)} is not 1`);
    }
    return this.as(
      this.shape.filter((_, i) => !drop.includes(i)),
      this.strides.filter((_, i) => !drop.includes(i)),
      this.offset,
    );
  }

  /**
   * This tensor's values on `device` (PyTorch `.to(device)`, asynchronous because reads are): a copy
   * that the caller owns, cut from the autograd graph like `detach()`; on its own device, a view that
   * shares storage. Ops refuse operands on different devices and point here.
   */
  async to(device: Device): Promise<Tensor> {
    if (device === this.device) return this.detach();
    const values = await this.read();
    return device.tensor(values, this.shape, { dtype: this.dtype });
  }

  /** Copies the values to the host: Float32Array for f32/f16, Int32Array, Uint32Array, Uint8Array for bool. */
  async read(): Promise<ReadArray<typeof this.dtype>> {
    return (await this.device.readTensor(this)) as ReadArray<typeof this.dtype>;
  }

  /** Values as nested arrays (small tensors; for printing and tests). */
  async toArray(): Promise<unknown> {
    const flat = Array.from(await this.read());
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.rank) return flat[offset];
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  toString(): string {
    return `Tensor(${fmt(this.shape)}, ${this.dtype}, ${this.device.backend}${this._disposed ? ', disposed' : ''})`;
  }
}
