/**
 * tfjs' WebAssembly backend (`@tensorflow/tfjs-backend-wasm`: XNNPACK, SIMD) in Node, with threads.
 *
 * tfjs-backend-wasm 4.22 turns threads off in Node: its `WASM_HAS_MULTITHREAD_SUPPORT` flag answers false
 * whenever `IS_NODE` (tensorflow/tfjs#3830), so `setThreadsCount` does nothing and the single-threaded
 * `tfjs-backend-wasm-simd.wasm` loads. Forcing the flag loads `tfjs-backend-wasm-threaded-simd.wasm`, whose
 * Emscripten pthreads are workers made from `blob:` URLs; Node's worker_threads refuses those
 * (ERR_WORKER_PATH). The shim below lets the threaded build run unchanged: the worker's code (the Blob's
 * text) starts with `eval: true`, the bundle's module aliases it refers to are defined in the worker, and the
 * factory script it would fetch from a Blob is read from a temporary file. tfjs then sizes XNNPACK's pool
 * as min(requested, 8, cores / 2), counting cores with `os.cpus()` and halving them on the assumption that
 * every core runs two hardware threads (tfjs-backend-wasm `src/cc/backend.cc`); on a VM whose vCPUs are
 * the hardware threads that leaves one thread on 2 vCPUs, so during the start-up `os.cpus()` reports
 * twice the threads asked for. What was obtained is read back with `getThreadsCount()`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkerOptions } from 'node:worker_threads';

/** The slice of tfjs-core's flag registry used here. */
interface TfEnv {
  env(): { set(flag: string, value: boolean): void; getAsync(flag: string): Promise<unknown> };
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
}
interface TfWasmModule {
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
  version_wasm: string;
}

export interface TfjsWasm {
  /** XNNPACK threads the backend runs with (read back from the backend). */
  threads: number;
  simd: boolean;
  /** e.g. `tfjs-backend-wasm 4.22.0, threaded-simd build, 2 threads` */
  describe: string;
  /** Why fewer threads than asked, if so. */
  note?: string;
}

const WORKER_IMPORT =
  'var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)';
const FACTORY_PREFIX = 'var WasmBackendModuleThreadedSimd';

let opened: Promise<TfjsWasm> | null = null;

/**
 * Registers tfjs' wasm backend and makes it current (once per process: the wasm module and its pool
 * live as long as the process); the caller sets its previous backend back when done.
 */
export function useTfjsWasm(tf: unknown, threads: number): Promise<TfjsWasm> {
  opened ??= open(tf as TfEnv, threads);
  return opened.then(async (r) => {
    if (!(await (tf as TfEnv).setBackend('wasm')))
      throw new Error('bench: tfjs could not start its wasm backend');
    return r;
  });
}

async function open(tf: TfEnv, threads: number): Promise<TfjsWasm> {
  const specifier = '@tensorflow/tfjs-backend-wasm';
  const wasm = (await import(specifier)) as TfWasmModule;
  let note: string | undefined;
  if (threads > 1) {
    try {
      await withThreadShim(threads, async () => {
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
        wasm.setThreadsCount(threads);
        if (!(await quietly(() => tf.setBackend('wasm'))))
          throw new Error('the threaded build did not start');
      });
    } catch (error) {
      note = `threads: ${String((error as Error)?.message ?? error).slice(0, 200)}; fell back to 1 thread`;
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    }
  }
  if (!(await quietly(() => tf.setBackend('wasm'))))
    throw new Error('bench: tfjs could not start its wasm backend');
  await tf.ready();
  const got = wasm.getThreadsCount();
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const threaded = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  const build = threaded ? 'threaded-simd' : simd ? 'simd' : 'plain';
  if (got < threads && note === undefined) note = `asked for ${threads} threads, XNNPACK's pool has ${got}`;
  return {
    threads: got,
    simd,
    describe: `tfjs-backend-wasm ${wasm.version_wasm}, ${build} build (XNNPACK), ${got} thread${got === 1 ? '' : 's'}`,
    ...(note ? { note } : {}),
  };
}

/** tfjs logs a failed backend start with console.warn and answers false; the caller reports it instead. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

/** Runs `start` with the globals that the threaded build's start-up needs patched, then restores them. */
async function withThreadShim(threads: number, start: () => Promise<void>): Promise<void> {
  const require = createRequire(import.meta.url);
  const workers = require('node:worker_threads') as {
    Worker: new (filename: string | URL, options?: WorkerOptions) => object;
  };
  const os = require('node:os') as { cpus: () => unknown[] };
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-wasm-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const factoryFile = join(dir, 'factory.js');
  const texts = new Map<string, string>();
  const NativeBlob = globalThis.Blob;
  const nativeUrl = URL.createObjectURL;
  const NativeWorker = workers.Worker;
  const nativeCpus = os.cpus;

  // Blobs made from strings keep their text, so a blob: URL can be turned back into code synchronously
  class TextBlob extends NativeBlob {
    readonly text_: string | null;
    constructor(parts: BlobPart[] = [], options?: BlobPropertyBag) {
      super(parts, options);
      this.text_ = parts.every((p) => typeof p === 'string') ? parts.join('') : null;
      if (this.text_?.startsWith(FACTORY_PREFIX)) writeFileSync(factoryFile, this.text_);
    }
  }
  globalThis.Blob = TextBlob;
  URL.createObjectURL = (blob: Blob) => {
    const url = nativeUrl.call(URL, blob);
    if (blob instanceof TextBlob && blob.text_ !== null) texts.set(url, blob.text_);
    return url;
  };
  workers.Worker = class extends NativeWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      const code = typeof url === 'string' ? texts.get(url) : undefined;
      if (code === undefined) {
        super(url, options);
        return;
      }
      if (!code.includes(WORKER_IMPORT))
        throw new Error('tfjs-backend-wasm worker code is not the expected 4.22 one');
      // the factory's source refers to the bundle's rollup aliases of fs, path, perf_hooks and os
      const prelude =
        "global.require$$0=require('fs');global.require$$1=require('path');global.require$$3=require('perf_hooks');" +
        `global.require$$4=require('os');global.commonjsGlobal=global;global.__dirname=${JSON.stringify(dir)};`;
      super(prelude + code.replace(WORKER_IMPORT, `importScripts(${JSON.stringify(factoryFile)})`), {
        ...options,
        eval: true,
      });
    }
  };
  const cpu = nativeCpus()[0];
  os.cpus = () => Array.from({ length: 2 * threads }, () => cpu);
  try {
    await start();
  } finally {
    globalThis.Blob = NativeBlob;
    URL.createObjectURL = nativeUrl;
    workers.Worker = NativeWorker;
    os.cpus = nativeCpus;
  }
}
