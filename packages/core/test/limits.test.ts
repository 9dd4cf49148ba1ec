/**
 * Work beyond the device's limits is split, never refused: buffers larger than one storage binding are
 * bound as several segments, and more than maxComputeWorkgroupsPerDimension workgroups become a 2-D
 * grid and then several dispatches. A device created with tiny limits exercises both with small data;
 * one test crosses the real 65535-workgroup limit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  add,
  attention,
  attentionBackward,
  concat,
  createDevice,
  type Device,
  embedding,
  layerNorm,
  logsumexp,
  matmul,
  mul,
  rand,
  softmax,
  sum,
} from '../src/index.js';
import { expectClose, getDevices, onGpu, randomData } from './device.js';

if (onGpu) {
  describe('splitting work on a device with tiny limits (gpu)', () => {
    let small: Device;
    let cpu: Device;
    beforeAll(async () => {
      ({ cpu } = await getDevices());
      small = await createDevice({
        backend: 'webgpu',
        limits: { maxStorageBufferBindingSize: 16 * 1024, maxComputeWorkgroupsPerDimension: 8 },
      });
    });

    const shape = [40, 300]; // 48 KB: 3 segments of 16 KB; 12000 elements = 188 workgroups > 8 x 8
    const data = randomData(12_000, 3);
    const other = randomData(12_000, 4);

    it('elementwise ops, contiguous and strided, across segments', async () => {
      const a = small.tensor(data, shape);
      const b = small.tensor(other, shape);
      const ref = await add(cpu.tensor(data, shape), cpu.tensor(other, shape).mT.mT).read();
      expectClose(await add(a, b).read(), ref, 0, 0, 'add');
      const refT = await mul(cpu.tensor(data, shape).mT, 2).read();
      expectClose(await mul(a.mT, 2).read(), refT, 0, 0, 'mul of transposed view');
    });

    it('reductions, softmax and layerNorm across segments', async () => {
      const a = small.tensor(data, shape);
      const c = cpu.tensor(data, shape);
      expectClose(await sum(a, 0).read(), await sum(c, 0).read(), 1e-5, 1e-5, 'sum axis 0');
      expectClose(await logsumexp(a, 1).read(), await logsumexp(c, 1).read(), 1e-5, 1e-6, 'lse');
      expectClose(await softmax(a, 0).read(), await softmax(c, 0).read(), 1e-7, 1e-5, 'softmax axis 0');
      expectClose(
        await layerNorm(a, [300]).read(),
        await layerNorm(c, [300]).read(),
        1e-5,
        1e-5,
        'layerNorm',
      );
    });

    it('matmul, embedding, concat and random across segments', async () => {
      const a = small.tensor(data, shape);
      const c = cpu.tensor(data, shape);
      expectClose(await matmul(a, a.mT).read(), await matmul(c, c.mT).read(), 1e-4, 1e-5, 'matmul');
      const ids = new Int32Array([39, 0, 17, 39]);
      expectClose(
        await embedding(a, small.tensor(ids, [4])).read(),
        await embedding(c, cpu.tensor(ids, [4])).read(),
        0,
        0,
        'embedding',
      );
      expectClose(await concat([a, a], 1).read(), await concat([c, c], 1).read(), 0, 0, 'concat');
      expect(await rand(small, [12_000], { seed: 3 }).read()).toEqual(
        await rand(cpu, [12_000], { seed: 3 }).read(),
      );
    });

    it('refuses clearly when even segments cannot fit the binding count', () => {
      const big = small.zeros([200_000]); // 800 KB = 49 segments
      expect(() => add(big, big)).toThrowError(/storage bindings/);
    });
  });

  describe("the tiled attention kernels in WebGPU's minimum 16 KiB of workgroup memory (gpu)", () => {
    let minimal: Device;
    let cpu: Device;
    beforeAll(async () => {
      ({ cpu } = await getDevices());
      minimal = await createDevice({ backend: 'webgpu', limits: { maxComputeWorkgroupStorageSize: 16384 } });
    });

    // D 64: 31 keys and 31 queries a tile (40 rows: two tiles); D 256: 7 keys, 7 queries
    for (const [D, N] of [
      [64, 40],
      [256, 9],
    ] as const) {
      it(`forward and backward at D ${D}, N ${N}, causal, against the CPU`, async () => {
        expect(minimal.gpu!.maxWorkgroupStorageBytes).toBe(16384);
        const shape = [1, 2, N, D];
        const data = [1, 2, 3, 4].map((seed) => randomData(2 * N * D, seed));
        const run = async (device: Device) => {
          const [q, k, v, dout] = data.map((x) => device.tensor(x, shape));
          const opts = { causal: true, kernel: 'tiled' as const };
          const { out, lse } = attention.detailed(q!, k!, v!, opts);
          const g = attentionBackward(q!, k!, v!, out, lse, dout!, opts);
          return [await out.read(), await g.dq.read(), await g.dk.read(), await g.dv.read()];
        };
        const [got, ref] = [await run(minimal), await run(cpu)];
        for (const [n, x] of got.entries())
          expectClose(x, ref[n]!, 2e-5, 1e-4, ['out', 'dq', 'dk', 'dv'][n]!);
      });
    }
  });

  describe('beyond 65535 workgroups on the real device (gpu)', () => {
    it('an elementwise op over 65536 * 64 + 5 elements', async () => {
      const { dev } = await getDevices();
      const n = 65536 * 64 + 5;
      const x = rand(dev, [n], { seed: 9 });
      const y = add(x, 1);
      const got = await y.read();
      const src = await x.read();
      for (const i of [0, 1, 4194303, 4194304, n - 1]) expect(got[i]).toBe(Math.fround(src[i]! + 1));
      x.dispose();
      y.dispose();
    });
  });
}

describe('limits are checked on the CPU too', () => {
  it('a tensor beyond 8 non-coalescable dims is refused with its shape', async () => {
    const { dev } = await getDevices();
    const t = dev.zeros([2, 2, 2, 2, 2, 2, 2, 2, 2, 2]).permute([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(() => add(t, 1)).toThrowError(/needs rank 10 > 8/);
  });
});
