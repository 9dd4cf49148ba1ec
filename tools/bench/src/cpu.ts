/**
 * The CPU backend side by side with CPU peers, in one process: our wasm kernels (1 and 2 threads) against
 * onnxruntime-node's CPU EP (1 and 2 intra-op threads) and onnxruntime-web's wasm EP (1 thread: more
 * fail in Node, see shared/peers/README.md) on attention B 1, H 8, D 64 (causal and not) and square
 * matmul, plus one training step of the small GPT on the wasm kernels and on the TypeScript reference
 * (the "before" figure). Needs no WebGPU adapter.
 */
import os from 'node:os';
import { attention, attentionBackward, createDevice, type Device, matmul } from '@multihead/core';
import { attentionCase, attentionMaxError } from './attention.js';
import { randomFloats, round, timeIt } from './env.js';
import { matmulModel, plainAttentionModel } from './onnx.js';
import { TRAIN_MODEL, trainOurs } from './train.js';
import type { BenchRow } from './types.js';

const B = 1;
const H = 8;
const D = 64;
/** Our devices: the default build (relaxed SIMD: fused multiply-add) and the plain-SIMD one, 1 and 2 threads. */
const BUILDS = [
  ['relaxed', 1],
  ['relaxed', 2],
  ['plain', 1],
  ['plain', 2],
] as const;
/** Peers: onnxruntime-node 1 and 2 threads, onnxruntime-web 1 thread. */
const PEERS = 3;
/** A call slower than this is timed once after the warm-up (the reference at large sizes). */
const ONCE_MS = 4000;

interface OrtTensor {
  data: unknown;
}
interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface Ort {
  env: { wasm?: { numThreads: number }; logLevel?: string; versions?: Record<string, string> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
  InferenceSession: { create(model: Uint8Array, options: Record<string, unknown>): Promise<OrtSession> };
}

async function importOrt(specifier: string): Promise<Ort> {
  const mod = (await import(specifier)) as Ort & { default?: Ort };
  return mod.InferenceSession ? mod : mod.default!;
}

interface Peer {
  impl: string;
  device: string;
  threads: number;
  ort: Ort;
  options: Record<string, unknown>;
}

async function peers(): Promise<Peer[]> {
  const out: Peer[] = [];
  try {
    const node = await importOrt('onnxruntime-node');
    for (const threads of [1, 2]) {
      out.push({
        impl: `ort-node-cpu-${threads}t`,
        device: `onnxruntime-node ${node.env.versions?.node ?? ''} CPU EP`,
        threads,
        ort: node,
        options: { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1 },
      });
    }
  } catch (error) {
    process.stderr.write(`bench cpu: onnxruntime-node unavailable: ${String(error)}\n`);
  }
  try {
    const web = await importOrt('onnxruntime-web');
    web.env.wasm!.numThreads = 1; // more threads fail in Node (the worker is fetched from a file: URL)
    web.env.logLevel = 'error';
    out.push({
      impl: 'ort-web-wasm-1t',
      device: `onnxruntime-web ${web.env.versions?.web ?? ''} wasm EP`,
      threads: 1,
      ort: web,
      options: { executionProviders: ['wasm'] },
    });
  } catch (error) {
    process.stderr.write(`bench cpu: onnxruntime-web unavailable: ${String(error)}\n`);
  }
  return out;
}

interface Timed {
  ms: number;
  iters: number;
  reps: number;
  out: Float32Array;
}

async function ortRun(
  peer: Peer,
  model: Uint8Array,
  feeds: Record<string, [Float32Array, number[]]>,
  reps: number,
): Promise<Timed> {
  const session = await peer.ort.InferenceSession.create(model, {
    ...peer.options,
    graphOptimizationLevel: 'all',
  });
  const inputs = Object.fromEntries(
    Object.entries(feeds).map(([k, [data, dims]]) => [k, new peer.ort.Tensor('float32', data, dims)]),
  );
  let last: Float32Array | null = null;
  try {
    const t = await timeIt(
      async (read) => {
        const out = await session.run(inputs);
        if (read) last = Object.values(out)[0]!.data as Float32Array;
      },
      reps,
      250,
      ONCE_MS,
    );
    return { ...t, out: last! };
  } finally {
    await session.release();
  }
}

/** float64 reference rows of a square product; largest |got - ref|. */
function matmulError(got: Float32Array, a: Float32Array, b: Float32Array, n: number): number {
  let err = 0;
  for (const i of [0, n >> 1, n - 1]) {
    for (let j = 0; j < n; j += 7) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += a[i * n + k]! * b[k * n + j]!;
      err = Math.max(err, Math.abs(got[i * n + j]! - acc));
    }
  }
  return err;
}

export async function benchCpu(
  sizes: readonly number[],
  reps: number,
  progress: () => void,
): Promise<BenchRow[]> {
  const ours: [string, Device][] = [];
  for (const [simd, threads] of BUILDS) {
    const dev = await createDevice({ backend: 'cpu', kernels: 'wasm', threads, simd });
    ours.push([`multihead-wasm-${simd === 'plain' ? 'plain-' : ''}${threads}t`, dev]);
  }
  const reference = await createDevice({ backend: 'cpu', kernels: 'reference' });
  const others = await peers();
  const rows: BenchRow[] = [];
  const failed = (
    base: Omit<BenchRow, 'impl' | 'ms' | 'device' | 'reps' | 'iters'>,
    impl: string,
    device: string,
    error: unknown,
  ): BenchRow => ({
    ...base,
    impl,
    ms: Number.NaN,
    error: String((error as Error)?.message ?? error).slice(0, 300),
    device,
    reps: 0,
    iters: 0,
  });

  // attention forward (and our backward), causal and not
  for (const N of sizes) {
    const byCausal = new Map<boolean, BenchRow[]>();
    for (const causal of [false, true]) {
      const c = attentionCase(N, causal);
      const flops = (4 * B * H * N * N * D) / (causal ? 2 : 1);
      const base = { bench: 'cpu' as const, size: `attention B${B} H${H} N${N} D${D}`, causal };
      const row = (impl: string, device: string, r: Timed, f = flops, which: 'o' | 'dq' = 'o'): BenchRow => ({
        ...base,
        impl,
        ms: round(r.ms, 4),
        gflops: round(f / r.ms / 1e6),
        maxErr: round(attentionMaxError(r.out, c, which), 2),
        device,
        reps: r.reps,
        iters: r.iters,
      });
      const group: BenchRow[] = [];
      const shape = [B, H, N, D];
      for (const [impl, dev] of ours) {
        const [q, k, v, g] = [c.q, c.k, c.v, c.dout].map((x) => dev.tensor(x, shape));
        let last: Float32Array | null = null;
        const fwd = await timeIt(
          async (read) => {
            const o = attention(q!, k!, v!, { causal });
            if (read) last = (await o.read()) as Float32Array;
            o.dispose();
          },
          reps,
          250,
          ONCE_MS,
        );
        group.push(row(impl, dev.describe(), { ...fwd, out: last! }));
        progress();
        const { out, lse } = attention.detailed(q!, k!, v!, { causal });
        let dq: Float32Array | null = null;
        const bwd = await timeIt(
          async (read) => {
            const r = attentionBackward(q!, k!, v!, out, lse, g!, { causal });
            if (read) dq = (await r.dq.read()) as Float32Array;
            for (const t of [r.dq, r.dk, r.dv]) t.dispose();
          },
          reps,
          250,
          ONCE_MS,
        );
        const b = row(`${impl}-bwd`, dev.describe(), { ...bwd, out: dq! }, 2.5 * flops, 'dq');
        b.bwdOverFwd = round(bwd.ms / fwd.ms);
        group.push(b);
        progress();
        for (const t of [q, k, v, g, out, lse]) t!.dispose();
      }
      for (const peer of others) {
        try {
          const model = plainAttentionModel(B, H, N, D, causal);
          const r = await ortRun(peer, model, { Q: [c.q, shape], K: [c.k, shape], V: [c.v, shape] }, reps);
          group.push(row(peer.impl, peer.device, r));
        } catch (error) {
          group.push(failed(base, peer.impl, peer.device, error));
        }
        progress();
      }
      byCausal.set(causal, group);
      rows.push(...group);
    }
    const [plain, masked] = [byCausal.get(false)!, byCausal.get(true)!];
    masked.forEach((r, i) => {
      const p = plain[i]!;
      if (!r.error && !p.error) r.causalSpeedup = round(p.ms / r.ms);
    });
  }

  // square matmul at the sizes up to 1024
  const mmSizes = sizes.filter((s) => s <= 1024);
  for (const n of mmSizes.length ? mmSizes : [Math.min(...sizes)]) {
    const a = randomFloats(n * n, 1000 + n);
    const b = randomFloats(n * n, 2000 + n);
    const base = { bench: 'cpu' as const, size: `matmul ${n}x${n}x${n}` };
    const flops = 2 * n * n * n;
    const row = (impl: string, device: string, r: Timed): BenchRow => ({
      ...base,
      impl,
      ms: round(r.ms, 4),
      gflops: round(flops / r.ms / 1e6),
      maxErr: round(matmulError(r.out, a, b, n), 2),
      device,
      reps: r.reps,
      iters: r.iters,
    });
    for (const [impl, dev] of ours) {
      const [ta, tb] = [dev.tensor(a, [n, n]), dev.tensor(b, [n, n])];
      let last: Float32Array | null = null;
      const t = await timeIt(async (read) => {
        const cm = matmul(ta, tb);
        if (read) last = (await cm.read()) as Float32Array;
        cm.dispose();
      }, reps);
      rows.push(row(impl, dev.describe(), { ...t, out: last! }));
      ta.dispose();
      tb.dispose();
      progress();
    }
    for (const peer of others) {
      try {
        const r = await ortRun(peer, matmulModel(n), { A: [a, [n, n]], B: [b, [n, n]] }, reps);
        rows.push(row(peer.impl, peer.device, r));
      } catch (error) {
        rows.push(failed(base, peer.impl, peer.device, error));
      }
      progress();
    }
  }

  // one training step of the small GPT (T 64): wasm kernels vs the TypeScript reference
  const T = 64;
  const trainBase = { bench: 'cpu' as const, size: `train step B${TRAIN_MODEL.batch} T${T}` };
  const trained: BenchRow[] = [];
  for (const [impl, dev] of [...ours, ['multihead-ts-reference', reference] as [string, Device]]) {
    try {
      const r = await trainOurs(dev, TRAIN_MODEL.batch, T, Math.min(reps, 3));
      trained.push({
        ...trainBase,
        impl,
        ms: round(r.ms, 4),
        tokensPerSecond: round((TRAIN_MODEL.batch * T * 1000) / r.ms),
        lastLoss: round(r.lastLoss, 4),
        device: dev.describe(),
        reps: r.samples.length,
        iters: 1,
      });
    } catch (error) {
      trained.push(failed(trainBase, impl, dev.describe(), error));
    }
    progress();
  }
  const ref = trained.at(-1)!;
  for (const r of trained.slice(0, -1)) if (!r.error && !ref.error) r.vsReference = round(ref.ms / r.ms);
  rows.push(...trained);
  return rows;
}

/** Rows the cpu bench makes for these sizes (progress totals). */
export function cpuRowCount(sizes: readonly number[]): number {
  const matmuls = Math.max(1, sizes.filter((s) => s <= 1024).length);
  // attention: 2 (causal or not) x (fwd + bwd per build, peers); matmul: builds + peers; train: builds + reference
  return (
    sizes.length * 2 * (2 * BUILDS.length + PEERS) + matmuls * (BUILDS.length + PEERS) + BUILDS.length + 1
  );
}

export function cpuMachine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores`;
}
