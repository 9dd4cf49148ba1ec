/**
 * The device under test: MULTIHEAD_BACKEND picks it (each vitest project sets it). The gpu project
 * fails, never skips, when no WebGPU adapter is found; the first use prints the adapter's name so the
 * CI log shows where the gpu tests ran.
 */
import { createDevice, type Device } from './index.js';
import { nodeFs, nodePath } from './io/files.js';
import { importAtRunTime } from './run-time-import.js';

let devices: Promise<{ dev: Device; cpu: Device }> | null = null;

export const backendUnderTest = (globalThis.process?.env.MULTIHEAD_BACKEND ?? 'cpu') as 'cpu' | 'webgpu';
export const onGpu = backendUnderTest === 'webgpu';

export function getDevices(): Promise<{ dev: Device; cpu: Device }> {
  devices ??= (async () => {
    // the CPU backend's wasm kernels on MULTIHEAD_CPU_THREADS threads (default 1: vitest already runs
    // test files on every core); MULTIHEAD_CPU_SPLIT=1 makes even small ops use every thread;
    // MULTIHEAD_CPU_SIMD=plain|relaxed picks the build (default auto: relaxed where it can be had)
    const threads = Number(process.env.MULTIHEAD_CPU_THREADS ?? 1);
    const simd = (process.env.MULTIHEAD_CPU_SIMD ?? 'auto') as 'auto' | 'plain' | 'relaxed';
    const cpu = await createDevice({ backend: 'cpu', threads, simd });
    if (cpu.cpu && process.env.MULTIHEAD_CPU_SPLIT === '1') cpu.cpu.splitSmall = true;
    if (!onGpu) return { dev: cpu, cpu };
    const dev = await createDevice({ backend: 'webgpu' }); // throws NO_ADAPTER with instructions
    const a = dev.adapter!;
    console.log(
      `[gpu tests] adapter: ${a.vendor}/${a.architecture}/${a.device} (${a.description}) via ${a.source}`,
    );
    return { dev, cpu };
  })();
  return devices;
}

/**
 * What a task's tests share: a task context on the device under test (or `device`) whose store is made
 * (`hooks.store`, e.g. `tasks.folderStore`) of a fresh temporary folder `dir` (`<tmp>/<name>-task-*`),
 * removed after the calling file's tests (`hooks.afterAll`, the test runner's). Both come in as arguments:
 * this module imports neither the runner nor anything of `tasks`, whose types in a .d.ts chunk shared with
 * the main entry would come out declared as values (tools/pack-test's strict consumer fails on them).
 */
export async function taskTestContext<S>(
  name: string,
  seed: number,
  hooks: { afterAll: (cleanup: () => Promise<void>) => void; store: (dir: string) => S },
  device?: Device,
): Promise<{ ctx: { device: Device; store: S; seed: number }; device: Device; dir: string }> {
  const fs = await nodeFs();
  const { tmpdir } = await importAtRunTime<typeof import('node:os')>('node:os');
  const dir = await fs.mkdtemp((await nodePath()).join(tmpdir(), `${name}-task-`));
  hooks.afterAll(() => fs.rm(dir, { recursive: true, force: true }));
  const dev = device ?? (await getDevices()).dev;
  return { ctx: { device: dev, store: hooks.store(dir), seed }, device: dev, dir };
}

/** Deterministic pseudo-random floats in [-1, 1) (test data, independent of the library's RNG). */
export function randomData(n: number, seed = 1, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (((s >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** Largest |a - b| over two arrays; NaN/Inf must match exactly. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (!(Number.isNaN(x) && Number.isNaN(y))) return Number.POSITIVE_INFINITY;
      continue;
    }
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      if (x !== y) return Number.POSITIVE_INFINITY;
      continue;
    }
    m = Math.max(m, Math.abs(x - y));
  }
  return m;
}

/** Asserts |a - b| <= atol + rtol * |b| elementwise, with the worst index in the message. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol = 0,
  what = '',
): void {
  if (actual.length !== expected.length)
    throw new Error(`${what}: length ${actual.length} vs expected ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const x = actual[i]!;
    const y = expected[i]!;
    if (Number.isNaN(y) || Number.isNaN(x)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) {
        worst = i;
        worstExcess = Number.POSITIVE_INFINITY;
        break;
      }
      continue;
    }
    if (x === y) continue;
    const excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
    if (excess > worstExcess || Number.isNaN(excess)) {
      worstExcess = Number.isNaN(excess) ? Number.POSITIVE_INFINITY : excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${what}: element ${worst} is ${actual[worst]} but expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`,
    );
  }
}
