/**
 * Neighbourhood attention (`attention(q, k, v, { neighborhood })`) against dense attention with the
 * equivalent boolean mask (the fused kernel with `mask`), forward and forward + backward, on our CPU
 * backend (wasm kernels) and on WebGPU, in one run: a (size) x (size) grid, B 1, H 4, D 64, a 7 x 7
 * window. The ratio is dense ms / neighbourhood ms of the same backend; max err compares the two outputs.
 */

import {
  attention,
  attentionBackward,
  type Device,
  type NeighborhoodOptions,
  type Tensor,
} from '@multihead/core';
import { type BenchEnv, randomFloats, round, timeIt } from './env.js';
import type { BenchRow } from './types.js';

export const NEIGHBORHOOD_SHAPE = { B: 1, H: 4, D: 64, kernel: 7 };

/** The neighbourhood's mask [N, N] (true = attend), by a plain loop from the definition (non-causal). */
function denseMask(side: number, k: number): Uint8Array {
  const start = (p: number) => Math.min(Math.max(p - (k >> 1), 0), side - k);
  const N = side * side;
  const mask = new Uint8Array(N * N);
  for (let i = 0; i < N; i++) {
    const [y0, x0] = [start(Math.floor(i / side)), start(i % side)];
    for (let y = y0; y < y0 + k; y++) for (let x = x0; x < x0 + k; x++) mask[i * N + y * side + x] = 1;
  }
  return mask;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let err = 0;
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i]! - b[i]!));
  return err;
}

export async function benchNeighborhood(
  env: BenchEnv,
  sizes: readonly number[],
  reps: number,
  progress: () => void,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const { B, H, D, kernel } = NEIGHBORHOOD_SHAPE;
  for (const side of sizes) {
    const N = side * side;
    const size = `B${B} H${H} ${side}x${side} (N ${N}) D${D} k${kernel}`;
    const nb: NeighborhoodOptions = { grid: [side, side], kernel };
    const data = [1, 2, 3, 4].map((seed) => randomFloats(B * H * N * D, seed));
    const mask = denseMask(side, kernel);
    for (const [device, where] of [
      [env.cpu, env.cpu.describe()],
      [env.gpu, env.adapter],
    ] as [Device, string][]) {
      const [q, k, v, g] = data.map((x) => device.tensor(x, [B, H, N, D])) as [
        Tensor,
        Tensor,
        Tensor,
        Tensor,
      ];
      const m = device.tensor(mask, [N, N], { dtype: 'bool' });
      const outputs: Record<string, Float32Array> = {};
      const times: Record<string, number> = {};
      for (const [impl, opts] of [
        ['neighborhood', { neighborhood: nb }],
        ['dense-masked', { mask: m }],
      ] as const) {
        for (const backward of [false, true]) {
          const name = `multihead-${impl}${backward ? '-fwd+bwd' : ''}`;
          try {
            const t = await timeIt(async (read) => {
              const { out, lse } = attention.detailed(q, k, v, opts);
              if (!backward) {
                if (read) outputs[impl] = (await out.read()) as Float32Array;
              } else {
                const grads = attentionBackward(q, k, v, out, lse, g, opts);
                if (read) await grads.dq.read();
                for (const x of [grads.dq, grads.dk, grads.dv]) x.dispose();
              }
              out.dispose();
              lse.dispose();
            }, reps);
            times[name] = t.ms;
            rows.push({
              bench: 'neighborhood',
              impl: name,
              size,
              ms: round(t.ms, 4),
              device: where,
              reps: t.reps,
              iters: t.iters,
            });
          } catch (error) {
            rows.push({
              bench: 'neighborhood',
              impl: name,
              size,
              ms: Number.NaN,
              error: String((error as Error)?.message ?? error).slice(0, 300),
              device: where,
              reps: 0,
              iters: 0,
            });
          }
          progress();
        }
      }
      for (const row of rows.filter((r) => r.device === where && r.size === size)) {
        const dense = times[row.impl.replace('neighborhood', 'dense-masked')];
        if (row.impl.includes('neighborhood') && dense !== undefined && !row.error)
          row.vsDense = round(dense / row.ms);
        if (outputs.neighborhood && outputs['dense-masked'] && !row.impl.includes('bwd'))
          row.maxErr = round(maxAbsDiff(outputs.neighborhood, outputs['dense-masked']), 2);
      }
      for (const t of [q, k, v, g, m]) t.dispose();
    }
  }
  return rows;
}

/** docs/benchmarks.md's neighborhood section. */
export function neighborhoodSection(rows: readonly BenchRow[], env: BenchEnv, command: string): string {
  const date = new Date().toISOString().slice(0, 10);
  const cell = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '' : String(x));
  const { B, H, D, kernel } = NEIGHBORHOOD_SHAPE;
  const lines = [
    `## neighborhood (2-D neighbourhood attention vs dense masked attention)`,
    '',
    `- date: ${date}`,
    `- machine: ${env.machine}; Node ${process.version}`,
    `- WebGPU adapter: ${env.adapter} (Dawn, npm \`webgpu\`); CPU: ${env.cpu.describe()}`,
    `- command: \`${command}\``,
    `- what: \`attention(q, k, v, { neighborhood: { grid: [n, n], kernel: ${kernel} } })\` (B ${B}, H ${H}, D ${D}, non-causal) against the fused kernel with the equivalent boolean mask [N, N]; fwd+bwd = \`attention.detailed\` then \`attentionBackward\` (dq, dk, dv)`,
    '- ms: median per call after a warm-up, output read back at the end of each timed batch; vs dense = dense-masked ms / neighborhood ms on the same device; max err: largest |neighborhood out - dense out|',
    '',
    '| size | implementation | ms | vs dense | max err | device |',
    '|---|---|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.size} | ${r.impl} | ${r.error ? 'failed' : r.ms} | ${cell(r.vsDense)} | ${r.maxErr === undefined ? '' : r.maxErr.toExponential(1)} | ${r.device} |`,
    ),
  ];
  const errors = rows.filter((r) => r.error);
  if (errors.length) {
    lines.push('', 'Failures:', '');
    for (const r of errors) lines.push(`- ${r.impl}, ${r.size}: ${r.error}`);
  }
  return lines.join('\n');
}
