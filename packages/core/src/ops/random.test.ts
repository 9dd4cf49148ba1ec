import { describe, expect, it } from 'vitest';
import { getDevices, onGpu } from '../../test/device.js';
import { arange, dropoutMask, rand, randn } from '../index.js';

const { dev, cpu } = await getDevices();

describe('seeded random tensors', () => {
  it('the same seed gives the same values; another seed or offset gives others', async () => {
    const a = await rand(dev, [1000], { seed: 7 }).read();
    expect(await rand(dev, [1000], { seed: 7 }).read()).toEqual(a);
    expect(await rand(dev, [1000], { seed: 8 }).read()).not.toEqual(a);
    const shifted = await rand(dev, [10], { seed: 7, offset: 5 }).read();
    expect(Array.from(shifted.subarray(0, 5))).toEqual(Array.from(a.subarray(5, 10)));
  });

  it('uniform moments and range; normal moments', async () => {
    const u = (await rand(dev, [100_000], { seed: 1, low: -2, high: 2 }).read()) as Float32Array;
    const mean = u.reduce((s, x) => s + x, 0) / u.length;
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(2);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    const n = (await randn(dev, [100_000], { seed: 2, mean: 1, std: 3 }).read()) as Float32Array;
    const m = n.reduce((s, x) => s + x, 0) / n.length;
    const v = n.reduce((s, x) => s + (x - m) ** 2, 0) / n.length;
    expect(Math.abs(m - 1)).toBeLessThan(0.05);
    expect(Math.abs(Math.sqrt(v) - 3)).toBeLessThan(0.05);
    expect(n.every(Number.isFinite)).toBe(true);
  });

  if (onGpu) {
    it('GPU and CPU streams agree (uniform bit for bit)', async () => {
      expect(await rand(dev, [4096], { seed: 123 }).read()).toEqual(
        await rand(cpu, [4096], { seed: 123 }).read(),
      );
      const g = await randn(dev, [4096], { seed: 5 }).read();
      const c = await randn(cpu, [4096], { seed: 5 }).read();
      let worst = 0;
      for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i]! - c[i]!));
      expect(worst).toBeLessThan(1e-4); // f32 log/cos on the device
    });
  }

  it('dropoutMask is 1/(1-p) where rand with the same seed and offset is >= p, else 0', async () => {
    for (const [p, seed, offset] of [
      [0.1, 3, 0],
      [0.5, 2 ** 40 + 9, 77],
      [0, 1, 0],
      [1, 1, 0],
    ] as const) {
      const mask = (await dropoutMask(dev, [37, 29], p, { seed, offset }).read()) as Float32Array;
      const u = (await rand(dev, [37, 29], { seed, offset }).read()) as Float32Array;
      const scale = p === 1 ? 0 : Math.fround(1 / (1 - p));
      expect(Array.from(mask)).toEqual(Array.from(u, (x) => (x >= Math.fround(p) ? scale : 0)));
    }
    const big = (await dropoutMask(dev, [100_000], 0.3, { seed: 5 }).read()) as Float32Array;
    const kept = big.filter((x) => x !== 0).length / big.length;
    expect(Math.abs(kept - 0.7)).toBeLessThan(0.01);
    expect(() => dropoutMask(dev, [4], 1.5)).toThrowError(/dropoutMask: p must be in \[0, 1\], got 1.5/);
    expect(() => dropoutMask(dev, [4], 0.5, { seed: 0.5 })).toThrowError(
      /dropoutMask: seed must be a safe integer, got 0.5/,
    );
  });

  if (onGpu) {
    it('dropoutMask: GPU and CPU drop the same elements', async () => {
      expect(await dropoutMask(dev, [5000], 0.2, { seed: 11 }).read()).toEqual(
        await dropoutMask(cpu, [5000], 0.2, { seed: 11 }).read(),
      );
    });
  }

  it('arange like torch.arange', async () => {
    expect(Array.from(await arange(dev, 5).read())).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(await arange(dev, 2, { start: -1, step: 0.5 }).read())).toEqual([
      -1, -0.5, 0, 0.5, 1, 1.5,
    ]);
    expect(arange(dev, 3, { dtype: 'i32' }).dtype).toBe('i32');
  });
});
