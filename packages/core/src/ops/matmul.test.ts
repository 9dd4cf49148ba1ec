/**
 * matmul against a float64 reference with torch.matmul semantics (1-D promotion, batch broadcasting),
 * through views (`.mT`, slices with offsets) and on both WebGPU kernels: the quad kernel (aligned
 * layouts, any M and N) and the strided one (everything else). In the gpu project every case is also
 * compared with the CPU backend.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { broadcastIndex } from '../../test/broadcast.js';
import { expectClose, getDevices, onGpu, randomData } from '../../test/device.js';
import { setMatmulKernel } from '../backend/webgpu/heuristics.js';
import { matmulPath } from '../backend/webgpu/kernels/matmul.js';
import type { Device } from '../device.js';
import type { Tensor } from '../tensor.js';
import { matmul } from './matmul.js';

const { dev, cpu } = await getDevices();
afterEach(() => setMatmulKernel(null));

const ATOL = 1e-4;

/** torch.matmul in float64 over row-major host arrays; returns the values and the result's shape. */
function reference(
  a: ArrayLike<number>,
  aShape: readonly number[],
  b: ArrayLike<number>,
  bShape: readonly number[],
): { values: Float64Array; shape: number[] } {
  const as = aShape.length === 1 ? [1, aShape[0]!] : [...aShape];
  const bs = bShape.length === 1 ? [bShape[0]!, 1] : [...bShape];
  const [M, K] = as.slice(-2) as [number, number];
  const N = bs[bs.length - 1]!;
  const ab = as.slice(0, -2);
  const bb = bs.slice(0, -2);
  const rank = Math.max(ab.length, bb.length);
  const pad = (s: number[]) => [...new Array(rank - s.length).fill(1), ...s];
  const pa = pad(ab);
  const pb = pad(bb);
  const batch = pa.map((d, i) => {
    const e = pb[i]!;
    if (d !== e && d !== 1 && e !== 1) throw new Error(`reference: batch dims ${ab} vs ${bb}`);
    return Math.max(d, e);
  });
  const count = batch.reduce((p, d) => p * d, 1);
  const values = new Float64Array(count * M * N);
  for (let t = 0; t < count; t++) {
    const ia = broadcastIndex(t, batch, pa);
    const ib = broadcastIndex(t, batch, pb);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[(ia * M + i) * K + k]! * b[(ib * K + k) * N + j]!;
        values[(t * M + i) * N + j] = s;
      }
    }
  }
  const shape = [...batch, ...(aShape.length === 1 ? [] : [M]), ...(bShape.length === 1 ? [] : [N])];
  return { values, shape };
}

/** Host transpose of the last two dims of a row-major array. */
function transposeHost(x: Float32Array, shape: readonly number[]): Float32Array {
  const [r, c] = shape.slice(-2) as [number, number];
  const out = new Float32Array(x.length);
  for (let base = 0; base < x.length; base += r * c) {
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[base + j * r + i] = x[base + i * c + j]!;
  }
  return out;
}

interface Operand {
  /** logical values, row-major */
  values: Float32Array;
  shape: number[];
  /** builds the tensor (possibly a view) on a device */
  make: (d: Device) => Tensor;
}

function plain(shape: number[], seed: number): Operand {
  const values = randomData(
    shape.reduce((p, d) => p * d, 1),
    seed,
  );
  return { values, shape, make: (d) => d.tensor(values, shape) };
}

/** `.mT` of a row-major tensor stored with the last two dims swapped. */
function transposedView(shape: number[], seed: number): Operand {
  const stored = [...shape.slice(0, -2), shape[shape.length - 1]!, shape[shape.length - 2]!];
  const data = randomData(
    stored.reduce((p, d) => p * d, 1),
    seed,
  );
  return { values: transposeHost(data, stored), shape, make: (d) => d.tensor(data, stored).mT };
}

/** Rows [start, start + rows) of a wider [total, cols] matrix: a view with an offset. */
function rowSlice(rows: number, cols: number, start: number, total: number, seed: number): Operand {
  const data = randomData(total * cols, seed);
  const values = data.slice(start * cols, (start + rows) * cols);
  return {
    values,
    shape: [rows, cols],
    make: (d) => d.tensor(data, [total, cols]).slice(0, start, start + rows),
  };
}

/** Columns [start, start + cols) of a [rows, total] matrix: row stride != cols, an offset. */
function colSlice(rows: number, cols: number, start: number, total: number, seed: number): Operand {
  const data = randomData(rows * total, seed);
  const values = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) values[i * cols + j] = data[i * total + start + j]!;
  return {
    values,
    shape: [rows, cols],
    make: (d) => d.tensor(data, [rows, total]).slice(1, start, start + cols),
  };
}

async function check(a: Operand, b: Operand, path?: ReturnType<typeof matmulPath>): Promise<void> {
  const what = `[${a.shape}] @ [${b.shape}]`;
  const ref = reference(a.values, a.shape, b.values, b.shape);
  const ta = a.make(dev);
  const tb = b.make(dev);
  if (onGpu && path) expect(matmulPath(ta, tb), what).toBe(path);
  const out = matmul(ta, tb);
  expect(out.shape, what).toEqual(ref.shape);
  const got = await out.read();
  expectClose(got, ref.values, ATOL, 0, what);
  if (onGpu) {
    const ca = a.make(cpu);
    const cb = b.make(cpu);
    const cOut = matmul(ca, cb);
    expectClose(got, await cOut.read(), ATOL, 0, `${what} vs the CPU backend`);
    for (const t of [ca, cb, cOut]) t.dispose();
  }
  for (const t of [ta, tb, out]) t.dispose();
}

describe('matmul: generic layouts (strided kernel)', () => {
  it('odd sizes 13x7x33', async () => {
    await check(plain([13, 33], 1), plain([33, 7], 2), 'strided');
  });
  it('K = 1 (outer product)', async () => {
    await check(plain([5, 1], 3), plain([1, 6], 4), 'strided');
    await check(plain([20, 1], 3), plain([1, 24], 4), 'strided');
  });
  it('M = 1 and N = 1', async () => {
    await check(plain([1, 40], 5), plain([40, 24], 6), 'strided');
    await check(plain([24, 40], 7), plain([40, 1], 8), 'strided');
  });
  it('1-D operands: vector @ matrix, matrix @ vector, dot product', async () => {
    await check(plain([40], 9), plain([40, 24], 10));
    await check(plain([3, 24, 40], 11), plain([40], 12));
    await check(plain([17], 13), plain([17], 14));
  });
  it('batch broadcasting', async () => {
    await check(plain([2, 1, 9, 12], 15), plain([3, 12, 10], 16), 'strided');
    await check(plain([9, 12], 17), plain([4, 12, 10], 18), 'strided');
  });
  it('.mT views on either side', async () => {
    await check(transposedView([13, 33], 19), plain([33, 7], 20), 'strided');
    await check(plain([13, 33], 21), transposedView([33, 7], 22), 'strided');
    await check(transposedView([2, 13, 33], 23), transposedView([2, 33, 7], 24), 'strided');
  });
  it('slice views with offsets', async () => {
    await check(rowSlice(13, 33, 5, 30, 25), plain([33, 7], 26), 'strided');
    await check(colSlice(13, 33, 3, 41, 27), colSlice(33, 7, 2, 12, 28), 'strided');
  });
  it('129x65x257: odd K keeps the strided kernel', async () => {
    await check(plain([129, 257], 29), plain([257, 65], 30), 'strided');
  });
  it('K = 0 gives zeros', async () => {
    const out = matmul(dev.zeros([3, 0]), dev.zeros([0, 4]));
    expect(Array.from(await out.read())).toEqual(new Array(12).fill(0));
  });
});

describe('matmul: aligned layouts (quad kernel on WebGPU)', () => {
  it('64x128x96 with B row-major and B = x.mT', async () => {
    await check(plain([64, 96], 31), plain([96, 128], 32), 'quad');
    await check(plain([64, 96], 33), transposedView([96, 128], 34), 'quad-bt');
  });
  it('edges: 129x68x260 and 17x20x4 (M and N not multiples of the tile)', async () => {
    await check(plain([129, 260], 35), plain([260, 68], 36), 'quad');
    await check(plain([129, 260], 37), transposedView([260, 65], 38), 'quad-bt');
    await check(plain([17, 4], 39), plain([4, 20], 40), 'quad');
  });
  it('batched, with broadcasting and a row slice with an offset', async () => {
    await check(plain([2, 3, 40, 16], 41), plain([16, 36], 42), 'quad');
    await check(plain([3, 40, 16], 43), transposedView([2, 1, 16, 36], 44), 'quad-bt');
    await check(rowSlice(33, 24, 4, 40, 45), plain([24, 20], 46), 'quad');
  });
  it('A = x.mT (not contiguous along K) falls back to the strided kernel', async () => {
    await check(transposedView([64, 96], 47), plain([96, 128], 48), 'strided');
  });
  // tile shapes and the subgroup switch exist only on the WebGPU path
  if (onGpu) {
    it('another tile shape and the variant without subgroups give the same results', async () => {
      setMatmulKernel({ tile: { sr: 4, sc: 8, qm: 2, qn: 2 } });
      await check(plain([2, 37, 24], 49), plain([24, 44], 50), 'quad');
      await check(plain([37, 24], 51), transposedView([2, 24, 45], 52), 'quad-bt');
      setMatmulKernel({ tile: { sr: 4, sc: 8, qm: 2, qn: 2 }, subgroups: false });
      await check(plain([2, 37, 24], 53), plain([24, 44], 54), 'quad');
      await check(plain([37, 24], 55), transposedView([2, 24, 45], 56), 'quad-bt');
    });
  }
});

describe('matmul: errors', () => {
  it('names the shapes when the inner dims differ', () => {
    expect(() => matmul(dev.zeros([3, 4]), dev.zeros([5, 2]))).toThrowError(/inner dims differ \(4 vs 5\)/);
  });
  it('refuses scalars and non-f32 operands', () => {
    expect(() => matmul(dev.zeros([]), dev.zeros([2]))).toThrowError(/at least 1-D/);
    expect(() => matmul(dev.zeros([2, 2], 'i32'), dev.zeros([2, 2]))).toThrowError(/expected f32/);
  });
});
