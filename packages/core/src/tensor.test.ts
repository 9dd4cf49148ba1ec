import { describe, expect, it } from 'vitest';
import { getDevices, onGpu, randomData } from '../test/device.js';
import { add, keep, MultiheadError, mul, type Tensor, tidy } from './index.js';

const { dev } = await getDevices();

describe('tensors', () => {
  it('round-trips every dtype', async () => {
    expect(Array.from(await dev.tensor(new Float32Array([1.5, -2]), [2]).read())).toEqual([1.5, -2]);
    expect(Array.from(await dev.tensor(new Int32Array([-7, 9]), [2]).read())).toEqual([-7, 9]);
    expect(Array.from(await dev.tensor(new Uint32Array([4e9, 1]), [2]).read())).toEqual([4e9, 1]);
    const b = dev.tensor([true, false, true]);
    expect(b.dtype).toBe('bool');
    expect(await b.read()).toEqual(new Uint8Array([1, 0, 1]));
    expect(
      await dev
        .tensor([
          [1, 2],
          [3, 4],
        ])
        .toArray(),
    ).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('views share storage: reshape, permute, slice, expand, squeeze', async () => {
    const data = randomData(24, 2);
    const t = dev.tensor(data, [2, 3, 4]);
    const before = dev.memory().liveBytes;
    const p = t.permute([2, 0, 1]);
    const s = t.slice(2, 1, 4, 2);
    const e = t.slice(0, 0, 1).expand([5, 3, 4]);
    const r = t.reshape([6, -1]);
    expect(dev.memory().liveBytes).toBe(before); // no copies
    expect(p.shape).toEqual([4, 2, 3]);
    expect(s.shape).toEqual([2, 3, 2]);
    expect(r.shape).toEqual([6, 4]);
    const pv = await p.read();
    expect(pv[1 * 6 + 1 * 3 + 2]).toBe(data[1 * 12 + 2 * 4 + 1]); // p[1,1,2] = t[1,2,1]
    const sv = await s.read();
    expect(sv[1 * 6 + 2 * 2 + 1]).toBe(data[1 * 12 + 2 * 4 + 3]); // s[1,2,1] = t[1,2,3]
    expect((await e.read())[4 * 12 + 5]).toBe(data[5]);
    expect(t.unsqueeze(1).shape).toEqual([2, 1, 3, 4]);
    expect(t.unsqueeze(1).squeeze(1).shape).toEqual([2, 3, 4]);
    // reshape of a non-contiguous view copies
    expect(Array.from(await p.reshape([24]).read())).toEqual(Array.from(pv));
  });

  it('names shapes in view errors', () => {
    const t = dev.tensor(randomData(6), [2, 3]);
    expect(() => t.reshape([4, 2])).toThrowError(/reshape: cannot view \[2, 3\] \(6 elements\) as \[4, 2\]/);
    expect(() => t.expand([3, 3])).toThrowError(/expand: \[2, 3\] does not broadcast to \[3, 3\]/);
    expect(() => t.permute([0, 0])).toThrowError(/not a permutation/);
    expect(() => dev.tensor([1, 2, 3], [2, 2])).toThrowError(/3 values do not fill shape \[2, 2\]/);
  });

  it('using a disposed tensor throws a clear error', async () => {
    const t = dev.tensor(randomData(4), [4]);
    t.dispose();
    expect(() => add(t, t)).toThrowError(MultiheadError);
    expect(() => add(t, t)).toThrowError(/used after dispose\(\)/);
    await expect(t.read()).rejects.toThrowError(/used after dispose/);
    t.dispose(); // idempotent
  });

  it('Symbol.dispose frees the tensor (for `using`)', () => {
    const before = dev.memory().liveTensors;
    {
      const t = dev.tensor(randomData(4), [4]);
      t[Symbol.dispose]();
    }
    expect(dev.memory().liveTensors).toBe(before);
  });

  it('tidy disposes intermediates, keeps results and kept tensors, and cleans up on throw', () => {
    const a = dev.tensor(randomData(8), [8]);
    const before = dev.memory().liveTensors;
    let kept: Tensor | null = null;
    const out = tidy(() => {
      const b = mul(a, 2);
      kept = keep(add(b, 1));
      return { sum: add(b, b), list: [mul(b, b)] };
    });
    expect(dev.memory().liveTensors).toBe(before + 3);
    expect(out.sum.disposed).toBe(false);
    expect(kept!.disposed).toBe(false);
    expect(() =>
      tidy(() => {
        mul(a, 3);
        throw new Error('boom');
      }),
    ).toThrowError('boom');
    expect(dev.memory().liveTensors).toBe(before + 3);
    for (const t of [out.sum, out.list[0]!, kept!]) t.dispose();
    expect(dev.memory().liveTensors).toBe(before);
  });

  it('memory() counts live tensors and bytes; the GPU pool reuses freed buffers', async () => {
    const m0 = dev.memory();
    const t = dev.zeros([1000]);
    expect(dev.memory().liveBytes - m0.liveBytes).toBe(4000);
    t.dispose();
    expect(dev.memory().liveBytes).toBe(m0.liveBytes);
    if (onGpu) {
      const allocated = dev.memory().gpuAllocatedBytes;
      for (let i = 0; i < 20; i++) dev.zeros([1000]).dispose();
      expect(dev.memory().gpuAllocatedBytes).toBe(allocated); // served from the pool
    }
  });
});
