/**
 * @multihead/bench: our kernels side by side with peers on the same device, in one run, so the ratios
 * mean something on a noisy machine. `runBench` is what `multihead bench <name>` calls; `src/main.ts`
 * is the script (`pnpm bench -- matmul --write`) that also updates docs/benchmarks.md.
 */
import { benchAttention } from './attention.js';
import { benchCpu, cpuRowCount } from './cpu.js';
import { benchDecode } from './decode.js';
import { openEnv } from './env.js';
import { benchLogmel } from './logmel.js';
import { benchMatmul } from './matmul.js';
import { benchNeighborhood } from './neighborhood.js';
import { benchProfile } from './profile.js';
import { benchSoftmax } from './softmax.js';
import { benchTrain } from './train.js';
import type { AnyBenchName, BenchOptions, BenchRow } from './types.js';
import { benchVit } from './vit.js';

export { cpuMachine } from './cpu.js';
export { type BenchEnv, openEnv } from './env.js';
export { logmelSection } from './logmel.js';
export { neighborhoodSection } from './neighborhood.js';
export { type ProfileRow, profileSection, profileTable } from './profile.js';
export { cpuSection, markdownSection, updateBenchmarksDoc } from './report.js';
export type { AnyBenchName, BenchName, BenchOptions, BenchRow, ModalityBenchName } from './types.js';
export { vitSection } from './vit.js';

export const BENCHMARKS: readonly AnyBenchName[] = [
  'matmul',
  'softmax',
  'attention',
  'train',
  'decode',
  'cpu',
  'vit',
  'logmel',
  'neighborhood',
  'profile',
];

const DEFAULT_SIZES: Record<AnyBenchName, number[]> = {
  matmul: [256, 512, 1024],
  softmax: [1024],
  attention: [512, 1024, 2048],
  train: [128],
  decode: [15, 127],
  cpu: [512, 1024, 2048],
  vit: [128], // vision/fashion's batch
  logmel: [30], // Whisper's window
  neighborhood: [64], // a 64 x 64 grid: N = 4096
  profile: [128], // the GPT step's T, as train
};
/**
 * Rows per size: matmul and softmax, ours on WebGPU, tfjs-webgpu, ours on the CPU; attention, non-causal
 * and causal x (ours fused forward and backward, ours unfused, tfjs-webgpu, onnxruntime-web); train, ours
 * on WebGPU, ours on the CPU (wasm kernels, reference kernels), tfjs-wasm, tfjs-webgpu; decode, 2 models x (WebGPU, CPU) x (KV cache, none); cpu: see
 * `cpuRowCount`; vit, ours on the CPU and WebGPU, tfjs-wasm, tfjs-webgpu, PyTorch; logmel, ours on the CPU and
 * WebGPU, the TypeScript reference; neighborhood, (neighbourhood, dense masked) x (fwd, fwd+bwd) on the CPU and
 * WebGPU; profile, (GPT, ViT) x (CPU, WebGPU).
 */
const IMPLS: Record<AnyBenchName, number> = {
  matmul: 3,
  softmax: 3,
  attention: 19, // 14 rows, then 5 causal speed-ups timed on their own
  train: 5,
  decode: 8,
  cpu: 0,
  vit: 5,
  logmel: 3,
  neighborhood: 8, // (neighbourhood, dense masked) x (fwd, fwd+bwd) x (CPU, WebGPU)
  profile: 2, // the GPT step per size on (CPU, WebGPU), then the ViT step once on both
};
/**
 * Default timed batches (attention: peers take seconds a call on SwiftShader; train: timed steps after
 * one warm-up step, a tfjs-webgpu step takes seconds; decode: timed generations after a warm-up one).
 */
const DEFAULT_REPS: Record<AnyBenchName, number> = {
  matmul: 5,
  softmax: 5,
  attention: 3,
  train: 3,
  decode: 3,
  cpu: 3,
  vit: 3,
  logmel: 5,
  neighborhood: 3,
  profile: 3, // plain steps, then as many profiled ones
};

export async function runBench(name: AnyBenchName, opts: BenchOptions = {}): Promise<BenchRow[]> {
  if (!BENCHMARKS.includes(name)) {
    throw new Error(`bench: unknown benchmark '${name}'; expected one of ${BENCHMARKS.join(', ')}`);
  }
  const sizes = opts.sizes ?? DEFAULT_SIZES[name];
  if (sizes.length === 0 || !sizes.every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error(`bench ${name}: sizes must be positive integers, got ${JSON.stringify(sizes)}`);
  }
  const reps = opts.reps ?? DEFAULT_REPS[name];
  if (!Number.isInteger(reps) || reps < 1)
    throw new Error(`bench ${name}: reps must be a positive integer, got ${reps}`);
  const total =
    name === 'cpu'
      ? cpuRowCount(sizes)
      : sizes.length * IMPLS[name] + (name === 'profile' ? IMPLS.profile : 0);
  let done = 0;
  opts.onProgress?.(0, total);
  const progress = () => opts.onProgress?.(++done, total);
  // the cpu bench needs no WebGPU adapter
  if (name === 'cpu') return benchCpu(sizes, reps, progress);
  const env = await openEnv();
  if (name === 'attention') return benchAttention(env, sizes, reps, progress);
  if (name === 'train') return benchTrain(env, sizes, reps, progress);
  if (name === 'decode') return benchDecode(env, sizes, reps, progress);
  if (name === 'vit') return benchVit(env, sizes, reps, progress);
  if (name === 'logmel') return benchLogmel(env, sizes, reps, progress);
  if (name === 'neighborhood') return benchNeighborhood(env, sizes, reps, progress);
  if (name === 'profile') return benchProfile(env, sizes, reps, progress);
  return name === 'matmul'
    ? benchMatmul(env, sizes, reps, progress)
    : benchSoftmax(env, sizes, reps, progress);
}
