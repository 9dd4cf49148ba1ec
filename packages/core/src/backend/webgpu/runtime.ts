/**
 * The WebGPU runtime: one device, its buffer pool, pipelines cached by key, and `run`, which binds a
 * `KernelSpec`'s operands (split in segments when larger than one binding) and dispatches it (2-D
 * grids, then several dispatches, beyond 65535 workgroups). Asynchronous errors and device loss are
 * kept and thrown by the next call as typed errors.
 */
import { fail, MultiheadError } from '../../errors.js';
import {
  type AdapterDescription,
  acquireAdapter,
  describeAdapter,
  KEEP_ALIVE,
  type WebGpuOptions,
} from './adapter.js';
import { type KernelSpec, shaderSource } from './shader.js';
import { UniformLayout, type UniformValues } from './uniforms.js';

export type { AdapterDescription, WebGpuOptions } from './adapter.js';
export type { KernelSpec, OperandSpec } from './shader.js';

/** Device-side error reports: kernels that check indices write here; reads check it (see `gather`). */
export const DEVICE_ERROR_OPS = ['', 'indexSelect', 'embedding', 'crossEntropy'] as const;

/** Buffers are pooled in size classes of 4 steps per power of two so freed memory is reused. */
function sizeClass(bytes: number): number {
  const b = Math.max(256, bytes);
  const p = 2 ** Math.floor(Math.log2(b));
  const step = Math.max(256, p / 4);
  return Math.ceil(b / step) * step;
}

const STORAGE_USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST (constants: no globals needed)
const UNIFORM_USAGE = 0x40 | 0x08; // UNIFORM | COPY_DST
const READBACK_USAGE = 0x01 | 0x08; // MAP_READ | COPY_DST

export class WebGpuRuntime {
  readonly device: GPUDevice;
  readonly adapter: AdapterDescription;
  readonly features: ReadonlySet<string>;
  readonly maxBindingBytes: number;
  readonly maxBufferBytes: number;
  readonly maxWorkgroupsPerDim: number;
  /** Workgroup memory a kernel may declare (bytes; WebGPU guarantees at least 16384). */
  readonly maxWorkgroupStorageBytes: number;
  private readonly pipelines = new Map<string, { pipeline: GPUComputePipeline; layout: UniformLayout }>();
  private readonly freeBuffers = new Map<number, GPUBuffer[]>();
  private pooledBytes = 0;
  private allocatedBytes = 0;
  private pendingError: MultiheadError | null = null;
  private lostReason: string | null = null;
  /** [op code, index, bound, position] of the first out-of-range index a kernel met. */
  readonly errorFlags: GPUBuffer;
  /** Kept referenced for the device's whole life (Dawn pitfall). */
  private readonly gpuAdapter: GPUAdapter;

  private constructor(adapter: GPUAdapter, device: GPUDevice, description: AdapterDescription) {
    this.gpuAdapter = adapter;
    this.device = device;
    this.adapter = description;
    this.features = new Set(device.features as unknown as Iterable<string>);
    this.maxBindingBytes = Math.floor(device.limits.maxStorageBufferBindingSize / 256) * 256;
    this.maxBufferBytes = device.limits.maxBufferSize;
    this.maxWorkgroupsPerDim = device.limits.maxComputeWorkgroupsPerDimension;
    this.maxWorkgroupStorageBytes = device.limits.maxComputeWorkgroupStorageSize;
    device.addEventListener('uncapturederror', (event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      const code = error.constructor.name === 'GPUOutOfMemoryError' ? 'OUT_OF_MEMORY' : 'WEBGPU_VALIDATION';
      this.pendingError ??= new MultiheadError(code, `WebGPU reported: ${error.message}`);
    });
    void device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
    this.errorFlags = device.createBuffer({ size: 16, usage: STORAGE_USAGE });
  }

  static async create(opts: WebGpuOptions = {}): Promise<WebGpuRuntime | null> {
    const found = await acquireAdapter(opts);
    if (!found) return null;
    const { adapter, source } = found;
    const limits = adapter.limits;
    const wantBinding = opts.limits?.maxStorageBufferBindingSize ?? limits.maxStorageBufferBindingSize;
    const wantGroups =
      opts.limits?.maxComputeWorkgroupsPerDimension ?? limits.maxComputeWorkgroupsPerDimension;
    const wantStorage = opts.limits?.maxComputeWorkgroupStorageSize ?? limits.maxComputeWorkgroupStorageSize;
    const wantBuffer = opts.limits?.maxBufferSize ?? limits.maxBufferSize;
    if (
      wantBinding > limits.maxStorageBufferBindingSize ||
      wantBuffer > limits.maxBufferSize ||
      wantGroups > limits.maxComputeWorkgroupsPerDimension ||
      wantStorage > limits.maxComputeWorkgroupStorageSize ||
      wantStorage < 16384
    ) {
      fail(
        'INVALID_ARGUMENT',
        `createDevice: limits ${JSON.stringify(opts.limits)} exceed the adapter's (or ask for less workgroup memory than WebGPU's 16384 bytes)`,
      );
    }
    const requiredFeatures = (['shader-f16', 'subgroups'] as const).filter((f) => adapter.features.has(f));
    const device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupStorageSize: wantStorage,
        maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      },
    });
    KEEP_ALIVE.push(device);
    const runtime = new WebGpuRuntime(adapter, device, describeAdapter(adapter, source));
    // Test hook: pretend the device is smaller than it is, so splitting is exercised with small data.
    const self = runtime as unknown as {
      maxBindingBytes: number;
      maxWorkgroupsPerDim: number;
      maxBufferBytes: number;
    };
    self.maxBufferBytes = wantBuffer;
    self.maxBindingBytes = Math.floor(wantBinding / 256) * 256;
    self.maxWorkgroupsPerDim = wantGroups;
    return runtime;
  }

  get adapterLimits(): GPUSupportedLimits {
    return this.gpuAdapter.limits;
  }

  /** Throws a pending asynchronous WebGPU error or device loss as a typed error. */
  check(): void {
    if (this.lostReason) fail('DEVICE_LOST', `WebGPU device lost (${this.lostReason})`);
    const e = this.pendingError;
    if (e) {
      this.pendingError = null;
      throw e;
    }
  }

  // ---- memory ------------------------------------------------------------------------------------

  allocate(bytes: number): GPUBuffer {
    if (bytes > this.maxBufferBytes) {
      fail(
        'OUT_OF_MEMORY',
        `a tensor of ${bytes} bytes exceeds this device's maxBufferSize ${this.maxBufferBytes}`,
      );
    }
    const cls = Math.min(sizeClass(bytes), Math.ceil(this.maxBufferBytes / 4) * 4);
    const free = this.freeBuffers.get(cls);
    const reused = free?.pop();
    if (reused) {
      this.pooledBytes -= cls;
      return reused;
    }
    this.allocatedBytes += cls;
    return this.device.createBuffer({ size: cls, usage: STORAGE_USAGE });
  }

  /** Returns a buffer to the pool; later work on the queue is ordered after earlier uses, so reuse is safe. */
  release(buffer: GPUBuffer): void {
    const cls = buffer.size;
    if (this.pooledBytes + cls > this.poolLimitBytes) {
      buffer.destroy();
      this.allocatedBytes -= cls;
      return;
    }
    const list = this.freeBuffers.get(cls) ?? [];
    if (list.length === 0) this.freeBuffers.set(cls, list);
    list.push(buffer);
    this.pooledBytes += cls;
  }

  /** Largest total of idle pooled buffers kept for reuse; beyond it freed buffers are destroyed. */
  poolLimitBytes = 512 * 2 ** 20;

  emptyPool(): void {
    for (const list of this.freeBuffers.values()) for (const b of list) b.destroy();
    this.allocatedBytes -= this.pooledBytes;
    this.pooledBytes = 0;
    this.freeBuffers.clear();
  }

  memory(): { allocatedBytes: number; pooledBytes: number } {
    return { allocatedBytes: this.allocatedBytes, pooledBytes: this.pooledBytes };
  }

  write(buffer: GPUBuffer, byteOffset: number, data: ArrayBufferView): void {
    this.check();
    // Dawn rejects views on a SharedArrayBuffer (docs/decisions.md "Platform pitfalls"): copy those.
    const view =
      data.buffer instanceof ArrayBuffer
        ? data
        : new Uint8Array(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    const padded = view.byteLength % 4 === 0 ? view : padTo4(view);
    this.device.queue.writeBuffer(
      buffer,
      byteOffset,
      padded.buffer as ArrayBuffer,
      padded.byteOffset,
      padded.byteLength,
    );
  }

  fill(buffer: GPUBuffer, byteOffset: number, byteLength: number): void {
    const enc = this.device.createCommandEncoder();
    enc.clearBuffer(buffer, byteOffset, Math.ceil(byteLength / 4) * 4);
    this.device.queue.submit([enc.finish()]);
  }

  /** Copies bytes back to the host; also reports errors that kernels flagged on the device. */
  async read(buffer: GPUBuffer, byteOffset: number, byteLength: number): Promise<ArrayBuffer> {
    this.check();
    const start = Math.floor(byteOffset / 4) * 4;
    const length = Math.ceil((byteOffset + byteLength) / 4) * 4 - start;
    const staging = this.device.createBuffer({ size: Math.max(16, length) + 16, usage: READBACK_USAGE });
    const enc = this.device.createCommandEncoder();
    if (length > 0) enc.copyBufferToBuffer(buffer, start, staging, 0, length);
    enc.copyBufferToBuffer(this.errorFlags, 0, staging, Math.max(16, length), 16);
    enc.clearBuffer(this.errorFlags, 0, 16);
    this.device.queue.submit([enc.finish()]);
    try {
      await staging.mapAsync(0x0001);
    } catch (e) {
      this.check();
      throw new MultiheadError('DEVICE_LOST', `reading a tensor failed: ${(e as Error).message}`);
    }
    const mapped = staging.getMappedRange();
    const flags = new Uint32Array(mapped.slice(Math.max(16, length), Math.max(16, length) + 16));
    const data = mapped.slice(byteOffset - start, byteOffset - start + byteLength);
    staging.unmap();
    staging.destroy();
    this.check();
    if (flags[0] !== 0) {
      const op = DEVICE_ERROR_OPS[flags[0]!] ?? `op ${flags[0]}`;
      fail(
        'INDEX_OUT_OF_RANGE',
        `${op}: index ${flags[1]! | 0} at position ${flags[3]} is out of range [0, ${flags[2]}) ` +
          '(found on the device by an earlier kernel; the output held zeros there)',
      );
    }
    return data;
  }

  async sync(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.check();
  }

  // ---- kernels -----------------------------------------------------------------------------------

  private segments(buffer: GPUBuffer): number {
    return Math.max(1, Math.ceil(buffer.size / this.maxBindingBytes));
  }

  /** Whether a buffer binds whole (one segment), as `vec4` operands require. */
  fitsOneBinding(buffer: GPUBuffer): boolean {
    return buffer.size <= this.maxBindingBytes;
  }

  private checkVec4(spec: KernelSpec, segs: readonly number[]): void {
    spec.operands.forEach((op, k) => {
      if (op.vec4 && segs[k]! > 1) {
        fail(
          'UNSUPPORTED',
          `kernel ${spec.key}: vec4 operand ${op.name} is larger than one binding ` +
            `(${this.maxBindingBytes} bytes); the caller should have chosen a scalar kernel`,
        );
      }
    });
  }

  private build(spec: KernelSpec, segs: readonly number[]) {
    const key = `${spec.key}|${segs.join(',')}`;
    const cached = this.pipelines.get(key);
    if (cached) return cached;
    this.checkVec4(spec, segs);
    const layout = new UniformLayout([...spec.uniforms, ['wg_base', 'u32']]);
    const code = shaderSource(spec, segs, layout, this.maxBindingBytes);
    const entries: GPUBindGroupLayoutEntry[] = [{ binding: 0, visibility: 4, buffer: { type: 'uniform' } }];
    let binding = 1;
    spec.operands.forEach((op, k) => {
      for (let s = 0; s < segs[k]!; s++) {
        entries.push({
          binding: binding++,
          visibility: 4, // COMPUTE
          buffer: { type: op.write ? 'storage' : 'read-only-storage' },
        });
      }
    });
    const bindGroupLayout = this.device.createBindGroupLayout({ entries });
    const module = this.device.createShaderModule({ code, label: spec.key });
    const pipeline = this.device.createComputePipeline({
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] }),
      compute: { module, entryPoint: 'main' },
      label: spec.key,
    });
    const built = { pipeline, layout };
    this.pipelines.set(key, built);
    return built;
  }

  /** Number of distinct pipelines built so far (tests keep this small: Subzero compiles slowly). */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /** Generated WGSL of a kernel for these buffers (snapshot tests, kernel lab). */
  source(spec: KernelSpec, buffers: readonly GPUBuffer[]): string {
    const segs = buffers.map((b) => this.segments(b));
    this.checkVec4(spec, segs);
    return shaderSource(
      spec,
      segs,
      new UniformLayout([...spec.uniforms, ['wg_base', 'u32']]),
      this.maxBindingBytes,
    );
  }

  /**
   * Encodes one kernel over `workgroups` workgroups: a 2-D grid when one dimension is not enough, and
   * several dispatches (each with its own `wg_base`) beyond the grid's reach.
   */
  run(spec: KernelSpec, buffers: readonly GPUBuffer[], values: UniformValues, workgroups: number): void {
    this.check();
    if (workgroups <= 0) return;
    const segs = buffers.map((b) => this.segments(b));
    const bindings = segs.reduce((a, b) => a + b, 0);
    if (bindings > this.device.limits.maxStorageBuffersPerShaderStage) {
      fail(
        'UNSUPPORTED',
        `${spec.key}: operands of ${buffers.map((b) => b.size).join(', ')} bytes need ${bindings} storage bindings of ` +
          `${this.maxBindingBytes} bytes; the device allows ${this.device.limits.maxStorageBuffersPerShaderStage}`,
      );
    }
    const { pipeline, layout } = this.build(spec, segs);
    const entries: GPUBindGroupEntry[] = [];
    let binding = 1;
    buffers.forEach((buffer, k) => {
      for (let s = 0; s < segs[k]!; s++) {
        const offset = s * this.maxBindingBytes;
        entries.push({
          binding: binding++,
          resource: { buffer, offset, size: Math.min(this.maxBindingBytes, buffer.size - offset) },
        });
      }
    });
    const maxDim = this.maxWorkgroupsPerDim;
    const perDispatch = maxDim * maxDim;
    const enc = this.device.createCommandEncoder();
    const uniformBuffers: GPUBuffer[] = [];
    for (let base = 0; base < workgroups; base += perDispatch) {
      const count = Math.min(perDispatch, workgroups - base);
      const ub = this.device.createBuffer({
        size: layout.byteLength,
        usage: UNIFORM_USAGE,
        mappedAtCreation: true,
      });
      new Uint8Array(ub.getMappedRange()).set(new Uint8Array(layout.pack({ ...values, wg_base: base })));
      ub.unmap();
      uniformBuffers.push(ub);
      const bindGroup = this.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer: ub } }, ...entries],
      });
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      const x = Math.min(count, maxDim);
      pass.dispatchWorkgroups(x, Math.ceil(count / x));
      pass.end();
    }
    this.device.queue.submit([enc.finish()]);
    // Destroying after submit is valid: the submitted work keeps the memory until it has run.
    for (const ub of uniformBuffers) ub.destroy();
  }
}

function padTo4(view: ArrayBufferView): Uint8Array {
  const out = new Uint8Array(Math.ceil(view.byteLength / 4) * 4);
  out.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return out;
}
