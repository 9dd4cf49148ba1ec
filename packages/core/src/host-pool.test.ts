/** The CPU backend's pool of host arrays: reuse by dtype and length, zeros on reuse, a byte cap. */
import { describe, expect, it } from 'vitest';
import { HostPool } from './host-pool.js';
import { add, createDevice, matmul } from './index.js';

describe('HostPool', () => {
  it('hands back an array of the same kind and length, zeroed', () => {
    const pool = new HostPool();
    const a = new Float32Array(8192).fill(3);
    pool.give(a);
    expect(pool.bytes).toBe(32768);
    expect(pool.take('i32', 8192)).toBeNull(); // another kind
    expect(pool.take('f32', 8191)).toBeNull(); // another length
    const b = pool.take('f32', 8192)!;
    expect(b).toBe(a);
    expect(b.every((v) => v === 0)).toBe(true);
    expect(pool.bytes).toBe(0);
    expect(pool.take('f32', 8192)).toBeNull();
    pool.give(a.fill(5));
    expect(pool.take('f32', 8192, false)!.every((v) => v === 5)).toBe(true); // not zeroed when asked
  });

  it('keeps no small arrays, and drops the least recently used sizes past its cap', () => {
    const pool = new HostPool(60_000);
    pool.give(new Float32Array(16)); // 64 bytes: cheap to make, not kept
    expect(pool.bytes).toBe(0);
    const [first, second, third] = [5000, 6000, 7000].map((n) => new Float32Array(n));
    pool.give(first!);
    pool.give(second!);
    pool.give(third!); // 72 KB, past the 60 KB cap: the oldest size goes
    expect(pool.bytes).toBe(52_000);
    expect(pool.take('f32', 5000)).toBeNull();
    expect(pool.take('f32', 7000)).toBe(third);
    pool.clear();
    expect(pool.take('f32', 6000)).toBeNull();
  });

  it("serves a CPU device: a disposed tensor's array comes back as zeros for the next of its size", async () => {
    const dev = await createDevice({ backend: 'cpu', kernels: 'reference' });
    const x = dev.full([64, 128], 7);
    const array = x.storage.array;
    x.dispose();
    const y = dev.zeros([128, 64]);
    expect(y.storage.array).toBe(array);
    expect(Array.from(await y.read()).every((v) => v === 0)).toBe(true);
    const view = y.reshape([8192]);
    y.dispose(); // a view still holds the storage: not pooled yet
    const z = dev.zeros([8192]);
    expect(z.storage.array).not.toBe(array);
    for (const t of [view, z]) t.dispose();
  });

  it('products and element-wise ops land right in a reused array they do not clear first', async () => {
    for (const kernels of ['reference', 'wasm'] as const) {
      const dev = await createDevice({ backend: 'cpu', kernels, threads: 1 });
      const a = dev.tensor(
        Float32Array.from({ length: 64 * 64 }, (_, i) => (i % 7) - 3),
        [64, 64],
      );
      const want = await matmul(a, a.mT).read(); // onto fresh arrays
      const wantSum = await add(a, a).read();
      for (const t of [dev.full([64, 64], Number.NaN), dev.full([64, 64], 1e30)]) t.dispose(); // dirty pool
      const got = matmul(a, a.mT);
      const sum = add(a, a);
      expect(await got.read(), kernels).toEqual(want);
      expect(await sum.read(), kernels).toEqual(wantSum);
      dev.destroy();
    }
  });
});
