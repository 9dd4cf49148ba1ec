/** The wasm backend as its parity tests run it against the TypeScript reference. */
import type { WasmKernelName } from '../src/backend/wasm/runtime.js';
import { createDevice, type Device } from '../src/index.js';

/** The wasm kernels on `threads` threads; with more than one, test-sized calls take the threaded paths too. */
export async function wasmDevice(threads: number): Promise<Device> {
  const dev = await createDevice({ backend: 'cpu', kernels: 'wasm', threads });
  if (threads > 1) dev.cpu!.splitSmall = true;
  return dev;
}

/** Counts jobs of `kernels` on `dev` from now: the result gives how many each has run since. */
export function jobsSince(dev: Device, kernels: readonly WasmKernelName[]): () => number[] {
  const count = () => kernels.map((k) => dev.cpu!.jobs.get(k) ?? 0);
  const before = count();
  return () => count().map((n, i) => n - before[i]!);
}
