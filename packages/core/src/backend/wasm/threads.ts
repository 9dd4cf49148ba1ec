/**
 * The wasm backend's threads: the control block every thread shares at the start of the memory, the
 * worker's code (a string, so it runs from `new Worker(code, { eval: true })` in Node and from a blob
 * URL in a browser without a build step), and spawning workers where the environment allows
 * (docs/decisions.md "CPU backend": threads).
 */

/**
 * Control block (Int32 indices). A job is published in one of two descriptor slots (generation parity)
 * and its tasks are claimed from NEXT, which holds (generation tag << 16 | next task): a claim is a
 * compare-exchange that also checks the tag, so a worker that wakes late, after the job is over, can
 * never run a task of the next job with this one's arguments, and the caller only waits for the tasks
 * themselves (DONE), never for idle workers to wake up and acknowledge.
 */
export const GEN = 0; // job generation; workers wait on it; -1 = shut down
export const NEXT = 1; // (tag << 16) | next task
export const DONE = 2; // tasks finished in the current job
export const FAILED = 3;
export const SLOT_BYTES = 256; // per slot: FN, TASKS, BASE, SCRATCH, STRIDE, NARGS (i32), args (f64 from +32)
export const SLOT0 = 64;
export const MAX_ARGS = 24;
/** Tasks one job can address (16 bits of NEXT); larger launches are split into several jobs. */
export const MAX_TASKS = 0xffff;
/** Bytes reserved for the control block; the bump region starts here. */
export const CONTROL_BYTES = 4096;
export const PAGE = 65536;

/**
 * The worker's code, as a string so it runs from `new Worker(code, { eval: true })` in Node and from a
 * blob URL in a browser without a build step or a file beside the bundle. It spins briefly after a job
 * (the next op usually follows within microseconds), then sleeps in Atomics.wait.
 */
const WORKER_SOURCE = `
const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);
let port = null;
function start(init) {
  const { memory, module, names, tid } = init;
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const fns = names.map((n) => instance.exports[n]);
  const ctl = new Int32Array(memory.buffer, 0, ${CONTROL_BYTES / 4});
  const f64 = new Float64Array(memory.buffer, 0, ${CONTROL_BYTES / 8});
  let seen = Atomics.load(ctl, ${GEN});
  post('ready');
  for (;;) {
    let spins = 0;
    while (Atomics.load(ctl, ${GEN}) === seen && spins < 20000) spins++;
    if (Atomics.load(ctl, ${GEN}) === seen) Atomics.wait(ctl, ${GEN}, seen);
    const gen = Atomics.load(ctl, ${GEN});
    if (gen === seen) continue;
    if (gen < 0) return;
    seen = gen;
    const s = (${SLOT0} + (gen & 1) * ${SLOT_BYTES}) >> 2;
    const fn = fns[ctl[s]];
    const tasks = ctl[s + 1];
    const base = ctl[s + 2];
    const call = [0, ctl[s + 3] + tid * ctl[s + 4]];
    for (let i = 0; i < ctl[s + 5]; i++) call.push(f64[(s >> 1) + 4 + i]);
    const tag = gen & 0x7fff;
    for (;;) {
      const v = Atomics.load(ctl, ${NEXT});
      if (v >>> 16 !== tag || (v & 0xffff) >= tasks) break;
      if (Atomics.compareExchange(ctl, ${NEXT}, v, v + 1) !== v) continue;
      call[0] = base + (v & 0xffff);
      try { fn(...call); } catch (e) { Atomics.store(ctl, ${FAILED}, 1); }
      Atomics.add(ctl, ${DONE}, 1);
      Atomics.notify(ctl, ${DONE});
    }
  }
}
function post(m) { if (port) port.postMessage(m); else self.postMessage(m); }
if (isNode) {
  const { parentPort, workerData } = require('node:worker_threads');
  port = parentPort;
  start(workerData);
} else {
  self.onmessage = (e) => start(e.data);
}
`;

export interface WorkerHandle {
  terminate(): unknown;
}

export interface ThreadEnvironment {
  kind: 'node' | 'browser-main' | 'browser-worker' | 'none';
  cores: number;
  workerThreads?: {
    Worker: new (
      code: string,
      opts: { eval: true; workerData: unknown },
    ) => WorkerHandle & { once(e: string, f: (v: unknown) => void): void; unref(): void };
  };
}

export async function threadEnvironment(): Promise<ThreadEnvironment> {
  const g = globalThis as {
    process?: { versions?: { node?: string } };
    crossOriginIsolated?: boolean;
    navigator?: { hardwareConcurrency?: number };
    Worker?: unknown;
    document?: unknown;
  };
  if (g.process?.versions?.node) {
    const specifier = 'node:worker_threads';
    const os = 'node:os';
    const [wt, osm] = await Promise.all([
      import(/* @vite-ignore */ specifier) as Promise<ThreadEnvironment['workerThreads']>,
      import(/* @vite-ignore */ os) as Promise<{
        availableParallelism?: () => number;
        cpus: () => unknown[];
      }>,
    ]);
    const cores = osm.availableParallelism?.() ?? osm.cpus().length;
    return { kind: 'node', cores: Math.max(1, cores), workerThreads: wt! };
  }
  const cores = Math.max(1, g.navigator?.hardwareConcurrency ?? 1);
  if (g.crossOriginIsolated && typeof g.Worker === 'function' && typeof SharedArrayBuffer === 'function') {
    return { kind: g.document ? 'browser-main' : 'browser-worker', cores };
  }
  return { kind: 'none', cores: 1 };
}

export async function spawn(env: ThreadEnvironment, init: Record<string, unknown>): Promise<WorkerHandle> {
  if (env.kind === 'node') {
    const w = new env.workerThreads!.Worker(WORKER_SOURCE, { eval: true, workerData: init });
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', (e) => reject(e));
    });
    w.unref(); // idle workers must not keep the process alive
    return w;
  }
  const g = globalThis as unknown as {
    Worker: new (
      url: string,
    ) => WorkerHandle & {
      postMessage(m: unknown): void;
      onmessage: ((e: unknown) => void) | null;
      onerror: ((e: unknown) => void) | null;
    };
    Blob: typeof Blob;
    URL: typeof URL;
  };
  const url = g.URL.createObjectURL(new g.Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const w = new g.Worker(url);
  await new Promise<void>((resolve, reject) => {
    w.onmessage = () => resolve();
    w.onerror = (e) => reject(e);
    w.postMessage(init);
  });
  return w;
}
