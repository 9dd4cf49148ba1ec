/**
 * The kernel registry: an op checks its arguments, works out shapes, and asks for the kernel that
 * serves `(kernel, backend)` (tfjs `kernel_registry.ts`: `abs` the op, `Abs` the kernel). A backend is
 * a name, the storage its tensors live in, and the kernels it registers; adding one is a folder that
 * calls `registerBackend` and `registerKernel` (see `backend/reference/register.ts`).
 *
 * A kernel a backend lacks runs on its fallback backend (the TypeScript reference for host storage),
 * with one log line per (kernel, backend); kernels a backend shares with its fallback on purpose are
 * listed in `sharedWithFallback` and run there without a line. With no fallback the op throws
 * UNSUPPORTED naming the kernel and the backend: never silently.
 */
import type { Device } from '../device.js';
import { fail } from '../errors.js';
import type { KernelSignatures } from './signatures.js';

export type { KernelSignatures } from './signatures.js';

export type KernelName = keyof KernelSignatures & string;
export type KernelArgs<K extends KernelName> = KernelSignatures[K]['args'];
/**
 * A kernel: checked arguments in, results out, on the device the op runs on. Kernels that write into
 * tensors of their arguments (result `undefined` in `KernelSignatures`) return nothing.
 */
export type KernelImpl<K extends KernelName> = KernelSignatures[K]['result'] extends undefined
  ? (args: KernelArgs<K>, device: Device) => void
  : (args: KernelArgs<K>, device: Device) => KernelSignatures[K]['result'];
export type KernelResult<K extends KernelName> = ReturnType<KernelImpl<K>>;

/** Where a backend's tensors live: host TypedArrays (the CPU backend) or WebGPU buffers. */
export type KernelStorage = 'host' | 'webgpu';

export interface KernelBackendConfig {
  /** The name devices and `registerKernel` use ('webgpu', 'wasm', 'reference', or your own). */
  name: string;
  storage: KernelStorage;
  /**
   * The backend that runs the kernels this one lacks (one log line each). Default: 'reference' for
   * host storage, none for WebGPU (a missing kernel throws UNSUPPORTED).
   */
  fallback?: string | null;
  /** Kernels this backend runs on its fallback by design (no log line). */
  sharedWithFallback?: readonly KernelName[];
}

interface BackendEntry {
  storage: KernelStorage;
  fallback: string | null;
  shared: ReadonlySet<string>;
  kernels: Map<string, KernelImpl<KernelName>>;
}

const backends = new Map<string, BackendEntry>();
/** Resolved kernels per backend; cleared whenever a registration changes (ops look up one per call). */
const resolved = new Map<string, Map<string, KernelImpl<KernelName>>>();
const logged = new Set<string>();

/** Where fallback lines go (console.warn by default; tests and apps may redirect them). */
export const kernelLog = { write: (line: string): void => console.warn(line) };

export function registerBackend(config: KernelBackendConfig): void {
  const { name, storage } = config;
  if (typeof name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(name)) {
    fail(
      'INVALID_ARGUMENT',
      `registerBackend: name must be a lower-case identifier, got ${JSON.stringify(name)}`,
    );
  }
  if (storage !== 'host' && storage !== 'webgpu') {
    fail(
      'INVALID_ARGUMENT',
      `registerBackend ${name}: storage must be 'host' or 'webgpu', got ${JSON.stringify(storage)}`,
    );
  }
  const fallback =
    config.fallback === undefined ? (storage === 'host' ? 'reference' : null) : config.fallback;
  if (fallback === name)
    fail('INVALID_ARGUMENT', `registerBackend ${name}: a backend cannot fall back to itself`);
  const previous = backends.get(name);
  if (previous && previous.storage !== storage) {
    fail('INVALID_ARGUMENT', `registerBackend ${name}: already registered with ${previous.storage} storage`);
  }
  backends.set(name, {
    storage,
    fallback,
    shared: new Set(config.sharedWithFallback ?? []),
    kernels: previous?.kernels ?? new Map(),
  });
  resolved.clear();
}

/** The storage a registered backend's tensors use, or null for an unknown name. */
export function backendStorage(name: string): KernelStorage | null {
  return backends.get(name)?.storage ?? null;
}

export function registerKernel<K extends KernelName>(config: {
  kernel: K;
  backend: string;
  run: KernelImpl<K>;
}): void {
  const entry = backends.get(config.backend);
  if (!entry) {
    fail(
      'INVALID_ARGUMENT',
      `registerKernel ${config.kernel}: backend '${config.backend}' is not registered (call registerBackend first)`,
    );
  }
  if (typeof config.run !== 'function') {
    fail('INVALID_ARGUMENT', `registerKernel ${config.kernel} on ${config.backend}: run must be a function`);
  }
  entry.kernels.set(config.kernel, config.run as unknown as KernelImpl<KernelName>);
  resolved.clear();
}

/** Registers a table of kernels for one backend: `{ MatMul: run, Softmax: run, ... }`. */
export function registerKernels(backend: string, kernels: { [K in KernelName]?: KernelImpl<K> }): void {
  for (const [kernel, run] of Object.entries(kernels)) {
    registerKernel({ kernel: kernel as KernelName, backend, run: run as KernelImpl<KernelName> });
  }
}

export function unregisterKernel(kernel: KernelName, backend: string): void {
  if (!backends.get(backend)?.kernels.delete(kernel)) {
    fail('INVALID_ARGUMENT', `unregisterKernel: ${kernel} is not registered on backend '${backend}'`);
  }
  resolved.clear();
}

/** The kernel `backend` itself registered for `kernel` (no fallback), or null. */
export function getKernel<K extends KernelName>(kernel: K, backend: string): KernelImpl<K> | null {
  return (backends.get(backend)?.kernels.get(kernel) as KernelImpl<K> | undefined) ?? null;
}

/** The kernels `backend` registered itself, sorted. */
export function registeredKernels(backend: string): KernelName[] {
  return [...(backends.get(backend)?.kernels.keys() ?? [])].sort() as KernelName[];
}

/** The implementation that serves `(kernel, backend)`: its own, or its fallback chain's (logged once). */
export function resolveKernel<K extends KernelName>(kernel: K, backend: string): KernelImpl<K> {
  const cached = resolved.get(backend)?.get(kernel);
  if (cached) return cached as unknown as KernelImpl<K>;
  const chain: string[] = [];
  let name: string | null = backend;
  let impl: KernelImpl<K> | null = null;
  while (name !== null && !impl) {
    const entry = backends.get(name);
    if (!entry) fail('UNSUPPORTED', `kernel ${kernel}: backend '${name}' is not registered`);
    if (chain.includes(name))
      fail('UNSUPPORTED', `kernel ${kernel}: backends fall back in a loop (${chain.join(' -> ')})`);
    chain.push(name);
    impl = getKernel(kernel, name);
    if (!impl) name = entry.fallback;
  }
  if (!impl) {
    fail(
      'UNSUPPORTED',
      `kernel ${kernel} has no implementation on backend '${backend}'${chain.length > 1 ? ` nor on its fallbacks (${chain.slice(1).join(', ')})` : ''}, and no fallback runs it`,
    );
  }
  const served = chain[chain.length - 1]!;
  const key = `${kernel} on ${backend}`;
  if (served !== backend && !backends.get(backend)!.shared.has(kernel) && !logged.has(key)) {
    logged.add(key);
    kernelLog.write(
      `multihead: kernel ${kernel} is not implemented on backend '${backend}'; running the '${served}' kernel`,
    );
  }
  const table = resolved.get(backend) ?? new Map<string, KernelImpl<KernelName>>();
  resolved.set(backend, table);
  table.set(kernel, impl as unknown as KernelImpl<KernelName>);
  return impl;
}

/**
 * A profiler's view of one kernel call: its name, arguments and device, and the host milliseconds the
 * call took *itself* (kernels it ran through `runKernel` inside are reported on their own and
 * subtracted). On host backends that is the kernel's work; on WebGPU it is encoding and submission only
 * (the GPU runs later).
 */
export type KernelTimingHook = (kernel: KernelName, args: unknown, device: Device, selfMs: number) => void;

/**
 * The profiling hook `runKernel` calls after every kernel (`pnpm bench -- profile` sets it). Null by
 * default, and then a call costs one comparison. Not for production use: it sees every argument.
 */
export const kernelTiming: { hook: KernelTimingHook | null } = { hook: null };

/** Milliseconds spent in kernels nested inside the one being timed (subtracted from its own time). */
let nestedMs = 0;

function runTimed<K extends KernelName>(
  hook: KernelTimingHook,
  kernel: K,
  device: Device,
  args: KernelArgs<K>,
  impl: (a: KernelArgs<K>, d: Device) => KernelResult<K>,
): KernelResult<K> {
  const outer = nestedMs;
  nestedMs = 0;
  const t0 = performance.now();
  try {
    return impl(args, device);
  } finally {
    const total = performance.now() - t0;
    const inner = nestedMs;
    nestedMs = outer + total;
    hook(kernel, args, device, total - inner);
  }
}

/** Runs `kernel` on the device's backend (see `Device.kernels`). */
export function runKernel<K extends KernelName>(
  kernel: K,
  device: Device,
  args: KernelArgs<K>,
): KernelResult<K> {
  const impl = resolveKernel(kernel, device.kernels) as (a: KernelArgs<K>, d: Device) => KernelResult<K>;
  const hook = kernelTiming.hook;
  return hook === null ? impl(args, device) : runTimed(hook, kernel, device, args, impl);
}
