/**
 * Tensors in the WebAssembly memory (runtime.ts `hostArray`, device.ts `arenaArray`): where they live,
 * that their blocks come back when they are disposed, and that ops whose output shares storage with an
 * input still read the input's values before they are overwritten.
 */
import { describe, expect, it } from 'vitest';
import { randomData } from '../../../test/device.js';
import { wasmDevice } from '../../../test/wasm.js';
import { add, copyInto, type Device, matmul, softmax } from '../../index.js';

/** 2 048 values: above the element-wise and row kernels' minimum sizes, so they take the wasm paths. */
const N = 2048;

describe('tensors in the wasm memory', () => {
  it('live in the memory on a wasm device, and their blocks come back when disposed', async () => {
    const dev = await wasmDevice(2);
    const rt = dev.cpu!;
    const before = rt.heapBytes;
    const a = dev.tensor(randomData(N, 1), [32, 64]);
    const b = dev.tensor(randomData(N, 2), [64, 32]);
    const c = matmul(a, b);
    for (const t of [a, b, c]) expect(rt.owns(t.storage.array!)).toBe(true);
    expect(rt.heapBytes - before).toBeGreaterThanOrEqual((2 * N + 32 * 32) * 4);
    for (const t of [a, b, c]) t.dispose();
    expect(rt.heapBytes).toBe(before);
  });

  it('stay in ordinary arrays with the arena off, and the kernels give the same values', async () => {
    const run = async (dev: Device) => {
      const x = dev.tensor(randomData(N, 3), [16, 128]);
      const y = softmax(add(x, x), -1);
      return { inMemory: dev.cpu?.owns(y.storage.array!) ?? false, values: await y.read() };
    };
    const placed = await run(await wasmDevice(2));
    const copied = await run(await wasmDevice(2, { arena: false }));
    expect([placed.inMemory, copied.inMemory]).toEqual([true, false]);
    expect(copied.values).toEqual(placed.values);
  });

  it('an op whose output is a view of the storage it reads (an in-place transpose) reads the old values first', async () => {
    const dev = await wasmDevice(2);
    const n = 64;
    const values = Float32Array.from({ length: n * n }, (_, i) => i);
    const t = dev.tensor(values, [n, n]);
    const jobs = dev.cpu!.jobs.get('mapChunk') ?? 0;
    copyInto(t, t.mT);
    expect(dev.cpu!.jobs.get('mapChunk')).toBeGreaterThan(jobs);
    const want = Float32Array.from({ length: n * n }, (_, i) => values[(i % n) * n + Math.floor(i / n)]!);
    expect(await t.read()).toEqual(want);
  });
});
