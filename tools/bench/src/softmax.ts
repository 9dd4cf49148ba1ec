/** Row softmax over the last axis: ours on WebGPU vs tfjs-webgpu `tf.softmax`, and our CPU backend. */
import { type Device, softmax } from '@multihead/core';
import { type BenchEnv, randomFloats, round, timeIt } from './env.js';
import type { BenchRow } from './types.js';

export const SOFTMAX_ROWS = 4096;

function maxError(got: Float32Array, x: Float32Array, rows: number, cols: number): number {
  let err = 0;
  for (const r of [0, 1, rows >> 1, rows - 1]) {
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < cols; j++) m = Math.max(m, x[r * cols + j]!);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(x[r * cols + j]! - m);
    for (let j = 0; j < cols; j++) {
      err = Math.max(err, Math.abs(got[r * cols + j]! - Math.exp(x[r * cols + j]! - m) / s));
    }
  }
  return err;
}

async function ours(device: Device, x: Float32Array, rows: number, cols: number, reps: number) {
  const t = device.tensor(x, [rows, cols]);
  let last: Float32Array | null = null;
  const r = await timeIt(async (read) => {
    const y = softmax(t, -1);
    if (read) last = (await y.read()) as Float32Array;
    y.dispose();
  }, reps);
  t.dispose();
  return { ...r, out: last! };
}

async function tfjs(env: BenchEnv, x: Float32Array, rows: number, cols: number, reps: number) {
  const { tf } = env;
  const t = tf.tensor2d(x, [rows, cols]);
  let last: Float32Array | null = null;
  const r = await timeIt(async (read) => {
    const y = tf.softmax(t);
    if (read) last = (await y.data()) as Float32Array;
    y.dispose();
  }, reps);
  t.dispose();
  return { ...r, out: last! };
}

export async function benchSoftmax(
  env: BenchEnv,
  sizes: readonly number[],
  reps: number,
  progress: () => void,
): Promise<BenchRow[]> {
  const out: BenchRow[] = [];
  for (const cols of sizes) {
    const rows = SOFTMAX_ROWS;
    // logits with a spread like attention scores
    const x = randomFloats(rows * cols, 3000 + cols).map((v) => v * 8);
    const bytes = 2 * rows * cols * 4;
    const row = (
      impl: string,
      device: string,
      r: { ms: number; iters: number; reps: number; out: Float32Array },
    ): BenchRow => ({
      bench: 'softmax',
      impl,
      size: `${rows}x${cols}`,
      ms: round(r.ms, 4),
      gbps: round(bytes / r.ms / 1e6),
      maxErr: round(maxError(r.out, x, rows, cols), 2),
      device,
      reps: r.reps,
      iters: r.iters,
    });
    const g = row('multihead-webgpu', env.adapter, await ours(env.gpu, x, rows, cols, reps));
    progress();
    const t = row('tfjs-webgpu', env.tfAdapter, await tfjs(env, x, rows, cols, reps));
    progress();
    const c = row('multihead-cpu', 'cpu', await ours(env.cpu, x, rows, cols, reps));
    progress();
    g.vsTfjs = round(g.gbps! / t.gbps!);
    out.push(g, t, c);
  }
  return out;
}
