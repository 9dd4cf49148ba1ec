import { installAutograd } from './autograd/engine.js';
import { registerBuiltinBackends } from './backend/builtin.js';
import { WasmRuntime } from './backend/wasm/runtime.js';
import type { WebGpuOptions } from './backend/webgpu/adapter.js';
import { WebGpuRuntime } from './backend/webgpu/runtime.js';
import { type Backend, Device } from './device.js';
import { fail, MultiheadError } from './errors.js';
import { backendStorage } from './kernels/registry.js';
import { copy } from './ops/elementwise.js';
import { matmul } from './ops/matmul.js';
import { rand } from './ops/random.js';
import { tensorHooks } from './tensor.js';

tensorHooks.contiguous = copy;
installAutograd();
registerBuiltinBackends();

export interface CreateDeviceOptions extends WebGpuOptions {
  /**
   * 'auto' (default): a hardware WebGPU adapter when there is one; with only a software adapter
   * (SwiftShader, lavapipe) whichever of it and the CPU backend a short calibration finds faster;
   * with none, the CPU backend. `device.reason` says which was chosen and why.
   */
  backend?: 'auto' | Backend;
  /**
   * CPU backend kernels: 'wasm' (WebAssembly SIMD on worker threads, the default wherever WebAssembly
   * SIMD runs) or 'reference' (the plain-TypeScript kernels every other kernel is tested against).
   * Any other name selects a kernel backend registered with `registerBackend` (host storage for
   * `backend: 'cpu'`, WebGPU storage for `backend: 'webgpu'`); its missing kernels run on its fallback.
   */
  kernels?: 'auto' | 'wasm' | 'reference' | (string & {});
  /**
   * Threads the CPU backend's kernels use, the calling one included (default: the machine's cores).
   * Threads need Node's worker_threads or a cross-origin isolated page; elsewhere one thread.
   */
  threads?: number;
  /** WebAssembly build: 'auto' (default) takes relaxed SIMD (fused multiply-add) where it validates, turning it on in Node 20. */
  simd?: 'auto' | 'relaxed' | 'plain';
}

/** Runtimes are shared by devices that ask for the same threads and build (their ops are synchronous). */
const runtimes = new Map<string, Promise<WasmRuntime>>();

/** A registered kernel backend other than the built-in ones, checked against the device's storage. */
function customKernels(opts: CreateDeviceOptions, storage: 'host' | 'webgpu'): string | undefined {
  const kernels = opts.kernels ?? 'auto';
  if (['auto', 'wasm', 'reference'].includes(kernels)) return undefined;
  const found = typeof kernels === 'string' ? backendStorage(kernels) : null;
  if (found === null || kernels === 'webgpu') {
    fail(
      'INVALID_ARGUMENT',
      `createDevice: kernels ${JSON.stringify(kernels)}; expected 'auto', 'wasm', 'reference' or a backend registered with registerBackend`,
    );
  }
  if (found !== storage) {
    fail(
      'INVALID_ARGUMENT',
      `createDevice: kernels '${kernels}' keep tensors in ${found} storage; use them with backend: '${found === 'host' ? 'cpu' : 'webgpu'}'`,
    );
  }
  return kernels;
}

async function cpuKernels(opts: CreateDeviceOptions): Promise<WasmRuntime | null> {
  const kernels = opts.kernels ?? 'auto';
  if (kernels === 'reference') return null;
  // a registered backend gets the wasm runtime too, in case its kernels fall back to 'wasm'
  if (!WasmRuntime.supported()) {
    if (kernels === 'wasm')
      fail('UNSUPPORTED', 'createDevice: kernels: wasm needs WebAssembly SIMD, which this runtime lacks');
    return null;
  }
  const key = `${opts.threads ?? 'default'}:${opts.simd ?? 'auto'}`;
  let rt = runtimes.get(key);
  if (!rt) {
    rt = WasmRuntime.create({
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      ...(opts.simd ? { simd: opts.simd } : {}),
    });
    runtimes.set(key, rt);
    rt.catch(() => runtimes.delete(key));
  }
  return rt;
}

function cpuDevice(reason: string, rt: WasmRuntime | null, kernels?: string): Device {
  const what = kernels ? `kernels '${kernels}'` : rt ? rt.describe() : 'TypeScript reference kernels';
  return new Device('cpu', null, `${reason} (${what})`, rt, kernels);
}

const CALIBRATION_SIZE = 192;

/** Best of 3 timed 192^3 matmuls after a warm-up that compiles the kernel: a fair proxy for model work. */
async function calibrate(device: Device): Promise<number> {
  const n = CALIBRATION_SIZE;
  const a = rand(device, [n, n], { seed: 1 });
  const b = rand(device, [n, n], { seed: 2 });
  const run = async () => {
    const c = matmul(a, b);
    await c.read();
    c.dispose();
  };
  await run();
  let ms = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await run();
    ms = Math.min(ms, performance.now() - t0);
  }
  a.dispose();
  b.dispose();
  return ms;
}

const LIMIT_NAMES = [
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeWorkgroupStorageSize',
  'maxBufferSize',
] as const;

/** Every option checked as what it is (a typo or a NaN must not silently mean "the default"). */
function checkOptions(opts: CreateDeviceOptions): void {
  const o = opts as Record<string, unknown>;
  const oneOf = (name: string, allowed: readonly string[]) => {
    if (o[name] !== undefined && !allowed.includes(o[name] as string)) {
      fail(
        'INVALID_ARGUMENT',
        `createDevice: ${name} ${JSON.stringify(o[name])}; expected ${allowed.map((a) => `'${a}'`).join(', ')}`,
      );
    }
  };
  oneOf('backend', ['auto', 'webgpu', 'cpu']);
  oneOf('simd', ['auto', 'relaxed', 'plain']);
  oneOf('powerPreference', ['low-power', 'high-performance']);
  if (opts.kernels !== undefined && typeof opts.kernels !== 'string') {
    fail('INVALID_ARGUMENT', `createDevice: kernels must be a string, got ${typeof opts.kernels}`);
  }
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1)) {
    fail('INVALID_ARGUMENT', `createDevice: threads must be an integer >= 1, got ${opts.threads}`);
  }
  const limits = opts.limits as Record<string, unknown> | undefined;
  if (limits === undefined) return;
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) {
    fail('INVALID_ARGUMENT', `createDevice: limits must be an object, got ${JSON.stringify(limits)}`);
  }
  for (const [name, value] of Object.entries(limits)) {
    if (!(LIMIT_NAMES as readonly string[]).includes(name)) {
      fail(
        'INVALID_ARGUMENT',
        `createDevice: limits.${name} is not a limit that can be lowered; expected ${LIMIT_NAMES.join(', ')}`,
      );
    }
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) > 0)) {
      fail(
        'INVALID_ARGUMENT',
        `createDevice: limits.${name} must be a positive integer (bytes or a count), got ${String(value)}`,
      );
    }
    // bindings are split at multiples of 256 bytes (WebGPU's storage offset alignment)
    if (name === 'maxStorageBufferBindingSize' && (value as number) < 256) {
      fail('INVALID_ARGUMENT', `createDevice: limits.${name} must be at least 256 bytes, got ${value}`);
    }
  }
}

export async function createDevice(opts: CreateDeviceOptions = {}): Promise<Device> {
  checkOptions(opts);
  const backend = opts.backend ?? 'auto';
  if (backend === 'cpu') {
    const custom = customKernels(opts, 'host');
    return cpuDevice('cpu backend requested', await cpuKernels(opts), custom);
  }
  const customGpu = backend === 'webgpu' ? customKernels(opts, 'webgpu') : undefined;
  if (backend === 'auto') customKernels(opts, 'host'); // checked early; 'auto' takes built-in kernels

  let gpu: WebGpuRuntime | null;
  try {
    gpu = await WebGpuRuntime.create(opts);
  } catch (e) {
    // 'auto' without the optional `webgpu` package in Node: the CPU backend, saying how to get WebGPU
    if (backend !== 'auto' || !(e instanceof MultiheadError) || e.code !== 'MISSING_DEPENDENCY') throw e;
    return cpuDevice(
      "auto: WebGPU in Node needs the optional package 'webgpu' (npm install webgpu); using the CPU backend",
      await cpuKernels(opts),
    );
  }
  if (!gpu) {
    if (backend === 'webgpu') {
      fail(
        'NO_ADAPTER',
        'createDevice: no WebGPU adapter found. In Node, Dawn needs a Vulkan driver: on Debian install ' +
          '`chromium libvulkan1` and set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json for SwiftShader; ' +
          "in a browser, WebGPU must be enabled. Use backend: 'cpu' to run without it.",
      );
    }
    return cpuDevice('auto: no WebGPU adapter found, using the CPU backend', await cpuKernels(opts));
  }
  const a = gpu.adapter;
  const name = `${a.vendor}/${a.architecture}${a.device ? `/${a.device}` : ''}`;
  const gpuDevice = new Device(
    'webgpu',
    gpu,
    backend === 'webgpu' ? `webgpu requested (${name})` : `auto: hardware adapter ${name}`,
    null,
    customGpu,
  );
  if (backend === 'webgpu' || !a.isSoftware) return gpuDevice;
  const rt = await cpuKernels(opts);
  const cpuName = rt ? rt.describe() : 'TypeScript';
  const [gpuMs, cpuMs] = [await calibrate(gpuDevice), await calibrate(new Device('cpu', null, '', rt))];
  const timing = `matmul ${CALIBRATION_SIZE}^3: ${name} ${gpuMs.toFixed(2)} ms, cpu (${cpuName}) ${cpuMs.toFixed(2)} ms`;
  if (gpuMs <= cpuMs) {
    return new Device(
      'webgpu',
      gpu,
      `auto: only a software adapter (${name}); it was faster than the CPU backend (${timing})`,
    );
  }
  gpuDevice.destroy();
  return new Device(
    'cpu',
    null,
    `auto: only a software adapter (${name}); the CPU backend was faster (${timing})`,
    rt,
  );
}
