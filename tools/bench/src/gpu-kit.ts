/**
 * Our attention on a hardware GPU, both kernel families, forward and backward, in one process that needs
 * nothing installed: `tools/bench/device-kit.sh` bundles this file with @multihead/core, a node binary
 * and Dawn's linux-x64 build into `.device-kit/`, small enough to travel to a machine that can reach no
 * registry (the `device` tool of docs/benchmarks.md). Peers (tfjs, onnxruntime-web) are left out: their
 * packages would not fit. Prints the adapter, then one JSON line per case.
 *
 *   node gpu-kit.mjs [--sizes 1024,2048,4096,8192] [--reps 5]
 */
import { type AttentionKernel, attention, attentionBackward, createDevice } from '@multihead/core';
import { attentionCase, attentionMaxError } from './attention.js';
import { round, timeIt } from './env.js';

const [B, H, D] = [1, 8, 64];
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const sizes = option('--sizes', '1024,2048,4096,8192').split(',').map(Number);
const reps = Number(option('--reps', '5'));

const device = await createDevice({ backend: 'webgpu' });
const a = device.adapter!;
const limits = (device.gpu as unknown as { device: GPUDevice }).device.limits;
console.log(
  JSON.stringify({
    adapter: `${a.vendor}/${a.architecture}/${a.device} (${a.description})`,
    software: a.isSoftware,
    features: [...device.gpu!.features].sort(),
    maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
  }),
);

for (const N of sizes) {
  const shape = [B, H, N, D];
  for (const causal of [false, true]) {
    const c = attentionCase(N, causal);
    const [q, k, v, dout] = [c.q, c.k, c.v, c.dout].map((x) => device.tensor(x, shape));
    const fwdFlops = (4 * B * H * N * N * D) / (causal ? 2 : 1);
    for (const kernel of ['tiled', 'registers'] as AttentionKernel[]) {
      const opts = { causal, kernel };
      let out: Float32Array | null = null;
      const fwd = await timeIt(async (read) => {
        const o = attention(q!, k!, v!, opts);
        if (read) out = (await o.read()) as Float32Array;
        o.dispose();
      }, reps);
      const saved = attention.detailed(q!, k!, v!, opts);
      let dq: Float32Array | null = null;
      const bwd = await timeIt(async (read) => {
        const g = attentionBackward(q!, k!, v!, saved.out, saved.lse, dout!, opts);
        if (read) dq = (await Promise.all([g.dq.read(), g.dk.read(), g.dv.read()]))[0] as Float32Array;
        for (const t of [g.dq, g.dk, g.dv]) t.dispose();
      }, reps);
      saved.out.dispose();
      saved.lse.dispose();
      console.log(
        JSON.stringify({
          size: `B${B} H${H} N${N} D${D}`,
          causal,
          kernel,
          fwdMs: round(fwd.ms, 4),
          fwdGflops: round(fwdFlops / fwd.ms / 1e6),
          fwdMaxErr: round(attentionMaxError(out!, c, 'o'), 2),
          bwdMs: round(bwd.ms, 4),
          bwdGflops: round((2.5 * fwdFlops) / bwd.ms / 1e6),
          bwdMaxErr: round(attentionMaxError(dq!, c, 'dq'), 2),
          bwdOverFwd: round(bwd.ms / fwd.ms),
        }),
      );
    }
    for (const t of [q, k, v, dout]) t!.dispose();
  }
}
device.destroy();
process.exit(0);
