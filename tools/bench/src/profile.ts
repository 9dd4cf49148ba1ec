/**
 * Where one training step spends its time, by op kind: the GPT step of train.ts and the vision/fashion
 * ViT step of vit.ts, on the CPU backend (wasm kernels, 2 threads) and on WebGPU. Every kernel call goes
 * through core's `runKernel`, whose timing hook (`kernelTiming`) reports each call's own host time; the
 * step's wall time minus the kernels' is host overhead (the autograd tape, tensor bookkeeping, allocation
 * and garbage collection between ops).
 *
 * On the wasm kernels a call's time splits into its jobs (the kind's row) and staging: copying operands
 * into the WebAssembly memory and results out (`WasmRuntime.timeJobs`). On WebGPU a kernel call only encodes and submits: its time is host work, and the GPU runs later. There
 * the table splits host time by kind the same way, and "GPU (waiting for the queue)" is the rest of the
 * step: the wait in the loss read at its end.
 */
import { createDevice, type Device, type KernelName, kernelTiming, type MapArgs } from '@multihead/core';
import type { BenchEnv } from './env.js';
import { median, round } from './env.js';
import { gptStep, TRAIN_MODEL, type TrainStep } from './train.js';
import type { BenchRow } from './types.js';
import { VIT_THREADS, vitStart, vitStep } from './vit.js';

/** The op kinds of the profile, in table order. */
export const OP_KINDS = [
  'matmul',
  'attention',
  'elementwise',
  'norms',
  'softmax / cross-entropy',
  'reductions',
  'embedding (gather, index-add)',
  'random (dropout)',
  'optimizer',
  'copies / layout',
  'staging (wasm memory in / out)',
  'host overhead',
  'GPU (waiting for the queue)',
] as const;
export type OpKind = (typeof OP_KINDS)[number];

const KERNEL_KINDS: Record<string, OpKind> = {
  MatMul: 'matmul',
  FlashAttention: 'attention',
  FlashAttentionGrad: 'attention',
  NeighborhoodAttention: 'attention',
  NeighborhoodAttentionGrad: 'attention',
  LinearAttention: 'attention',
  LinearAttentionGrad: 'attention',
  BlockSparseAttention: 'attention',
  Norm: 'norms',
  NormGrad: 'norms',
  Softmax: 'softmax / cross-entropy',
  CrossEntropy: 'softmax / cross-entropy',
  CrossEntropyGrad: 'softmax / cross-entropy',
  Reduce: 'reductions',
  Gather: 'embedding (gather, index-add)',
  IndexAdd: 'embedding (gather, index-add)',
  RandomFill: 'random (dropout)',
  DropoutMask: 'random (dropout)',
  AdamWStep: 'optimizer',
  SgdStep: 'optimizer',
  ScaleInPlace: 'optimizer',
};

/** The kind of one kernel call: Map calls by their op (a copy is layout work, the rest elementwise). */
export function opKind(kernel: KernelName, args: unknown): OpKind {
  if (kernel === 'Map') return (args as MapArgs).op.name === 'copy' ? 'copies / layout' : 'elementwise';
  return KERNEL_KINDS[kernel] ?? 'elementwise';
}

/** One line of a profile: an op kind's share of one model's step on one backend. */
export interface ProfileRow extends BenchRow {
  /** 'gpt' (train.ts's step) or 'vit' (vit.ts's step) */
  model: 'gpt' | 'vit';
  kind: OpKind | 'step';
  /** kernel calls of this kind per step (0 for host overhead and the GPU wait) */
  calls: number;
  /** this kind's ms / the profiled step's ms */
  share: number;
}

interface Profiled {
  /** median ms of the unprofiled steps */
  plainMs: number;
  /** mean ms of the profiled steps (the hook costs a clock read per kernel call) */
  profiledMs: number;
  byKind: Map<OpKind, { ms: number; calls: number }>;
}

/** Warm-up, `steps` plain timed steps, then `steps` profiled ones; the step's loss is read back each time. */
async function profileStep(device: Device, step: TrainStep, steps: number): Promise<Profiled> {
  const run = async () => {
    const loss = step.run();
    await loss.read();
    loss.dispose();
  };
  await run(); // warm-up: pipelines compile, pools fill
  const plain: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await run();
    plain.push(performance.now() - t0);
  }
  const byKind = new Map<OpKind, { ms: number; calls: number }>();
  const add = (kind: OpKind, ms: number, calls: number) => {
    const entry = byKind.get(kind) ?? { ms: 0, calls: 0 };
    entry.ms += ms;
    entry.calls += calls;
    byKind.set(kind, entry);
  };
  let kernelMs = 0;
  let wall = 0;
  // on the wasm kernels, a call's time outside its jobs is staging: operands copied into the
  // WebAssembly memory and results copied out
  const rt = device.cpu;
  let jobsSeen = 0;
  if (rt) {
    rt.timeJobs = true;
    jobsSeen = rt.jobMs;
  }
  kernelTiming.hook = (kernel, args, on, selfMs) => {
    if (on !== device) return;
    kernelMs += selfMs;
    if (!rt) return add(opKind(kernel, args), selfMs, 1);
    const jobs = Math.min(selfMs, rt.jobMs - jobsSeen);
    jobsSeen = rt.jobMs;
    // a call that ran no job ran JavaScript (the reference, or a kernel with no wasm version): all its own
    add(opKind(kernel, args), jobs > 0 ? jobs : selfMs, 1);
    if (jobs > 0) add('staging (wasm memory in / out)', selfMs - jobs, 0);
  };
  try {
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await run();
      wall += performance.now() - t0;
    }
  } finally {
    kernelTiming.hook = null;
    if (rt) rt.timeJobs = false;
  }
  const rest: OpKind = device.gpu ? 'GPU (waiting for the queue)' : 'host overhead';
  byKind.set(rest, { ms: wall - kernelMs, calls: 0 });
  for (const e of byKind.values()) {
    e.ms /= steps;
    e.calls /= steps;
  }
  return { plainMs: median(plain), profiledMs: wall / steps, byKind };
}

export async function benchProfile(
  env: BenchEnv,
  sizes: readonly number[],
  steps: number,
  progress: () => void,
): Promise<ProfileRow[]> {
  const cpu = await createDevice({ backend: 'cpu', threads: VIT_THREADS });
  const devices = [cpu, env.gpu].filter((d): d is Device => d !== null); // no adapter: the CPU alone
  const rows: ProfileRow[] = [];
  const profileOn = async (model: ProfileRow['model'], size: string, device: Device, step: TrainStep) => {
    const impl = device.gpu ? 'multihead-webgpu' : 'multihead-cpu';
    const base = { bench: 'profile' as const, model, impl, size, device: device.describe(), iters: 1 };
    try {
      const p = await profileStep(device, step, steps);
      rows.push({ ...base, kind: 'step', ms: round(p.plainMs, 4), calls: 0, share: 1, reps: steps });
      for (const kind of OP_KINDS) {
        const e = p.byKind.get(kind);
        if (!e) continue;
        const share = round(e.ms / p.profiledMs, 3);
        rows.push({ ...base, kind, ms: round(e.ms, 3), calls: round(e.calls, 4), share, reps: steps });
      }
    } catch (error) {
      const message = String((error as Error)?.message ?? error).slice(0, 300);
      rows.push({ ...base, kind: 'step', ms: Number.NaN, calls: 0, share: 0, error: message, reps: 0 });
    } finally {
      step.dispose();
    }
    progress();
  };
  for (const T of sizes) {
    for (const device of devices) {
      await profileOn(
        'gpt',
        `GPT B${TRAIN_MODEL.batch} T${T}`,
        device,
        gptStep(device, TRAIN_MODEL.batch, T),
      );
    }
  }
  const vit = await vitStart(cpu);
  const [h, w] = vit.cfg.imageSize;
  for (const device of devices) {
    await profileOn('vit', `ViT B${vit.data.batch} ${h}x${w}`, device, vitStep(device, vit));
  }
  cpu.destroy();
  return rows;
}

/** The rows of one (model, size) as a table: op kinds down, ms / share / calls per backend across. */
function kindTable(rows: readonly ProfileRow[]): string[] {
  const impls = [...new Set(rows.map((r) => r.impl))];
  const cell = (impl: string, kind: ProfileRow['kind']) => {
    const r = rows.find((x) => x.impl === impl && x.kind === kind);
    if (!r) return ['', '', ''];
    if (r.error) return ['failed', '', ''];
    return [
      String(r.ms),
      kind === 'step' ? '' : `${round(r.share * 100, 3)}%`,
      r.calls ? String(r.calls) : '',
    ];
  };
  const kinds = (['step', ...OP_KINDS] as const).filter((k) => rows.some((r) => r.kind === k));
  return [
    `| ${rows[0]!.size} | ${impls.map((i) => `${i} ms | % | calls`).join(' | ')} |`,
    `|---|${impls.map(() => '---:|---:|---:').join('|')}|`,
    ...kinds.map(
      (k) =>
        `| ${k === 'step' ? 'step (unprofiled median)' : k} | ${impls.flatMap((i) => cell(i, k)).join(' | ')} |`,
    ),
  ];
}

/** Tables of a profile run, one per model and size (what `pnpm bench -- profile` prints). */
export function profileTable(rows: readonly ProfileRow[]): string {
  const groups = [...new Set(rows.map((r) => r.size))];
  return groups.map((size) => kindTable(rows.filter((r) => r.size === size)).join('\n')).join('\n\n');
}

/** docs/benchmarks.md's profile section. */
export function profileSection(rows: readonly ProfileRow[], env: BenchEnv, command: string): string {
  const date = new Date().toISOString().slice(0, 10);
  const devices = [...new Set(rows.map((r) => `${r.impl}: ${r.device}`))].join('; ');
  const lines = [
    '## profile (one training step by op kind)',
    '',
    `- date: ${date}`,
    `- machine: ${env.machine}; Node ${process.version}`,
    `- devices: ${devices}`,
    `- command: \`${command}\``,
    '- steps: the GPT step of the train section (d_model 128, 4 layers, B8, AdamW) and the vision/fashion ViT step of the vit section, each on one fixed batch with the loss read back',
    "- how: core's `kernelTiming` hook reports each kernel call's own host time; on the wasm kernels a call splits into its jobs (its kind's row) and staging (operands copied into the WebAssembly memory and results out); host overhead is the step's wall time minus the kernels' (autograd tape, bookkeeping, allocation, garbage collection); on WebGPU kernel calls only encode and submit, and the GPU row is the rest of the step (the wait in the loss read); a call's time can also hold GPU work queued before it when its submit waits for the queue",
    '- ms: mean per step over the profiled steps (the hook costs a clock read per call); % of the profiled step; calls per step; the first row is the median of as many unprofiled steps',
    '',
  ];
  for (const size of new Set(rows.map((r) => r.size))) {
    lines.push(...kindTable(rows.filter((r) => r.size === size)), '');
  }
  const errors = rows.filter((r) => r.error);
  if (errors.length) {
    lines.push('Failures:', '');
    for (const r of errors) lines.push(`- ${r.impl}, ${r.size}: ${r.error}`);
  }
  return lines.join('\n').trimEnd();
}
