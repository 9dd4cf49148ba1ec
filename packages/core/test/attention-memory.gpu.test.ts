/**
 * Memory is part of correctness: fused attention never allocates Nq x Nk. Forward and backward at
 * N = 1024, 4096 and 16384 (causal, H 2, D 64): the GPU bytes allocated grow linearly with N. At 16384 an
 * N x N score matrix alone would be 2 GiB; the whole forward + backward stays near 90 MB.
 */
import { expect, it } from 'vitest';
import { attention, attentionBackward, randn } from '../src/index.js';
import { getDevices } from './device.js';

it('GPU bytes for causal attention forward + backward grow linearly with N (no N x N buffer)', async () => {
  const { dev } = await getDevices();
  const gpu = dev.gpu!;
  const [H, D] = [2, 64];
  const perToken: number[] = [];
  for (const N of [1024, 4096, 16384]) {
    gpu.emptyPool();
    const before = dev.memory().gpuAllocatedBytes;
    const [q, k, v, g] = [1, 2, 3, 4].map((seed) => randn(dev, [1, H, N, D], { seed }));
    const { out, lse } = attention.detailed(q!, k!, v!, { causal: true });
    const grads = attentionBackward(q!, k!, v!, out, lse, g!, { causal: true });
    const dq = (await grads.dq.read()) as Float32Array;
    expect(dq.every(Number.isFinite)).toBe(true);
    // every buffer ever allocated is still counted here (freed ones sit in the pool): the peak
    const bytes = dev.memory().gpuAllocatedBytes - before;
    perToken.push(bytes / N);
    console.log(
      `[memory] N ${N}: ${(bytes / 2 ** 20).toFixed(1)} MiB allocated (N x N x H floats would be ${((N * N * H * 4) / 2 ** 20).toFixed(0)} MiB)`,
    );
    for (const t of [q, k, v, g, out, lse, grads.dq, grads.dk, grads.dv]) t!.dispose();
    // far below the [H, N, N] score tensor an unfused attention would hold
    if (N >= 4096) expect(bytes).toBeLessThan((N * N * H * 4) / 4);
  }
  // linear: bytes per token constant within pool rounding (size classes round up by at most 25%)
  const [a, , c] = perToken as [number, number, number];
  expect(c / a).toBeLessThan(1.3);
  expect(c / a).toBeGreaterThan(0.7);
}, 600_000);
