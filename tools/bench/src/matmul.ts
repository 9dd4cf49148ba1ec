/** Square f32 matmul: ours on WebGPU vs tfjs-webgpu `tf.matMul` on the same adapter, and our CPU backend. */
import { type Device, matmul } from '@multihead/core';
import { type BenchEnv, randomFloats, round, timeIt } from './env.js';
import type { BenchRow } from './types.js';

/** float64 reference for a few rows; returns the largest |got - ref| over them. */
function maxError(got: Float32Array, a: Float32Array, b: Float32Array, n: number): number {
  let err = 0;
  const row = new Float64Array(n);
  for (const i of [0, n >> 1, n - 1]) {
    row.fill(0);
    for (let k = 0; k < n; k++) {
      const av = a[i * n + k]!;
      for (let j = 0; j < n; j++) row[j]! += av * b[k * n + j]!;
    }
    for (let j = 0; j < n; j++) err = Math.max(err, Math.abs(got[i * n + j]! - row[j]!));
  }
  return err;
}

async function ours(device: Device, a: Float32Array, b: Float32Array, n: number, reps: number) {
  const ta = device.tensor(a, [n, n]);
  const tb = device.tensor(b, [n, n]);
  let last: Float32Array | null = null;
  const t = await timeIt(async (read) => {
    const c = matmul(ta, tb);
    if (read) last = (await c.read()) as Float32Array;
    c.dispose();
  }, reps);
  ta.dispose();
  tb.dispose();
  return { ...t, out: last! };
}

async function tfjs(env: BenchEnv, a: Float32Array, b: Float32Array, n: number, reps: number) {
  const { tf } = env;
  const ta = tf.tensor2d(a, [n, n]);
  const tb = tf.tensor2d(b, [n, n]);
  let last: Float32Array | null = null;
  const t = await timeIt(async (read) => {
    const c = tf.matMul(ta, tb);
    if (read) last = (await c.data()) as Float32Array;
    c.dispose();
  }, reps);
  tf.dispose([ta, tb]);
  return { ...t, out: last! };
}

export async function benchMatmul(
  env: BenchEnv,
  sizes: readonly number[],
  reps: number,
  progress: () => void,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const n of sizes) {
    const a = randomFloats(n * n, 1000 + n);
    const b = randomFloats(n * n, 2000 + n);
    const flops = 2 * n * n * n;
    const size = `${n}x${n}x${n}`;
    const row = (
      impl: string,
      device: string,
      r: { ms: number; iters: number; reps: number; out: Float32Array },
    ): BenchRow => ({
      bench: 'matmul',
      impl,
      size,
      ms: round(r.ms, 4),
      gflops: round(flops / r.ms / 1e6),
      maxErr: round(maxError(r.out, a, b, n), 2),
      device,
      reps: r.reps,
      iters: r.iters,
    });
    const g = row('multihead-webgpu', env.adapter, await ours(env.gpu, a, b, n, reps));
    progress();
    const t = row('tfjs-webgpu', env.tfAdapter, await tfjs(env, a, b, n, reps));
    progress();
    const c = row('multihead-cpu', 'cpu', await ours(env.cpu, a, b, n, Math.min(reps, 3)));
    progress();
    g.vsTfjs = round(g.gflops! / t.gflops!);
    rows.push(g, t, c);
  }
  return rows;
}
