/**
 * The devices a benchmark compares on: our WebGPU device, our CPU backend, and tfjs-webgpu on the same
 * Dawn adapter (SwiftShader on a machine with no GPU). Opened once per process.
 */
import os from 'node:os';
import { createDevice, type Device } from '@multihead/core';

/**
 * The slice of tfjs-core's API the benchmarks use. Declared here rather than imported: tfjs-core's
 * .d.ts pulls in an older @webgpu/types (0.1.38) whose globals clash with ours.
 */
export interface TfTensor {
  readonly shape: number[];
  readonly size: number;
  data(): Promise<Float32Array | Int32Array | Uint8Array>;
  dispose(): void;
}
/** A trainable tensor (`tf.variable`); `name` keys its gradient in `variableGrads`/`applyGradients`. */
export interface TfVariable extends TfTensor {
  readonly name: string;
  assign(value: TfTensor): void;
}
export interface TfOptimizer {
  applyGradients(grads: Record<string, TfTensor>): void;
  dispose(): void;
}
export interface Tf {
  version_core: string;
  tensor(values: Float32Array | Int32Array, shape: number[], dtype?: 'float32' | 'int32'): TfTensor;
  tensor2d(values: Float32Array, shape: [number, number]): TfTensor;
  tensor3d(values: Float32Array, shape: [number, number, number]): TfTensor;
  scalar(value: number): TfTensor;
  variable(initial: TfTensor, trainable?: boolean, name?: string): TfVariable;
  matMul(a: TfTensor, b: TfTensor, transposeA?: boolean, transposeB?: boolean): TfTensor;
  mul(a: TfTensor, b: TfTensor | number): TfTensor;
  add(a: TfTensor, b: TfTensor | number): TfTensor;
  sub(a: TfTensor, b: TfTensor): TfTensor;
  rsqrt(x: TfTensor): TfTensor;
  tanh(x: TfTensor): TfTensor;
  softmax(logits: TfTensor): TfTensor;
  reshape(x: TfTensor, shape: number[]): TfTensor;
  transpose(x: TfTensor, perm: number[]): TfTensor;
  split(x: TfTensor, numOrSizes: number, axis: number): TfTensor[];
  gather(x: TfTensor, indices: TfTensor, axis?: number): TfTensor;
  moments(x: TfTensor, axis: number, keepDims: boolean): { mean: TfTensor; variance: TfTensor };
  oneHot(indices: TfTensor, depth: number): TfTensor;
  cast(x: TfTensor, dtype: 'float32' | 'int32'): TfTensor;
  losses: { softmaxCrossEntropy(onehotLabels: TfTensor, logits: TfTensor): TfTensor };
  train: { adam(lr: number, beta1: number, beta2: number, epsilon: number): TfOptimizer };
  variableGrads(
    f: () => TfTensor,
    varList: TfVariable[],
  ): { value: TfTensor; grads: Record<string, TfTensor> };
  tidy<T extends TfTensor>(fn: () => T): T;
  dispose(container: TfTensor[]): void;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  backend(): unknown;
}

export interface BenchEnv {
  gpu: Device;
  cpu: Device;
  tf: Tf;
  /** Our adapter, e.g. `google/swiftshader/swiftshader-device-subzero- (SwiftShader driver 5.0.0)`. */
  adapter: string;
  /** tfjs-webgpu's adapter, said the same way (should equal `adapter`). */
  tfAdapter: string;
  /** `os.cpus()[0].model` and the core count. */
  machine: string;
}

/** Dawn tears its instance down under a live device if the object from `create()` is collected. */
const KEEP_ALIVE: unknown[] = [];
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
let opened: Promise<BenchEnv> | null = null;

export function openEnv(): Promise<BenchEnv> {
  opened ??= open();
  return opened;
}

async function open(): Promise<BenchEnv> {
  const { existsSync } = await import('node:fs');
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD))
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  // ours first: with navigator.gpu unset, our runtime finds Dawn through the npm package itself
  const gpu = await createDevice({ backend: 'webgpu' });
  const cpu = await createDevice({ backend: 'cpu' });
  const a = gpu.adapter!;
  const adapter = `${a.vendor}/${a.architecture}/${a.device} (${a.description})`;
  // tfjs-backend-webgpu registers itself at import time only if navigator.gpu exists (peers/README.md)
  const specifier = 'webgpu';
  const dawn = (await import(specifier)) as {
    create: (flags: string[]) => GPU;
    globals: Record<string, unknown>;
  };
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const dawnGpu = dawn.create([]);
  KEEP_ALIVE.push(dawnGpu);
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (typeof g.navigator === 'undefined') (g as Record<string, unknown>).navigator = {};
  Object.defineProperty(g.navigator, 'gpu', { value: dawnGpu, configurable: true });
  // variable specifiers: no tfjs types in our program (see Tf above)
  const [core, backend] = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu'];
  const tf = (await import(core)) as Tf;
  await import(backend);
  const quiet = console.warn;
  console.warn = () => {}; // tfjs suggests tfjs-node on stderr; not what we compare with
  try {
    if (!(await tf.setBackend('webgpu'))) throw new Error('bench: tfjs could not start its webgpu backend');
    await tf.ready();
  } finally {
    console.warn = quiet;
  }
  const info = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } })
    .adapterInfo;
  const tfAdapter = `${info?.vendor ?? '?'}/${info?.architecture ?? '?'}`;
  const cpus = os.cpus();
  const machine = `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores`;
  return { gpu, cpu, tf, adapter, tfAdapter, machine };
}

/** Median of a list of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Times `step` (which returns a promise that settles when its work is done) after a warm-up: `reps`
 * batches of `iters` steps, `iters` chosen so a batch lasts about `batchMs` (at most 3 batches when one
 * step takes over 3 s). A step slower than `onceMs` is timed once, the call after the warm-up (peers
 * that take tens of seconds per call on SwiftShader). Returns the median ms per step.
 */
export async function timeIt(
  step: (last: boolean) => Promise<void>,
  reps: number,
  batchMs = 250,
  onceMs = Number.POSITIVE_INFINITY,
): Promise<{ ms: number; iters: number; reps: number; samples: number[] }> {
  let t0 = performance.now();
  await step(true); // warm-up: compiles pipelines
  t0 = performance.now();
  await step(true);
  const once = performance.now() - t0;
  if (once > onceMs) return { ms: once, iters: 1, reps: 1, samples: [once] };
  const iters = Math.max(1, Math.min(50, Math.round(batchMs / Math.max(once, 0.01))));
  // a peer that takes seconds per call gets fewer batches (tfjs-webgpu on SwiftShader at 1024^3)
  const batches = once > 3000 ? Math.min(reps, 3) : reps;
  const samples: number[] = [];
  for (let r = 0; r < batches; r++) {
    const start = performance.now();
    for (let i = 0; i < iters; i++) await step(i === iters - 1);
    samples.push((performance.now() - start) / iters);
  }
  return { ms: median(samples), iters, reps: batches, samples };
}

/**
 * Times two steps in alternating batches (A, B, A, B, ...) after a warm-up of each, so that a machine
 * whose speed drifts (another process, a clock change) moves both alike; a ratio of the two is then worth
 * more than one of two timeIt calls made minutes apart. Batches of `iters` steps sized for `batchMs`
 * from A's single call; a step is told when it is the last of its batch (as in timeIt). Returns the
 * median ms per step of each.
 */
export async function timeAlternating(
  a: (last: boolean) => Promise<void>,
  b: (last: boolean) => Promise<void>,
  reps: number,
  batchMs = 250,
): Promise<{ a: number; b: number; reps: number }> {
  await a(true);
  await b(true);
  let t0 = performance.now();
  await a(true);
  const iters = Math.max(1, Math.min(50, Math.round(batchMs / Math.max(performance.now() - t0, 0.01))));
  const samples: [number[], number[]] = [[], []];
  for (let r = 0; r < reps; r++) {
    for (const [k, step] of [a, b].entries()) {
      t0 = performance.now();
      for (let i = 0; i < iters; i++) await step(i === iters - 1);
      samples[k]!.push((performance.now() - t0) / iters);
    }
  }
  return { a: median(samples[0]), b: median(samples[1]), reps };
}

/** Deterministic uniform floats in [-1, 1). */
export function randomFloats(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export const round = (x: number, digits = 3): number => Number(x.toPrecision(digits));
