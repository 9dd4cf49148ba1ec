import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { broadcastIndex } from '../../test/broadcast.js';
import { expectClose, getDevices, onGpu, randomData } from '../../test/device.js';
import { BINARY, binary, cast, copyInto, MultiheadError, UNARY, unary, where } from '../index.js';

const { dev, cpu } = await getDevices();

/** float64 twins for checking the CPU reference itself */
const F64_UNARY: Record<string, (x: number) => number> = {
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => Math.max(x, 0),
  neg: (x) => -x,
  abs: Math.abs,
};

describe('unary ops', () => {
  const data = randomData(257, 3, 4); // odd size
  for (const name of Object.keys(UNARY) as (keyof typeof UNARY)[]) {
    it(`${name} matches the reference`, async () => {
      const input = ['log', 'sqrt', 'rsqrt'].includes(name) ? data.map(Math.abs) : data;
      const x = dev.tensor(input, [257]);
      const y = unary(name, x);
      const got = await y.read();
      if (onGpu) {
        const ref = await unary(name, cpu.tensor(input, [257])).read();
        // f32 transcendental functions on the GPU: a few ulp
        expectClose(got, ref, 2e-6, 2e-6, name);
      } else if (F64_UNARY[name]) {
        expectClose(got, Array.from(input, F64_UNARY[name]!), 1e-6, 1e-6, name);
      }
      x.dispose();
      y.dispose();
    });
  }

  it('keeps IEEE special values: tanh(±100) = ±1, relu(NaN) = NaN, exp(-inf) = 0', async () => {
    const x = dev.tensor(new Float32Array([100, -100, Number.NaN, Number.NEGATIVE_INFINITY]), [4]);
    expect(Array.from(await unary('tanh', x).read()).slice(0, 2)).toEqual([1, -1]);
    expect(Number.isNaN((await unary('relu', x).read())[2]!)).toBe(true);
    expect((await unary('exp', x).read())[3]).toBe(0);
  });

  it('refuses integer input to float ops with a hint', () => {
    const x = dev.tensor(new Int32Array([1, 2]), [2]);
    expect(() => unary('exp', x)).toThrowError(/exp: x has dtype i32; expected a float tensor/);
  });
});

describe('binary ops with broadcasting', () => {
  const shapes: [number[], number[]][] = [
    [
      [3, 5],
      [3, 5],
    ],
    [
      [3, 1, 5],
      [4, 1],
    ],
    [[7], [2, 3, 7]],
    [[2, 3, 4], []],
  ];
  for (const name of Object.keys(BINARY) as (keyof typeof BINARY)[]) {
    it(`${name} broadcasts like NumPy`, async () => {
      for (const [sa, sb] of shapes) {
        const na = sa.reduce((p, d) => p * d, 1);
        const nb = sb.reduce((p, d) => p * d, 1);
        const da = randomData(na, 5, 2).map((v) => (name === 'pow' ? Math.abs(v) + 0.1 : v));
        const db = randomData(nb, 6, 2).map((v) => (name === 'div' ? v + Math.sign(v) : v));
        const out = binary(name, dev.tensor(da, sa), dev.tensor(db, sb));
        const got = Array.from(await out.read());
        // expected in float64 by explicit index arithmetic
        const expected = got.map((_, i) =>
          BINARY[name].cpu(da[broadcastIndex(i, out.shape, sa)]!, db[broadcastIndex(i, out.shape, sb)]!),
        );
        expectClose(got, expected, 1e-5, 1e-5, `${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`);
      }
    });
  }

  it('names both shapes when they do not broadcast', () => {
    const a = dev.tensor(randomData(6), [2, 3]);
    const b = dev.tensor(randomData(8), [2, 4]);
    expect(() => binary('add', a, b)).toThrowError(/add: shapes do not broadcast: a \[2, 3\], b \[2, 4\]/);
  });

  it('refuses mixed dtypes and mixed devices', async () => {
    const a = dev.tensor(randomData(2), [2]);
    const b = dev.tensor(new Int32Array([1, 2]), [2]);
    expect(() => binary('mul', a, b)).toThrowError(MultiheadError);
    if (onGpu) {
      const c = cpu.tensor(randomData(2), [2]);
      expect(() => binary('add', a, c)).toThrowError(/add: b is on cpu/);
    }
  });

  it('reads strided views (transpose, slice with step, expand) without copies', async () => {
    const base = dev.tensor(randomData(24, 9), [4, 6]);
    const t = base.mT.slice(0, 1, 6, 2); // [3 (rows 1,3,5 of the transpose), 4]
    const out = binary('add', t, t);
    const host = randomData(24, 9);
    const expected: number[] = [];
    for (const r of [1, 3, 5]) for (let c = 0; c < 4; c++) expected.push(2 * host[c * 6 + r]!);
    expectClose(await out.read(), expected, 0, 0, 'strided add');
  });
});

describe('where, cast, copyInto', () => {
  it('where selects with a broadcast bool mask', async () => {
    const cond = dev.tensor([[true], [false]]);
    const out = where(cond, dev.tensor(new Float32Array([1, 2, 3]), [3]), -1);
    expect(Array.from(await out.read())).toEqual([1, 2, 3, -1, -1, -1]);
  });

  it('casts truncate toward zero and saturate', async () => {
    const x = dev.tensor(new Float32Array([-1.7, 2.9, 0, 3e10]), [4]);
    expect(Array.from(await cast(x, 'i32').read())).toEqual([-1, 2, 0, 2147483520]);
    expect(Array.from(await cast(x, 'bool').read())).toEqual([1, 1, 0, 1]);
    const b = dev.tensor([true, false]);
    expect(Array.from(await cast(b, 'f32').read())).toEqual([1, 0]);
  });

  it('copyInto writes into a strided slice', async () => {
    const dst = dev.zeros([3, 4]);
    copyInto(dst.slice(1, 1, 3), dev.tensor(new Float32Array([1, 2]), [2]));
    expect(Array.from(await dst.read())).toEqual([0, 1, 2, 0, 0, 1, 2, 0, 0, 1, 2, 0]);
  });
});

// CPU-vs-GPU parity only means something where the device under test is not the CPU reference
if (onGpu)
  describe('property: GPU equals CPU on random shapes', () => {
    it('add/mul/maximum on random broadcastable shapes', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }),
          fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
          fc.constantFrom('add', 'mul', 'maximum' as const),
          async (shape, ones, op) => {
            const other = shape.map((d, i) => (ones[i] ? 1 : d));
            const da = randomData(
              shape.reduce((p, d) => p * d, 1),
              shape.length,
            );
            const db = randomData(
              other.reduce((p, d) => p * d, 1),
              7,
            );
            const g = await binary(op, dev.tensor(da, shape), dev.tensor(db, other)).read();
            const c = await binary(op, cpu.tensor(da, shape), cpu.tensor(db, other)).read();
            expectClose(g, c, 0, 0, op);
          },
        ),
        { numRuns: 25, seed: 42 },
      );
    });
  });
