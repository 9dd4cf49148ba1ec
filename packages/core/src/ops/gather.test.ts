import { describe, expect, it } from 'vitest';
import { getDevices, onGpu, randomData } from '../../test/device.js';
import { concat, embedding, indexSelect, MultiheadError, pad } from '../index.js';

const { dev } = await getDevices();

describe('indexSelect / embedding', () => {
  const table = randomData(5 * 4, 3);
  it('embedding picks rows for ids of any shape', async () => {
    const w = dev.tensor(table, [5, 4]);
    const ids = dev.tensor(new Int32Array([4, 0, 4, 2]), [2, 2]);
    const out = embedding(w, ids);
    expect(out.shape).toEqual([2, 2, 4]);
    const got = await out.read();
    [4, 0, 4, 2].forEach((id, p) => {
      expect(Array.from(got.subarray(p * 4, p * 4 + 4))).toEqual(
        Array.from(table.subarray(id * 4, id * 4 + 4)),
      );
    });
  });
  it('indexSelect along axis 1 of a strided view', async () => {
    const x = dev.tensor(table, [5, 4]).mT; // [4, 5]
    const out = indexSelect(x, 1, dev.tensor(new Int32Array([1, 1, 3]), [3]));
    const got = await out.read();
    for (let r = 0; r < 4; r++) {
      expect(Array.from(got.subarray(r * 3, r * 3 + 3))).toEqual([1, 1, 3].map((c) => table[c * 4 + r]));
    }
  });
  it('out-of-range ids raise INDEX_OUT_OF_RANGE naming the index', async () => {
    const w = dev.tensor(table, [5, 4]);
    const ids = dev.tensor(new Int32Array([1, 7]), [2]);
    if (onGpu) {
      // a kernel cannot throw: the error arrives with the next read
      const out = embedding(w, ids);
      await expect(out.read()).rejects.toThrowError(
        /embedding: index 7 at position 1 is out of range \[0, 5\)/,
      );
      // and the flag is cleared afterwards
      expect((await embedding(w, dev.tensor(new Int32Array([1]), [1])).read()).length).toBe(4);
    } else {
      expect(() => embedding(w, ids)).toThrowError(
        /embedding: index 7 at position 1 .* out of range \[0, 5\)/,
      );
    }
    const neg = dev.tensor(new Int32Array([-1]), [1]);
    const check = async () => (await embedding(w, neg).read()).length;
    await expect(check()).rejects.toThrowError(MultiheadError);
  });
  it('refuses float indices', () => {
    expect(() => embedding(dev.tensor(table, [5, 4]), dev.tensor(new Float32Array([1]), [1]))).toThrowError(
      /expected i32 or u32/,
    );
  });
});

describe('concat and pad', () => {
  it('concat along axis 0 and 1', async () => {
    const a = dev.tensor([
      [1, 2],
      [3, 4],
    ]);
    const b = dev.tensor([[5, 6]]);
    expect(await concat([a, b], 0).toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(await concat([a, a.mT], 1).toArray()).toEqual([
      [1, 2, 1, 3],
      [3, 4, 2, 4],
    ]);
    expect(() => concat([a, b], 1)).toThrowError(
      /concat: tensors\[1\] \[1, 2\] does not match tensors\[0\] \[2, 2\] outside axis 1/,
    );
  });
  it('pad in F.pad order, with a value, and negative pads crop', async () => {
    const a = dev.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(await pad(a, [1, 0]).toArray()).toEqual([
      [0, 1, 2, 3],
      [0, 4, 5, 6],
    ]);
    expect(await pad(a, [0, 1, 1, 0], 9).toArray()).toEqual([
      [9, 9, 9, 9],
      [1, 2, 3, 9],
      [4, 5, 6, 9],
    ]);
    expect(await pad(a, [-1, 1]).toArray()).toEqual([
      [2, 3, 0],
      [5, 6, 0],
    ]);
  });
});
