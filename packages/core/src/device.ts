import type { WasmRuntime } from './backend/wasm/runtime.js';
import type { AdapterDescription } from './backend/webgpu/adapter.js';
import type { WebGpuRuntime } from './backend/webgpu/runtime.js';
import {
  checkDType,
  cpuArray,
  type DType,
  dtypeOfArray,
  fromHalfBits,
  gpuBytes,
  hostArray,
  type TypedArray,
  toHalfBits,
} from './dtype.js';
import { fail } from './errors.js';
import { checkFillValue, hostValues, type NestedNumbers } from './host-data.js';
import { HostPool } from './host-pool.js';
import { checkShape, type Shape, size } from './shape.js';
import { Storage, Tensor, tensorHooks } from './tensor.js';

export type Backend = 'cpu' | 'webgpu';

export interface MemoryInfo {
  /** Tensors (views included) not yet disposed. */
  liveTensors: number;
  /** Bytes held by live tensors' storage (each storage counted once). */
  liveBytes: number;
  /** GPU bytes allocated from the driver, pooled ones included (0 on the CPU backend). */
  gpuAllocatedBytes: number;
  /** GPU bytes idle in the buffer pool, ready for reuse. */
  gpuPooledBytes: number;
}

export interface TensorOptions {
  dtype?: DType;
  /** Make the tensor a leaf that collects `.grad` in `backward` (float dtypes only). */
  requiresGrad?: boolean;
}

/** A backend and everything allocated on it. Create one with `createDevice`. */
export class Device {
  private readonly live = new Set<Tensor>();
  private readonly storages = new Set<Storage>();
  private liveBytes = 0;
  /** Host arrays of disposed tensors, reused by the next of the same size (host-pool.ts). */
  private readonly hostPool = new HostPool();

  /**
   * The kernel backend every op on this device resolves its kernels on (kernels/registry.ts):
   * 'webgpu', 'wasm', 'reference', or a backend registered with `registerBackend`.
   */
  readonly kernels: string;

  constructor(
    readonly backend: Backend,
    /** The WebGPU runtime (null on the CPU backend). */
    readonly gpu: WebGpuRuntime | null,
    /** Why `auto` chose this backend, or what was asked for. */
    readonly reason: string,
    /**
     * The CPU backend's WebAssembly SIMD kernels and threads (null on WebGPU, and with
     * `kernels: 'reference'`, where every op runs its plain-TypeScript reference).
     */
    readonly cpu: WasmRuntime | null = null,
    kernels?: string,
  ) {
    this.kernels = kernels ?? (gpu ? 'webgpu' : cpu ? 'wasm' : 'reference');
  }

  get adapter(): AdapterDescription | null {
    return this.gpu?.adapter ?? null;
  }

  supports(dtype: DType): boolean {
    if (dtype !== 'f16') return true;
    return this.gpu?.features.has('shader-f16') ?? false;
  }

  /** @internal */ register(t: Tensor): void {
    this.live.add(t);
  }
  /** @internal */ unregister(t: Tensor): void {
    this.live.delete(t);
  }

  /**
   * @internal Refuses `length` elements of `dtype` that cannot live on this device, before anything
   * of that size is built: one WebGPU buffer's `maxBufferSize`; on the wasm kernels the WebAssembly
   * memory's maximum (every operand is staged there); on the host the typed-array limit (below).
   */
  checkFits(dtype: DType, length: number): void {
    const what = `a ${dtype} tensor of ${length} elements`;
    if (!Number.isSafeInteger(length))
      fail('OUT_OF_MEMORY', `${what} cannot be addressed (more than 2^53 elements)`);
    if (this.gpu) {
      const bytes = length * gpuBytes(dtype);
      if (bytes > this.gpu.maxBufferBytes) {
        fail(
          'OUT_OF_MEMORY',
          `${what} needs ${bytes} bytes, more than ${this.describe()}'s maxBufferSize ${this.gpu.maxBufferBytes}`,
        );
      }
    } else if (this.cpu && this.kernels === 'wasm') {
      const bytes = length * cpuArray(dtype, 0).BYTES_PER_ELEMENT;
      if (bytes > this.cpu.maxMemoryBytes) {
        fail(
          'OUT_OF_MEMORY',
          `${what} needs ${bytes} bytes, more than the ${this.cpu.maxMemoryBytes}-byte WebAssembly memory the wasm kernels stage it in ` +
            "(createDevice({ backend: 'cpu', kernels: 'reference' }) keeps tensors on the host only)",
        );
      }
    }
  }

  /**
   * @internal Allocates storage for `length` elements of `dtype` (uninitialized on GPU; zeros on the
   * CPU unless `zeroed` is false, for outputs that their kernel writes in full).
   */
  allocate(dtype: DType, length: number, zeroed = true): Storage {
    if (!this.supports(dtype)) {
      fail('UNSUPPORTED', `dtype f16 needs the shader-f16 feature, which ${this.describe()} lacks`);
    }
    this.checkFits(dtype, length);
    let storage: Storage;
    if (this.gpu) {
      const bytes = Math.max(4, length * gpuBytes(dtype));
      storage = new Storage(this, bytes, this.gpu.allocate(bytes), null);
    } else {
      const array =
        this.arenaArray(dtype, length, zeroed) ??
        this.hostPool.take(dtype, length, zeroed) ??
        hostArray(dtype, length);
      storage = new Storage(this, length * 4, null, array);
    }
    this.storages.add(storage);
    this.liveBytes += storage.byteLength;
    return storage;
  }

  /**
   * @internal Whether this device's new CPU tensors may live in the WebAssembly memory (`arenaArray`);
   * tests turn it off to run the kernels' copying paths (a runtime is shared by the devices that ask for
   * the same threads, so the switch is the device's).
   */
  arenaEnabled = true;

  /**
   * On the wasm kernels, a host array in the WebAssembly memory, which the kernels read and write in
   * place (runtime.ts `hostArray`); null where the memory cannot hold it (not shared, or three quarters
   * full: the rest is kept for the kernels' scratch), and the array is an ordinary one.
   */
  private arenaArray(dtype: DType, length: number, zeroed: boolean): TypedArray | null {
    const cpu = this.cpu;
    if (!cpu?.arena || !this.arenaEnabled || this.kernels !== 'wasm') return null;
    if (cpu.heapBytes + length * 4 > cpu.maxMemoryBytes * 0.75) return null;
    return cpu.hostArray(dtype, length, zeroed);
  }

  /** @internal */ freeStorage(s: Storage): void {
    if (!this.storages.delete(s)) return;
    this.liveBytes -= s.byteLength;
    if (s.buffer && this.gpu) this.gpu.release(s.buffer);
    if (!s.array) return;
    if (this.cpu?.owns(s.array)) this.cpu.freeHostArray(s.array);
    else this.hostPool.give(s.array);
  }

  /**
   * @internal A new contiguous tensor of `shape` (uninitialized on GPU, zeros on CPU). `zeroed` false:
   * the caller's kernel writes every element, so a reused host array is not cleared first (a memset of
   * the whole output per op; host-pool.ts).
   */
  empty(shape: Shape, dtype: DType, zeroed = true): Tensor {
    return new Tensor(this, this.allocate(dtype, size(shape), zeroed), dtype, shape);
  }

  /**
   * A tensor from host data; the dtype comes from the array type unless `dtype` is given. Nested
   * arrays must be rectangular with numbers or booleans at the leaves; values must fit the dtype
   * (i32/u32 take integers in range: nothing wraps or truncates silently). See host-data.ts.
   */
  tensor(
    data: ArrayLike<number> | NestedNumbers,
    shape?: readonly number[],
    opts: TensorOptions = {},
  ): Tensor {
    const { flat, dtype, shape: target } = hostValues(data, shape, opts.dtype);
    const t = this.empty(target, dtype);
    this.upload(t.storage, dtype, flat);
    if (opts.requiresGrad) {
      try {
        t.requiresGrad = true;
      } catch (error) {
        t.dispose();
        throw error;
      }
    }
    return t;
  }

  scalar(value: number, dtype: DType = 'f32'): Tensor {
    return this.full([], value, dtype);
  }

  zeros(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const t = this.empty(checkShape('zeros: shape', shape), checkDType('zeros: dtype', dtype));
    if (this.gpu) this.gpu.fill(t.storage.buffer!, 0, t.storage.byteLength);
    return t;
  }

  /** A tensor of `shape` filled with `value` (which must fit `dtype`); no host array of its size on WebGPU. */
  full(shape: readonly number[], value: number, dtype: DType = 'f32'): Tensor {
    const target = checkShape('full: shape', shape);
    checkDType('full: dtype', dtype);
    const v = checkFillValue('full', value, dtype);
    const t = this.empty(target, dtype); // size checked before anything is built
    const { array, buffer } = t.storage;
    const fill = dtype === 'bool' ? (v !== 0 ? 1 : 0) : v;
    if (array) array.fill(fill);
    else if (t.size > 0) {
      // one chunk of at most 1 Mi values, written as often as needed
      const chunk = Math.min(t.size, 2 ** 20);
      let part: TypedArray;
      if (dtype === 'f16') part = new Uint16Array(chunk).fill(toHalfBits(fill));
      else if (dtype === 'bool') part = new Uint32Array(chunk).fill(fill);
      else part = cpuArray(dtype, chunk).fill(fill);
      for (let at = 0; at < t.size; at += chunk) {
        const n = Math.min(chunk, t.size - at);
        this.gpu!.write(buffer!, at * gpuBytes(dtype), n === chunk ? part : part.subarray(0, n));
      }
    }
    return t;
  }

  ones(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return this.full(shape, 1, dtype);
  }

  /** @internal */ upload(storage: Storage, dtype: DType, values: ArrayLike<number>): void {
    if (storage.array) {
      const arr = storage.array;
      // bool: any nonzero value is true, NaN included (C and PyTorch's bool(x))
      if (dtype === 'bool') for (let i = 0; i < values.length; i++) arr[i] = values[i] !== 0 ? 1 : 0;
      else arr.set(values as ArrayLike<number>);
      return;
    }
    let bytes: TypedArray;
    if (dtype === 'f16') bytes = Uint16Array.from(values as ArrayLike<number>, toHalfBits);
    else if (dtype === 'bool')
      bytes = Uint32Array.from(values as ArrayLike<number>, (v) => (v !== 0 ? 1 : 0));
    else if (
      ArrayBuffer.isView(values) &&
      dtypeOfArray(values) === dtype &&
      !(values instanceof Float64Array)
    ) {
      bytes = values as unknown as TypedArray;
    } else bytes = cpuArray(dtype, values.length).map((_, i) => values[i]!) as TypedArray;
    this.gpu!.write(storage.buffer!, 0, bytes);
  }

  /** @internal Host copy of a tensor's values, in logical (row-major) order. */
  async readTensor(t: Tensor): Promise<TypedArray> {
    const storage = t.storage;
    if (storage.array) {
      if (t.isContiguous) return storage.array.slice(t.offset, t.offset + t.size);
      return gatherStrided(storage.array, t.dtype, t.shape, t.strides, t.offset);
    }
    const src = t.isContiguous ? t : t.contiguous();
    try {
      const elem = gpuBytes(t.dtype);
      const bytes = await this.gpu!.read(src.storage.buffer!, src.offset * elem, src.size * elem);
      if (t.dtype === 'f16') return Float32Array.from(new Uint16Array(bytes), fromHalfBits);
      if (t.dtype === 'bool') return Uint8Array.from(new Uint32Array(bytes));
      return new (cpuArray(t.dtype, 0).constructor as new (b: ArrayBuffer) => TypedArray)(bytes);
    } finally {
      if (src !== t) src.dispose();
    }
  }

  memory(): MemoryInfo {
    const gpu = this.gpu?.memory();
    return {
      liveTensors: this.live.size,
      liveBytes: this.liveBytes,
      gpuAllocatedBytes: gpu?.allocatedBytes ?? 0,
      gpuPooledBytes: gpu?.pooledBytes ?? 0,
    };
  }

  /** Waits for queued GPU work and reports asynchronous errors (a no-op on the CPU backend). */
  async sync(): Promise<void> {
    await this.gpu?.sync();
  }

  describe(): string {
    const a = this.adapter;
    if (a) return `webgpu (${a.vendor}/${a.architecture}${a.isSoftware ? ', software' : ''})`;
    if (this.kernels !== 'wasm' && this.kernels !== 'reference') return `cpu (kernels '${this.kernels}')`;
    return this.cpu ? `cpu (${this.cpu.describe()})` : 'cpu (TypeScript)';
  }

  /** Disposes every live tensor and frees pooled GPU memory. */
  destroy(): void {
    for (const t of [...this.live]) t.dispose();
    this.gpu?.emptyPool();
    this.hostPool.clear();
  }
}

/** Row-major copy of a strided view (CPU backend). */
export function gatherStrided(
  src: TypedArray,
  dtype: DType,
  shape: Shape,
  strides: Shape,
  offset: number,
): TypedArray {
  const n = size(shape);
  const out = cpuArray(dtype, n);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let off = offset;
  for (let i = 0; i < n; i++) {
    out[i] = src[off]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      off += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      off -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

export { tensorHooks };
