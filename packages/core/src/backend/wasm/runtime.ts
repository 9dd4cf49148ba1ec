/**
 * The fast CPU backend's runtime: the WebAssembly SIMD kernels of packages/core/wasm (embedded by
 * kernels.generated.ts), one `WebAssembly.Memory` that every thread instantiates them over, and a pool
 * of worker threads that run "parallel for" jobs synchronously.
 *
 * Ops stay synchronous (the CPU backend's contract): the calling thread writes a job into a control
 * block at the start of the shared memory, wakes the workers with `Atomics.notify`, takes tasks itself
 * from the same atomic counter, then blocks in `Atomics.wait` until every worker has acknowledged the
 * job. Tasks are claimed one at a time (dynamic scheduling), which keeps causal attention and a noisy
 * machine balanced. Each thread gets its own scratch region (no shared C stack: the kernels never
 * allocate); everything else is laid out per op in blocks of heap.ts that `scope` frees after.
 *
 * Where the memory is shared (Node, and threaded pages), it never detaches when it grows, so tensors'
 * host arrays can live in it (`hostArray`): the kernels then read their operands and write their results
 * in place instead of copying them in and out (docs/decisions.md "CPU backend: tensors in the
 * WebAssembly memory").
 *
 * Where it runs threaded: Node (worker_threads, shared memory, Atomics.wait on the main thread), and a
 * cross-origin isolated browser page (Web Workers; the page's main thread may not Atomics.wait, so it
 * spins). Elsewhere one thread over an unshared memory.
 */
import { cpuArray, type DType, type TypedArray } from '../../dtype.js';
import { fail } from '../../errors.js';
import { WasmHeap } from './heap.js';
import { KERNELS_RELAXED, KERNELS_SIMD } from './kernels.generated.js';
import { decode, enableNodeRelaxedSimd, makeMemory, unsharedVariant } from './module.js';
import {
  CONTROL_BYTES,
  DONE,
  FAILED,
  GEN,
  MAX_ARGS,
  MAX_TASKS,
  NEXT,
  PAGE,
  SLOT_BYTES,
  SLOT0,
  spawn,
  threadEnvironment,
  type WorkerHandle,
} from './threads.js';

export { unsharedVariant } from './module.js';

/** Exported kernel names; a job names its kernel by index into this list (the workers get it at start). */
export const KERNEL_NAMES = [
  'matmulPackB',
  'matmulTask',
  'attnPackKt',
  'attnForward',
  'attnDelta',
  'attnBackwardKV',
  'attnBackwardQ',
  'softmaxRows',
  'normRows',
  'normBackwardRows',
  'crossEntropyRows',
  'crossEntropyBackwardRows',
  'adamwChunk',
  'mapChunk',
  'nbForward',
  'nbBackwardQ',
  'nbBackwardKV',
] as const;
export type WasmKernelName = (typeof KERNEL_NAMES)[number];

export type KernelFlavor = 'relaxed-simd' | 'simd';

export interface WasmRuntimeOptions {
  /** Threads that run kernels, the calling one included (default: the machine's cores). */
  threads?: number;
  /**
   * 'auto' (default) takes the relaxed-SIMD build where the runtime validates it. In Node versions that keep
   * relaxed SIMD behind `--experimental-wasm-relaxed-simd` (Node 20), 'auto' and 'relaxed' turn that V8 flag
   * on at run time first (see docs/decisions.md); 'plain' never does.
   */
  simd?: 'auto' | 'relaxed' | 'plain';
}

type KernelFn = (...args: number[]) => void;

/** A bump allocation: a byte address in the memory. */
export type Ptr = number;

export class WasmRuntime {
  private f32View: Float32Array;
  private i32View: Int32Array;
  private u8View: Uint8Array;
  private readonly ctl: Int32Array;
  private readonly ctlF64: Float64Array;
  private gen = 0;
  private readonly heap: WasmHeap;
  /** The blocks of the op running now (`scope`), freed when it ends. */
  private scopeBlocks: number[] = [];
  /** The memory's buffers that host arrays were made over (a shared memory has a new one after it grows). */
  private readonly arenaBuffers = new Set<ArrayBufferLike>();
  private readonly fns: KernelFn[];
  private readonly exports: WebAssembly.Exports;
  private busy = false;
  /** Jobs run per kernel (tests check that an op took the wasm path). */
  readonly jobs = new Map<WasmKernelName, number>();
  /**
   * @internal Tests: run even small ops on every thread, in small tasks, so that test-sized inputs cross
   * the threading paths (results do not depend on it: tasks write disjoint outputs).
   */
  splitSmall = false;
  /**
   * @internal Profilers (tools/bench profile): while set, `jobMs` adds up the time spent running jobs,
   * so that a kernel call's time splits into its jobs and the staging of operands around them.
   */
  timeJobs = false;
  jobMs = 0;

  private constructor(
    readonly memory: WebAssembly.Memory,
    instance: WebAssembly.Instance,
    readonly flavor: KernelFlavor,
    readonly threads: number,
    private readonly workers: WorkerHandle[],
    /** Whether the calling thread may block in Atomics.wait (not a browser page's main thread). */
    private readonly canWait: boolean,
    /** The memory's declared maximum: no operand larger than this can ever be staged. */
    readonly maxMemoryBytes: number,
  ) {
    this.exports = instance.exports;
    this.fns = KERNEL_NAMES.map((n) => instance.exports[n] as KernelFn);
    this.f32View = new Float32Array(memory.buffer);
    this.i32View = new Int32Array(memory.buffer);
    this.u8View = new Uint8Array(memory.buffer);
    this.ctl = new Int32Array(memory.buffer, 0, CONTROL_BYTES / 4);
    this.ctlF64 = new Float64Array(memory.buffer, 0, CONTROL_BYTES / 8);
    this.heap = new WasmHeap(CONTROL_BYTES, (bytes) => this.ensureBytes(bytes));
    this.arena = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  }

  /**
   * Whether tensors' host arrays can live in the memory (`hostArray`): only a shared memory, whose views
   * stay valid when it grows (an unshared one detaches its old buffer, and every view over it).
   */
  readonly arena: boolean;

  /** Whether this JavaScript runtime can run the kernels at all (WebAssembly with SIMD128). */
  static supported(): boolean {
    try {
      return typeof WebAssembly === 'object' && WebAssembly.validate(decode(KERNELS_SIMD));
    } catch {
      return false;
    }
  }

  static async create(opts: WasmRuntimeOptions = {}): Promise<WasmRuntime> {
    const simd = opts.simd ?? 'auto';
    const relaxedBytes = decode(KERNELS_RELAXED);
    let relaxedOk = WebAssembly.validate(relaxedBytes);
    if (!relaxedOk && simd !== 'plain' && (await enableNodeRelaxedSimd()))
      relaxedOk = WebAssembly.validate(relaxedBytes);
    if (simd === 'relaxed' && !relaxedOk) {
      fail(
        'UNSUPPORTED',
        'createDevice: simd: relaxed, but this runtime does not validate relaxed SIMD (and it is not a Node that can turn it on)',
      );
    }
    const flavor: KernelFlavor = simd !== 'plain' && relaxedOk ? 'relaxed-simd' : 'simd';
    const env = await threadEnvironment();
    const requested = opts.threads ?? env.cores;
    if (!Number.isInteger(requested) || requested < 1 || requested > 256) {
      fail('INVALID_ARGUMENT', `createDevice: threads must be an integer in [1, 256], got ${opts.threads}`);
    }
    const threads = env.kind === 'none' ? 1 : requested;
    let bytes = flavor === 'relaxed-simd' ? relaxedBytes : decode(KERNELS_SIMD);
    const shared = threads > 1 || env.kind === 'node';
    if (!shared) bytes = unsharedVariant(bytes);
    const module = await WebAssembly.compile(bytes);
    const { memory, maxBytes } = makeMemory(shared);
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const workers: WorkerHandle[] = [];
    try {
      for (let tid = 1; tid < threads; tid++) {
        workers.push(await spawn(env, { memory, module, names: [...KERNEL_NAMES], tid }));
      }
    } catch (error) {
      for (const w of workers) w.terminate();
      throw error;
    }
    return new WasmRuntime(memory, instance, flavor, threads, workers, env.kind !== 'browser-main', maxBytes);
  }

  /** Calls an exported helper (sizes, constants) on the calling thread. */
  call(name: string, ...args: number[]): number {
    return (this.exports[name] as (...a: number[]) => number)(...args);
  }

  /** e.g. "wasm relaxed-simd, 2 threads". */
  describe(): string {
    return `wasm ${this.flavor}, ${this.threads} thread${this.threads === 1 ? '' : 's'}`;
  }

  get f32(): Float32Array {
    return this.f32View;
  }
  get i32(): Int32Array {
    return this.i32View;
  }
  get u8(): Uint8Array {
    return this.u8View;
  }

  /** Runs `fn` (one op); every block it allocates is freed after. Not reentrant. */
  scope<T>(fn: () => T): T {
    if (this.busy) fail('UNSUPPORTED', 'wasm kernels: an op ran inside another op (not reentrant)');
    this.busy = true;
    try {
      return fn();
    } finally {
      for (const p of this.scopeBlocks) this.heap.free(p);
      this.scopeBlocks.length = 0;
      this.busy = false;
    }
  }

  /** `bytes` of memory, 64-byte aligned (cache lines), valid until the enclosing `scope` ends. */
  alloc(bytes: number): Ptr {
    if (!this.busy) fail('UNSUPPORTED', 'wasm kernels: alloc outside an op (scope)');
    const p = this.heap.malloc(bytes);
    this.scopeBlocks.push(p);
    return p;
  }

  /** Grows the memory to at least `bytes` (by a quarter at least, so growth is rare) and renews the views. */
  private ensureBytes(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    const pages = Math.ceil((bytes - have) / PAGE);
    try {
      this.memory.grow(Math.max(pages, (have / PAGE) >> 2));
    } catch {
      try {
        this.memory.grow(pages);
      } catch {
        fail('OUT_OF_MEMORY', `wasm kernels: cannot grow the memory to ${bytes} bytes`);
      }
    }
    this.f32View = new Float32Array(this.memory.buffer);
    this.i32View = new Int32Array(this.memory.buffer);
    this.u8View = new Uint8Array(this.memory.buffer);
  }

  /**
   * A host array of `length` elements of `dtype` in the memory (the arena), zero-filled unless `zeroed`
   * is false; null where the memory is not shared, or full (the caller makes an ordinary array). Its
   * block stays allocated until `freeHostArray`, across ops.
   */
  hostArray(dtype: DType, length: number, zeroed: boolean): TypedArray | null {
    if (!this.arena) return null;
    const Kind = cpuArray(dtype, 0).constructor as new (
      b: ArrayBufferLike,
      at: number,
      n: number,
    ) => TypedArray;
    const bytes = length * (Kind as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    let p: Ptr;
    try {
      // 16 bytes past the end: the kernels' 4-lane stores may run over an output's last lanes
      p = this.heap.malloc(bytes + 16);
    } catch {
      return null;
    }
    const buffer = this.memory.buffer;
    this.arenaBuffers.add(buffer);
    const array = new Kind(buffer, p, length);
    if (zeroed) this.u8View.fill(0, p, p + bytes);
    return array;
  }

  /** Whether `array` is a view into this memory (made by `hostArray`, or a subarray of one). */
  owns(array: ArrayLike<number>): array is TypedArray {
    return ArrayBuffer.isView(array) && this.arenaBuffers.has(array.buffer);
  }

  /** Frees the block of a `hostArray` array (when its tensor's storage is freed). */
  freeHostArray(array: TypedArray): void {
    this.heap.free(array.byteOffset);
  }

  /** Bytes of the memory in blocks: tensors' arrays, and the running op's scratch. */
  get heapBytes(): number {
    return this.heap.allocatedBytes;
  }

  /**
   * The address of `n` f32 elements of `src` from element `from`: in place when `src` lives in the
   * memory, else copied into a new allocation. Kernels only read it (writes go to `output` blocks).
   */
  putF32(src: ArrayLike<number> & { subarray?: unknown }, from = 0, n = src.length - from): Ptr {
    if (this.owns(src)) return src.byteOffset + from * 4;
    const p = this.alloc(n * 4);
    if (src instanceof Float32Array) this.f32View.set(src.subarray(from, from + n), p >> 2);
    else for (let i = 0; i < n; i++) this.f32View[(p >> 2) + i] = src[from + i]!;
    return p;
  }

  /** As putF32, for i32 elements (in place when `src` is an Int32Array in the memory). */
  putI32(src: ArrayLike<number>, from = 0, n = src.length - from): Ptr {
    if (this.owns(src) && src instanceof Int32Array) return src.byteOffset + from * 4;
    const p = this.alloc(n * 4);
    if (src instanceof Int32Array) this.i32View.set(src.subarray(from, from + n), p >> 2);
    else for (let i = 0; i < n; i++) this.i32View[(p >> 2) + i] = src[from + i]!;
    return p;
  }

  /**
   * Where a kernel writes `n` f32 results bound for `dst` from element `offset`: in place when `dst`
   * lives in the memory and aliases none of `inputs` (so no input is overwritten while it is read), else
   * a new block (`bytes` of it at least: kernels that store whole 4-lane vectors ask for padding) that
   * `finishOutput` copies out.
   */
  output(
    dst: TypedArray,
    offset: number,
    n: number,
    inputs: readonly (ArrayLike<number> | null)[],
    bytes = n * 4,
  ): Ptr {
    if (this.owns(dst) && dst instanceof Float32Array && bytes <= n * 4 + 16 && offset + n === dst.length) {
      if (!inputs.some((a) => a && ArrayBuffer.isView(a) && a.buffer === dst.buffer && overlaps(a, dst)))
        return dst.byteOffset + offset * 4;
    }
    return this.alloc(bytes);
  }

  /** Copies an `output` block's `n` results into `dst` from `offset` (nothing when it was written in place). */
  finishOutput(p: Ptr, dst: TypedArray, offset: number, n: number): void {
    if (this.owns(dst) && dst.byteOffset + offset * 4 === p) return;
    (dst as Float32Array).set(this.f32View.subarray(p >> 2, (p >> 2) + n), offset);
  }

  /** Zero-filled f32 allocation. */
  zerosF32(n: number): Ptr {
    const p = this.alloc(n * 4);
    this.f32View.fill(0, p >> 2, (p >> 2) + n);
    return p;
  }

  /**
   * Runs `kernel(task, scratch, ...args)` for task = 0 .. tasks - 1 across the threads and returns when
   * all are done. Each thread's `scratch` is its own `scratchBytes` region. `inline` runs every task on
   * the calling thread (work too small to be worth waking the workers).
   */
  parallel(
    kernel: WasmKernelName,
    tasks: number,
    scratchBytes: number,
    args: number[],
    inline = false,
  ): void {
    if (!this.timeJobs) {
      this.runJob(kernel, tasks, scratchBytes, args, inline);
      return;
    }
    const t0 = performance.now();
    try {
      this.runJob(kernel, tasks, scratchBytes, args, inline);
    } finally {
      this.jobMs += performance.now() - t0;
    }
  }

  private runJob(
    kernel: WasmKernelName,
    tasks: number,
    scratchBytes: number,
    args: number[],
    inline: boolean,
  ): void {
    if (tasks <= 0) return;
    this.jobs.set(kernel, (this.jobs.get(kernel) ?? 0) + 1);
    const index = KERNEL_NAMES.indexOf(kernel);
    const fn = this.fns[index]!;
    const stride = Math.ceil(scratchBytes / 64) * 64;
    const useWorkers = (!inline || this.splitSmall) && this.workers.length > 0 && tasks > 1;
    const scratch = this.alloc(stride * (useWorkers ? this.threads : 1));
    const call = [0, scratch, ...args];
    if (!useWorkers) {
      for (let t = 0; t < tasks; t++) {
        call[0] = t;
        fn(...call);
      }
      return;
    }
    if (args.length > MAX_ARGS) fail('UNSUPPORTED', `wasm kernels: ${kernel} has too many arguments`);
    this.ctl[FAILED] = 0;
    for (let base = 0; base < tasks; base += MAX_TASKS) {
      this.job(fn, index, base, Math.min(MAX_TASKS, tasks - base), scratch, stride, args, call);
    }
    if (this.ctl[FAILED]) fail('UNSUPPORTED', `wasm kernels: ${kernel} failed in a worker thread`);
  }

  private job(
    fn: KernelFn,
    index: number,
    base: number,
    tasks: number,
    scratch: Ptr,
    stride: number,
    args: number[],
    call: number[],
  ): void {
    const ctl = this.ctl;
    this.gen = (this.gen + 1) & 0x3fffffff;
    const gen = this.gen;
    const s = (SLOT0 + (gen & 1) * SLOT_BYTES) >> 2;
    ctl[s] = index;
    ctl[s + 1] = tasks;
    ctl[s + 2] = base;
    ctl[s + 3] = scratch;
    ctl[s + 4] = stride;
    ctl[s + 5] = args.length;
    this.ctlF64.set(args, (s >> 1) + 4);
    const tag = gen & 0x7fff;
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, NEXT, tag << 16);
    Atomics.store(ctl, GEN, gen);
    Atomics.notify(ctl, GEN);
    let failure: unknown = null;
    for (;;) {
      const v = Atomics.load(ctl, NEXT);
      if (v >>> 16 !== tag || (v & 0xffff) >= tasks) break;
      if (Atomics.compareExchange(ctl, NEXT, v, v + 1) !== v) continue;
      call[0] = base + (v & 0xffff);
      try {
        fn(...call);
      } catch (error) {
        failure ??= error;
      }
      Atomics.add(ctl, DONE, 1);
    }
    // wait for the tasks the workers claimed (not for idle workers)
    for (let d = Atomics.load(ctl, DONE); d < tasks; d = Atomics.load(ctl, DONE)) {
      if (this.canWait) Atomics.wait(ctl, DONE, d, 1000);
    }
    if (failure) throw failure;
  }

  /** Stops the worker threads (the runtime is unusable after). */
  destroy(): void {
    Atomics.store(this.ctl, GEN, -1);
    Atomics.notify(this.ctl, GEN);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}

/** Whether two views over one buffer share a byte. */
function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}
