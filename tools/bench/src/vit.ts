/**
 * One training step of the vision/fashion ViT (forward, cross-entropy with label smoothing, backward, AdamW)
 * five ways in one run: ours on the CPU backend (wasm, 2 threads) and on WebGPU, tfjs on its wasm backend
 * (XNNPACK, 2 threads through tfjs-wasm.ts) and on WebGPU (the same Dawn adapter), and torchvision's
 * VisionTransformer on PyTorch's CPU (2 threads, a child process: torch_vit.py). All start from our
 * initial weights, exported, and train on the same fixed batch, so their first losses must agree.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevice, type Device, io, nn, optim, type Tensor, tidy } from '@multihead/core';
import type { ResolvedViTConfig } from '@multihead/vision';
import { FASHION_NORMALIZATION, FASHION_TRAINING, FASHION_VIT, VisionTransformer } from '@multihead/vision';
import { type BenchEnv, median, randomFloats, round } from './env.js';
import { useTfjsWasm } from './tfjs-wasm.js';
import type { TrainStep } from './train.js';
import type { BenchRow } from './types.js';
import { type TfVit, tfjsVit, type VitOptim } from './vit-tfjs.js';

/** Threads of every CPU implementation. */
export const VIT_THREADS = 2;
/** vision/fashion's optimizer and loss (betas and eps: AdamW's defaults, which the task keeps). */
export const VIT_OPTIM: VitOptim = {
  lr: FASHION_TRAINING.lr,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: FASHION_TRAINING.weightDecay,
  labelSmoothing: FASHION_TRAINING.labelSmoothing,
};
/** Largest |initial loss - PyTorch's| the check accepts. */
export const VIT_LOSS_TOLERANCE = 1e-3;
const WARMUP_STEPS = 1;
/** A peer whose warm-up step takes longer than this gets one timed step (tfjs-webgpu on SwiftShader). */
const SLOW_STEP_MS = 10_000;
const DATA_SEED = 7;
const HEAD_SEED = 11;
const PYTHON = '/usr/bin/python3';
const TORCH_SCRIPT = fileURLToPath(new URL('./torch_vit.py', import.meta.url));

interface Trained {
  ms: number;
  samples: number[];
  initialLoss: number;
  firstLoss: number;
  lastLoss: number;
  params: number;
}
type Outcome = Trained & { device: string; matmulGflops?: number };

interface Batch {
  images: Float32Array;
  labels: Int32Array;
  batch: number;
}

/** B seeded images of uniform pixels, normalized as the task normalizes, and seeded labels. */
function vitBatch(B: number, cfg: ResolvedViTConfig): Batch {
  const [h, w] = cfg.imageSize;
  const { mean, std } = FASHION_NORMALIZATION;
  const images = randomFloats(B * cfg.channels * h * w, DATA_SEED).map((u) => ((u + 1) / 2 - mean) / std);
  const labels = Int32Array.from(randomFloats(B, DATA_SEED + 1), (u) =>
    Math.min(cfg.numClasses - 1, Math.floor(((u + 1) / 2) * cfg.numClasses)),
  );
  return { images, labels, batch: B };
}

/**
 * Our initial weights (VisionTransformer's torchvision init), read to the host. torchvision zeroes the head,
 * so every implementation would start at loss ln 10 whatever its layers computed; a seeded head (nn.Linear's
 * default, U(±1/√D)) makes the first loss depend on every layer, which is what the check compares.
 */
async function initialWeights(device: Device) {
  const vit = new VisionTransformer(device, FASHION_VIT);
  const weights: Record<string, io.HostTensor> = {};
  try {
    for (const [name, t] of Object.entries(vit.stateDict()))
      weights[name] = { dtype: 'F32', shape: [...t.shape], data: (await t.read()) as Float32Array };
    const head = weights['heads.head.weight']!;
    const bound = 1 / Math.sqrt(vit.config.hiddenDim);
    head.data = randomFloats(head.data.length, HEAD_SEED).map((u) => u * bound);
    return { weights, cfg: vit.config, params: vit.numParameters() };
  } finally {
    vit.dispose();
  }
}

/** Warm-up steps, then `steps` timed ones (one if the warm-up was slow); each returns its loss, read back. */
async function runSteps(step: () => Promise<number>, steps: number): Promise<Omit<Trained, 'params'>> {
  const losses: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < WARMUP_STEPS; i++) losses.push(await step());
  const timed = performance.now() - t0 > SLOW_STEP_MS * WARMUP_STEPS ? 1 : steps;
  const samples: number[] = [];
  for (let i = 0; i < timed; i++) {
    const t0 = performance.now();
    losses.push(await step());
    samples.push(performance.now() - t0);
  }
  return {
    ms: median(samples),
    samples,
    initialLoss: losses[0]!,
    firstLoss: losses[WARMUP_STEPS]!,
    lastLoss: losses.at(-1)!,
  };
}

/** Our initial weights and the fixed batch every implementation trains on. */
export interface VitStart {
  weights: Record<string, io.HostTensor>;
  cfg: ResolvedViTConfig;
  data: Batch;
}

/** The profile's start: our initial weights (read on `device`) and a batch of vision/fashion's size. */
export async function vitStart(device: Device, batch = FASHION_TRAINING.batchSize): Promise<VitStart> {
  const { weights, cfg } = await initialWeights(device);
  return { weights, cfg, data: vitBatch(batch, cfg) };
}

/** Our step: `VisionTransformer` + `nn.crossEntropy` + `optim.AdamW` (decay on rank >= 2), one `tidy`. */
export function vitStep(device: Device, start: Omit<VitStart, 'cfg'>): TrainStep {
  const { weights, data } = start;
  const vit = new VisionTransformer(device, FASHION_VIT);
  vit.loadStateDict(weights);
  vit.train();
  const params = vit.parameters();
  const { weightDecay, labelSmoothing, ...hyper } = VIT_OPTIM;
  const opt = new optim.AdamW(
    [
      { params: params.filter((p) => p.rank >= 2), weightDecay },
      { params: params.filter((p) => p.rank < 2), weightDecay: 0 },
    ],
    hyper,
  );
  const [h, w] = vit.config.imageSize;
  const images = device.tensor(data.images, [data.batch, vit.config.channels, h, w]);
  const labels = device.tensor(data.labels, [data.batch], { dtype: 'i32' });
  return {
    run: () =>
      tidy(() => {
        const l = nn.crossEntropy(vit.forward(images), labels, { labelSmoothing });
        l.backward();
        opt.step();
        opt.zeroGrad();
        return l;
      }),
    numParameters: vit.numParameters(),
    dispose: () => {
      images.dispose();
      labels.dispose();
      opt.dispose();
      vit.dispose();
    },
  };
}

/** Our step timed: warm-up, then `steps` steps, each ending with the loss read back. */
async function trainOurs(
  device: Device,
  weights: Record<string, io.HostTensor>,
  data: Batch,
  steps: number,
): Promise<Trained> {
  const step = vitStep(device, { weights, data });
  try {
    const r = await runSteps(async () => {
      const loss: Tensor = step.run();
      // the read waits for everything queued this step (the optimizer's updates come before it)
      const value = (await loss.read())[0]!;
      loss.dispose();
      return value;
    }, steps);
    return { ...r, params: step.numParameters };
  } finally {
    step.dispose();
  }
}

let tfGradients: Promise<void> | null = null;

/** tfjs' gradient registry, loaded through tsx's CommonJS loader (train.ts says why). */
function registerTfGradients(): Promise<void> {
  tfGradients ??= (async () => {
    const specifier = 'tsx/cjs/api';
    const tsx = (await import(specifier)) as { require: (id: string, parent: string) => unknown };
    tsx.require('@tensorflow/tfjs-core/dist/register_all_gradients', import.meta.url);
  })();
  return tfGradients;
}

/** The tfjs model of vit-tfjs.ts on tfjs' wasm backend or its WebGPU one (env.ts leaves tfjs on WebGPU). */
async function trainTfjs(
  env: BenchEnv,
  backend: 'wasm' | 'webgpu',
  start: { weights: Record<string, io.HostTensor>; cfg: ResolvedViTConfig },
  data: Batch,
  steps: number,
): Promise<Outcome> {
  const tf = env.tf as TfVit;
  await registerTfGradients();
  let device = env.tfAdapter;
  try {
    if (backend === 'wasm') {
      const wasm = await useTfjsWasm(tf, VIT_THREADS);
      device = wasm.describe + (wasm.note ? ` (${wasm.note})` : '');
    }
    const { cfg } = start;
    const model = tfjsVit(tf, { ...cfg, imageSize: cfg.imageSize[0] }, VIT_OPTIM, start.weights, data);
    try {
      return { ...(await runSteps(() => model.step(), steps)), params: model.params, device };
    } finally {
      model.dispose();
    }
  } finally {
    if (backend === 'wasm') await tf.setBackend('webgpu');
  }
}

interface TorchResult extends Omit<Trained, 'params'> {
  torch: string;
  threads: number;
  blas: string;
  params: number;
  matmulGflops1: number;
  matmulGflops: number;
}

/** torchvision's VisionTransformer on PyTorch's CPU (torch_vit.py in a child process), from our weights. */
async function trainTorch(
  start: { weights: Record<string, io.HostTensor>; cfg: ResolvedViTConfig },
  data: Batch,
  steps: number,
): Promise<Outcome> {
  const { cfg } = start;
  const [h, w] = cfg.imageSize;
  if (h !== w) throw new Error('bench vit: torch_vit.py takes square images');
  const dir = mkdtempSync(join(tmpdir(), 'bench-vit-'));
  try {
    const file = join(dir, 'start.safetensors');
    const tensors: Record<string, io.WritableTensor> = {
      ...start.weights,
      images: { dtype: 'F32', shape: [data.batch, cfg.channels, h, w], data: data.images },
      labels: { dtype: 'I32', shape: [data.batch], data: data.labels },
    };
    writeFileSync(file, io.writeSafetensors(tensors));
    const settings = {
      model: { ...cfg, imageSize: h },
      optim: VIT_OPTIM,
      threads: VIT_THREADS,
      warmup: WARMUP_STEPS,
      steps,
    };
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        PYTHON,
        [TORCH_SCRIPT, file, JSON.stringify(settings)],
        { timeout: 30 * 60_000, maxBuffer: 1 << 20 },
        (error, out, err) =>
          error ? reject(new Error(`${error.message}\n${err.slice(-600)}`)) : resolve(out),
      ),
    );
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as TorchResult;
    const perThread = r.matmulGflops / r.threads;
    return {
      ...r,
      device: `PyTorch ${r.torch} CPU, ${r.threads} threads, BLAS ${r.blas}: 1024^3 matmul ${round(r.matmulGflops)} GFLOP/s (${round(perThread)} a thread; ${round(r.matmulGflops1)} on 1 thread)`,
      matmulGflops: round(perThread),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchVit(
  env: BenchEnv,
  sizes: readonly number[],
  steps: number,
  progress: () => void,
): Promise<BenchRow[]> {
  const cpu = await createDevice({ backend: 'cpu', threads: VIT_THREADS });
  const start = await initialWeights(cpu);
  const rows: BenchRow[] = [];
  const raw = new Map<BenchRow, Trained>(); // unrounded losses for the check
  for (const B of sizes) {
    const data = vitBatch(B, start.cfg);
    const base = { bench: 'vit' as const, size: `B${B}` };
    const attempt = async (impl: string, device: string, fn: () => Promise<Outcome | Trained>) => {
      let row: BenchRow;
      try {
        const r = await fn();
        row = {
          ...base,
          impl,
          ms: round(r.ms, 4),
          imagesPerSecond: round((B * 1000) / r.ms),
          initialLoss: round(r.initialLoss, 7),
          firstLoss: round(r.firstLoss, 7),
          lastLoss: round(r.lastLoss, 7),
          params: r.params,
          ...('matmulGflops' in r && r.matmulGflops !== undefined ? { matmulGflops: r.matmulGflops } : {}),
          device: 'device' in r ? r.device : device,
          reps: r.samples.length,
          iters: 1,
        };
        raw.set(row, r);
      } catch (error) {
        const message = String((error as Error)?.message ?? error).slice(0, 400);
        row = { ...base, impl, ms: Number.NaN, error: message, device, reps: 0, iters: 0 };
      }
      progress();
      return row;
    };
    const oursCpu = await attempt('multihead-cpu', cpu.describe(), () =>
      trainOurs(cpu, start.weights, data, steps),
    );
    const oursGpu = await attempt('multihead-webgpu', env.adapter, () =>
      trainOurs(env.gpu, start.weights, data, steps),
    );
    const tfWasm = await attempt('tfjs-wasm', 'tfjs-backend-wasm', () =>
      trainTfjs(env, 'wasm', start, data, steps),
    );
    const tfGpu = await attempt('tfjs-webgpu', env.tfAdapter, () =>
      trainTfjs(env, 'webgpu', start, data, steps),
    );
    const torch = await attempt('pytorch-cpu', 'PyTorch CPU', () => trainTorch(start, data, steps));
    const group = [oursCpu, oursGpu, tfWasm, tfGpu, torch];
    const ratio = (peer: BenchRow, ours: BenchRow) => (peer.error ? undefined : round(peer.ms / ours.ms));
    for (const ours of [oursCpu, oursGpu].filter((r) => !r.error)) {
      const [vsTfjs, vsTfjsWasm, vsTorch] = [ratio(tfGpu, ours), ratio(tfWasm, ours), ratio(torch, ours)];
      Object.assign(ours, {
        ...(vsTfjs !== undefined ? { vsTfjs } : {}),
        ...(vsTfjsWasm !== undefined ? { vsTfjsWasm } : {}),
        ...(vsTorch !== undefined ? { vsTorch } : {}),
      });
    }
    checkLosses(group, raw, B);
    rows.push(...group);
  }
  return rows;
}

/**
 * Sets each row's |initial loss - the reference's| (PyTorch, or ours on the CPU when PyTorch failed) and the
 * same after one step, and says on stderr whether every implementation is within VIT_LOSS_TOLERANCE.
 */
function checkLosses(group: BenchRow[], raw: ReadonlyMap<BenchRow, Trained>, B: number): void {
  const done = group.filter((r) => raw.has(r));
  const ref = done.find((r) => r.impl === 'pytorch-cpu') ?? done.find((r) => r.impl === 'multihead-cpu');
  if (!ref) return;
  const want = raw.get(ref)!;
  let worst = 0;
  for (const r of done) {
    const got = raw.get(r)!;
    const diff = Math.abs(got.initialLoss - want.initialLoss);
    worst = Math.max(worst, diff);
    r.lossDiff = diff;
    r.stepLossDiff = Math.abs(got.firstLoss - want.firstLoss);
  }
  const counts = [...new Set(done.map((r) => r.params))];
  process.stderr.write(
    `vit B${B}: initial losses ${done.map((r) => `${r.impl} ${raw.get(r)!.initialLoss}`).join(', ')}; ` +
      `largest |difference| from ${ref.impl}: ${worst.toExponential(2)} ` +
      `(${worst <= VIT_LOSS_TOLERANCE ? 'within' : 'OUTSIDE'} ${VIT_LOSS_TOLERANCE}); ` +
      `parameters ${done.map((r) => `${r.impl} ${r.params}`).join(', ')} (${counts.length === 1 ? 'equal' : 'DIFFER'})\n`,
  );
}

/** docs/benchmarks.md's vit section. */
export function vitSection(rows: readonly BenchRow[], env: BenchEnv, command: string): string {
  const date = new Date().toISOString().slice(0, 10);
  const c = FASHION_VIT;
  const [side] = typeof c.imageSize === 'number' ? [c.imageSize] : c.imageSize;
  const tokens = (side / c.patchSize) ** 2;
  const { lr, betas, eps, weightDecay, labelSmoothing } = VIT_OPTIM;
  const cell = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '' : String(x));
  const exp = (x: number | undefined) => (x === undefined ? '' : x.toExponential(1));
  const done = rows.filter((r) => !r.error);
  const worst = Math.max(...done.map((r) => r.lossDiff ?? Number.NaN));
  const errors = rows.filter((r) => r.error);
  const lines = [
    '## vit (one training step of the vision/fashion ViT: forward, cross-entropy, backward, AdamW)',
    '',
    `- date: ${date}`,
    `- machine: ${env.machine}; Node ${process.version}`,
    `- WebGPU adapter: ${env.adapter} (Dawn, npm \`webgpu\`); tfjs-webgpu ${env.tf.version_core} on ${env.tfAdapter}`,
    `- command: \`${command}\``,
    `- model: \`FASHION_VIT\` of @multihead/vision, torchvision's ViT layout: ${c.imageSize} x ${c.imageSize} x ${c.channels} images, ${c.patchSize} x ${c.patchSize} patches (${tokens} tokens and a class token), ${c.numLayers} pre-norm layers, ${c.numHeads} heads, width ${c.hiddenDim}, MLP ${c.mlpDim} with GELU (erf), learned positions, LayerNorm eps 1e-6, ${c.numClasses} classes, no dropout; batch = size`,
    `- step: cross-entropy with label smoothing ${labelSmoothing}; AdamW lr ${lr}, betas [${betas.join(', ')}], eps ${eps}, weight decay ${weightDecay} on tensors of rank >= 2 (none on biases and LayerNorm), as vision/fashion trains (without its schedule, clipping and augmentation: none of them is in the timed step); one fixed batch of seeded images, every step`,
    `- implementations: \`multihead-cpu\` (CPU backend, wasm kernels, ${VIT_THREADS} threads) and \`multihead-webgpu\` are \`VisionTransformer\` + \`nn.crossEntropy\` + \`optim.AdamW\`, one \`tidy\` a step; \`tfjs-wasm\` and \`tfjs-webgpu\` are the same network in tfjs-core ops (patchify by reshape/transpose and matMul, \`tf.erf\` GELU, \`tf.moments\` LayerNorm, \`tf.losses.softmaxCrossEntropy\` with label smoothing) trained with \`tf.variableGrads\` and \`tf.train.adam\` plus the decoupled decay; \`pytorch-cpu\` is torchvision's \`VisionTransformer\` (its stem a 1-channel Conv2d) with \`torch.optim.AdamW\`, in a child process`,
    `- tfjs-wasm threads: tfjs-backend-wasm turns threads off in Node (its \`WASM_HAS_MULTITHREAD_SUPPORT\` flag is false there, tensorflow/tfjs#3830) and its threaded build's Blob-URL workers fail in Node's worker_threads; tools/bench/src/tfjs-wasm.ts runs that threaded build unchanged through a shim, and reports \`getThreadsCount()\` in the device column`,
    "- PyTorch: Debian's `python3-torch` (its build reports `BLAS_INFO=generic`); the device column gives that and a 1024^3 matmul timed in the same process (best of 3) at 1 thread and at the run's threads",
    `- start: every implementation loads our initial weights (torchvision's init, with a seeded head instead of torchvision's zero one so that the first loss depends on every layer); loss init is the warm-up step on those weights, after 1 step the first timed step; |Δ init| and |Δ step| are the differences from PyTorch's. Check: all initial losses within ${VIT_LOSS_TOLERANCE}: ${done.length > 1 && worst <= VIT_LOSS_TOLERANCE ? 'yes' : 'NO'} (largest ${exp(worst)})`,
    '- ms/step: median over the timed steps after one warm-up step (one timed step when the warm-up took over 10 s), each ending with the loss read back; images/s = batch / step time; vs x = peer ms / our ms',
    '',
    '| size | implementation | ms/step | images/s | loss init | after 1 step | \\|Δ init\\| | \\|Δ step\\| | params | vs tfjs-wasm | vs tfjs-webgpu | vs PyTorch | device |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.size} | ${r.impl} | ${r.error ? 'failed' : r.ms} | ${cell(r.imagesPerSecond)} | ${cell(r.initialLoss)} | ${cell(r.firstLoss)} | ${exp(r.lossDiff)} | ${exp(r.stepLossDiff)} | ${cell(r.params)} | ${cell(r.vsTfjsWasm)} | ${cell(r.vsTfjs)} | ${cell(r.vsTorch)} | ${r.device} |`,
    ),
  ];
  if (errors.length) {
    lines.push('', 'Failures:', '');
    for (const r of errors) lines.push(`- ${r.impl}, ${r.size}: ${r.error}`);
  }
  return lines.join('\n');
}
