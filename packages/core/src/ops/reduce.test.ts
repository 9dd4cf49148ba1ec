import { describe, expect, it } from 'vitest';
import { expectClose, getDevices, onGpu, randomData } from '../../test/device.js';
import { argmax, argmin, logSoftmax, logsumexp, max, mean, min, softmax, sum } from '../index.js';

const { dev, cpu } = await getDevices();

/** float64 reduction over one axis of a row-major array */
function reduceRef(data: Float32Array, shape: number[], axis: number, f: (xs: number[]) => number): number[] {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const len = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const xs: number[] = [];
      for (let k = 0; k < len; k++) xs.push(data[(o * len + k) * inner + i]!);
      out.push(f(xs));
    }
  }
  return out;
}
const lse = (xs: number[]) => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};

describe('reductions over any axis', () => {
  const shape = [3, 5, 7];
  const data = randomData(105, 11, 3);
  for (let axis = 0; axis < 3; axis++) {
    it(`sum/mean/max/min/logsumexp/argmax over axis ${axis}`, async () => {
      const x = dev.tensor(data, shape);
      expectClose(
        await sum(x, axis).read(),
        reduceRef(data, shape, axis, (xs) => xs.reduce((a, b) => a + b)),
        1e-5,
        1e-6,
        'sum',
      );
      expectClose(
        await mean(x, axis).read(),
        reduceRef(data, shape, axis, (xs) => xs.reduce((a, b) => a + b) / xs.length),
        1e-6,
        1e-6,
        'mean',
      );
      expectClose(
        await max(x, axis).read(),
        reduceRef(data, shape, axis, (xs) => Math.max(...xs)),
        0,
        0,
        'max',
      );
      expectClose(
        await min(x, axis).read(),
        reduceRef(data, shape, axis, (xs) => Math.min(...xs)),
        0,
        0,
        'min',
      );
      expectClose(
        await logsumexp(x, axis).read(),
        reduceRef(data, shape, axis, lse),
        1e-5,
        1e-6,
        'logsumexp',
      );
      const am = reduceRef(data, shape, axis, (xs) => xs.indexOf(Math.max(...xs)));
      expect(Array.from(await argmax(x, axis).read())).toEqual(am);
      const an = reduceRef(data, shape, axis, (xs) => xs.indexOf(Math.min(...xs)));
      expect(Array.from(await argmin(x, axis).read())).toEqual(an);
    });
  }

  it('reduces several axes, all axes, and keeps dims on request', async () => {
    const x = dev.tensor(data, shape);
    const s = sum(x, [0, 2], { keepdim: true });
    expect(s.shape).toEqual([1, 5, 1]);
    const ref = reduceRef(
      Float32Array.from(reduceRef(data, shape, 0, (xs) => xs.reduce((a, b) => a + b))),
      [5, 7],
      1,
      (xs) => xs.reduce((a, b) => a + b),
    );
    expectClose(await s.read(), ref, 1e-5, 1e-6, 'sum [0,2]');
    const total = data.reduce((a, b) => a + b, 0);
    expectClose(await sum(x).read(), [total], 1e-4, 1e-6, 'sum all');
    expect(Array.from(await argmax(x).read())).toEqual([data.indexOf(Math.max(...data))]);
  });

  it('reduces strided views (transposed) the same as their copies', async () => {
    const x = dev.tensor(data, shape).permute([2, 0, 1]);
    const ref = await sum(x.contiguous(), 1).read();
    expectClose(await sum(x, 1).read(), ref, 1e-6, 1e-6, 'sum of permuted view');
  });

  it('CPU sums are the f64 sums in order, bit for bit (four outputs at a time, and the rest)', async () => {
    // reference/reduce.ts sums four outputs at once: each must still add its values in order, in f64,
    // rounded once to f32. [300, 70] over rows (70 = 4·17 + 2), a permuted view, and rows of 7
    const big = randomData(300 * 70, 17, 5);
    const ordered = (n: number, len: number, at: (o: number, k: number) => number) =>
      Float32Array.from({ length: n }, (_, o) => {
        let s = 0;
        for (let k = 0; k < len; k++) s += big[at(o, k)]!;
        return s;
      });
    expect(await sum(cpu.tensor(big, [300, 70]), 0).read()).toEqual(ordered(70, 300, (c, r) => r * 70 + c));
    const view = cpu.tensor(big, [10, 30, 70]).permute([1, 2, 0]); // [30, 70, 10]: sum over 30 (stride 70)
    const wantView = ordered(700, 30, (o, r) => ((o % 10) * 30 + r) * 70 + Math.floor(o / 10));
    expect(await sum(view, 0).read()).toEqual(wantView);
    expect(await sum(cpu.tensor(big, [3000, 7]), 1).read()).toEqual(ordered(3000, 7, (o, k) => o * 7 + k));
  });

  it('long rows take the two-pass path and stay accurate', async () => {
    const n = 50_000;
    const big = randomData(n, 4);
    const x = dev.tensor(big, [2, n / 2]);
    const ref = reduceRef(big, [2, n / 2], 1, (xs) => xs.reduce((a, b) => a + b));
    expectClose(await sum(x, 1).read(), ref, 2e-3, 1e-5, 'long sum');
    expectClose(await logsumexp(x, 1).read(), reduceRef(big, [2, n / 2], 1, lse), 1e-5, 1e-6, 'long lse');
    expectClose(
      await max(x, 1).read(),
      reduceRef(big, [2, n / 2], 1, (xs) => Math.max(...xs)),
      0,
      0,
      'long max',
    );
  });

  it('logsumexp of a row of -inf is -inf; NaN propagates through max', async () => {
    const x = dev.tensor(
      new Float32Array([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, Number.NaN]),
      [2, 2],
    );
    const l = await logsumexp(x, 1).read();
    expect(l[0]).toBe(Number.NEGATIVE_INFINITY);
    expect(Number.isNaN((await max(x, 1).read())[1]!)).toBe(true);
  });

  it('sums integers and bools to i32', async () => {
    const x = dev.tensor(new Int32Array([1, -2, 3, 4]), [2, 2]);
    const s = sum(x, 1);
    expect(s.dtype).toBe('i32');
    expect(Array.from(await s.read())).toEqual([-1, 7]);
    expect(
      Array.from(
        await sum(
          dev.tensor([
            [true, false],
            [true, true],
          ]),
          1,
        ).read(),
      ),
    ).toEqual([1, 2]);
  });

  it('names the axis in errors', () => {
    const x = dev.tensor(data, shape);
    expect(() => sum(x, 3)).toThrowError(/sum: axis 3 is out of range for a tensor of rank 3/);
  });
});

describe('softmax and logSoftmax', () => {
  const shape = [4, 6, 9];
  const data = randomData(216, 21, 5);
  for (const axis of [0, 1, 2]) {
    it(`softmax over axis ${axis} matches float64`, async () => {
      const x = dev.tensor(data, shape);
      const probs = await softmax(x, axis).read();
      const logp = await logSoftmax(x, axis).read();
      // reference in float64, laid out like the output
      const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
      const len = shape[axis]!;
      const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const refP = new Float64Array(216);
      const refL = new Float64Array(216);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const idx = (k: number) => (o * len + k) * inner + i;
          const xs = Array.from({ length: len }, (_, k) => data[idx(k)]!);
          const l = lse(xs);
          xs.forEach((v, k) => {
            refP[idx(k)] = Math.exp(v - l);
            refL[idx(k)] = v - l;
          });
        }
      }
      expectClose(probs, refP, 1e-6, 1e-5, 'softmax');
      expectClose(logp, refL, 1e-5, 1e-6, 'logSoftmax');
    });
  }

  it('stays exact for large logits', async () => {
    const x = dev.tensor(new Float32Array([1000, 999, -1000, 0]), [4]);
    expectClose(
      await softmax(x).read(),
      [1 / (1 + Math.exp(-1)), Math.exp(-1) / (1 + Math.exp(-1)), 0, 0],
      1e-7,
      1e-6,
      'softmax',
    );
  });

  if (onGpu) {
    it('GPU equals CPU on a permuted view', async () => {
      const g = await softmax(dev.tensor(data, shape).permute([2, 0, 1]), 1).read();
      const c = await softmax(cpu.tensor(data, shape).permute([2, 0, 1]), 1).read();
      expectClose(g, c, 1e-7, 1e-6, 'softmax view');
    });
  }
});
