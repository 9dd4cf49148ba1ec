/** The wasm backend as its parity tests run it against the TypeScript reference. */
import { it } from 'vitest';
import type { WasmKernelName } from '../src/backend/wasm/runtime.js';
import { createDevice, type Device } from '../src/index.js';

/**
 * The wasm kernels on `threads` threads; with more than one, test-sized calls take the threaded paths too.
 * `arena: false` keeps tensors in ordinary arrays, so the kernels copy operands in and results out (what an
 * unshared memory does: a browser page that is not cross-origin isolated).
 */
export async function wasmDevice(threads: number, { arena = true } = {}): Promise<Device> {
  const dev = await createDevice({ backend: 'cpu', kernels: 'wasm', threads });
  if (threads > 1) dev.cpu!.splitSmall = true;
  dev.arenaEnabled = arena;
  return dev;
}

/** The wasm variants the parity tests run: 1 and 2 threads in place, and 2 threads copying (`wasmDevice`). */
export const WASM_VARIANTS = [
  { threads: 1, arena: true },
  { threads: 2, arena: true },
  { threads: 2, arena: false },
] as const;

export const variantTag = (v: (typeof WASM_VARIANTS)[number]) =>
  `${v.threads} thread(s)${v.arena ? '' : ', copied'}`;

/** Counts jobs of `kernels` on `dev` from now: the result gives how many each has run since. */
function jobsSince(dev: Device, kernels: readonly WasmKernelName[]): () => number[] {
  const count = () => kernels.map((k) => dev.cpu!.jobs.get(k) ?? 0);
  const before = count();
  return () => count().map((n, i) => n - before[i]!);
}

/**
 * One test per case, a wasm kernel family against the TypeScript reference: `run` on the reference, then
 * on the wasm kernels on 1 and 2 threads, each result handed to `check` with the jobs of `kernels` that
 * run took and a tag naming the case and the thread count.
 */
export function wasmParityTests<C extends { name: string }, T>(
  cases: readonly C[],
  kernels: readonly WasmKernelName[],
  run: (c: C, device: Device) => Promise<T>,
  check: (c: C, got: T, want: T, jobs: number[], tag: string) => void,
): void {
  for (const c of cases) {
    it(c.name, async () => {
      const want = await run(c, await createDevice({ backend: 'cpu', kernels: 'reference' }));
      for (const v of WASM_VARIANTS) {
        const dev = await wasmDevice(v.threads, v);
        const jobs = jobsSince(dev, kernels);
        const got = await run(c, dev);
        check(c, got, want, jobs(), `${c.name}, ${variantTag(v)}`);
      }
    });
  }
}
