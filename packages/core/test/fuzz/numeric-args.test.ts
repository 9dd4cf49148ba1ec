/**
 * Family 1 of the hardening suite: numeric arguments are validated as what they are. Slice bounds,
 * `device.tensor` data and dtypes, `createDevice` limits, seeds and random-op options either work as
 * documented (checked against a plain-JavaScript oracle) or throw a typed error naming the argument.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  add,
  arange,
  createDevice,
  type Device,
  type DType,
  mixSeed,
  models,
  rand,
  seededUniform,
} from '../../src/index.js';
import { getDevices, onGpu } from '../device.js';
import { anyNumber, checkAsyncProperty, checkProperty, typedError, typedErrorAsync } from './property.js';

const FAMILY = 'numeric arguments';
const { dev } = await getDevices();

/** Python/PyTorch slicing of a list: clamped start/end, positive step. */
function sliceOracle(values: number[], start: number, end: number | undefined, step: number): number[] {
  const n = values.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  const out: number[] = [];
  for (let i = clamp(start); i < clamp(end ?? n); i += step) out.push(values[i]!);
  return out;
}

describe('hardening: numeric arguments', () => {
  it('slice takes integer bounds (negative from the end) and refuses NaN, fractions and infinities', async () => {
    const values = Array.from({ length: 7 }, (_, i) => i * 10);
    const t = dev.tensor(Float32Array.from(values), [7]);
    await checkAsyncProperty(
      FAMILY,
      'slice bounds',
      [
        anyNumber,
        fc.option(anyNumber, { nil: undefined }),
        fc.oneof(fc.integer({ min: 1, max: 4 }), anyNumber),
      ],
      async (start, end, step) => {
        const ok = [start, end ?? 0].every(Number.isSafeInteger) && Number.isInteger(step) && step >= 1;
        const error = typedError(() => t.slice(0, start, end, step).dispose(), ['INVALID_ARGUMENT']);
        expect(error === null).toBe(ok);
        if (!ok) return;
        const view = t.slice(0, start, end, step);
        expect(Array.from(await view.read())).toEqual(sliceOracle(values, start, end, step));
        view.dispose();
      },
      onGpu ? 25 : 60,
    );
    t.dispose();
  });

  const leaf = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: -3, max: 3 }) },
    { weight: 2, arbitrary: fc.boolean() },
    { weight: 2, arbitrary: fc.double({ min: -1e3, max: 1e3, noNaN: false }) },
    fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 32, 0.5, Number.NaN, Number.POSITIVE_INFINITY),
    fc.constantFrom<unknown>('1', null, undefined, {}, 1n, [], Symbol.iterator),
  );
  const nested = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('row')),
    row: fc.array(tie('value'), { maxLength: 3 }),
  })).row;
  const dtypes = fc.constantFrom<unknown>(
    undefined,
    'f32',
    'i32',
    'u32',
    'bool',
    'f16',
    'float32',
    'int64',
    3,
    null,
  );

  it('device.tensor: data of any kind gives the oracle values or a typed error, never a TypeError or NaN', async () => {
    await checkAsyncProperty(
      FAMILY,
      'device.tensor data and dtypes',
      [nested, dtypes],
      async (data, dtype) => {
        let t: ReturnType<Device['tensor']> | null = null;
        const error = typedError(() => {
          t = dev.tensor(data as number[], undefined, dtype === undefined ? {} : { dtype: dtype as DType });
        }, ['INVALID_ARGUMENT', 'SHAPE_MISMATCH', 'DTYPE_MISMATCH', 'UNSUPPORTED']);
        if (error || !t) return;
        const made = t as ReturnType<Device['tensor']>;
        const flat = (data as unknown[]).flat(Number.POSITIVE_INFINITY) as (number | boolean)[];
        // nothing that is not a number or boolean may have been accepted
        expect(flat.every((v) => typeof v === 'number' || typeof v === 'boolean')).toBe(true);
        const numbers = flat.map(Number);
        const got = Array.from(await made.read());
        if (made.dtype === 'i32' || made.dtype === 'u32') {
          expect(numbers.every(Number.isInteger)).toBe(true);
          expect(got).toEqual(numbers);
        } else if (made.dtype === 'bool') expect(got).toEqual(numbers.map((v) => (v !== 0 ? 1 : 0)));
        else if (made.dtype === 'f16')
          expect(got.length).toBe(numbers.length); // rounding: dtype tests
        else expect(got).toEqual(numbers.map(Math.fround));
        made.dispose();
      },
      onGpu ? 40 : 150,
    );
  });

  it('integers that do not fit i32 / u32 are refused instead of wrapping', () => {
    checkProperty(
      FAMILY,
      'i32/u32 range',
      [
        fc.oneof(fc.integer(), fc.double(), fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }).map(Number)),
        fc.constantFrom('i32', 'u32' as const),
      ],
      (v, dtype) => {
        const [lo, hi] = dtype === 'i32' ? [-(2 ** 31), 2 ** 31 - 1] : [0, 2 ** 32 - 1];
        const fits = Number.isInteger(v) && v >= lo && v <= hi;
        for (const make of [() => dev.tensor([v], [1], { dtype }), () => dev.full([2], v, dtype)]) {
          const error = typedError(() => make().dispose(), ['INVALID_ARGUMENT']);
          expect(error === null).toBe(fits);
          if (error) expect(error.message).toMatch(dtype);
        }
      },
      200,
    );
  });

  it('createDevice refuses limits that are not positive integers, and unknown limits, before looking for an adapter', async () => {
    const bad = fc.oneof(
      fc.integer({ max: 0 }),
      fc.double({ min: 0.01, max: 1e6 }).filter((x) => !Number.isInteger(x)),
      fc.constantFrom<unknown>(Number.NaN, Number.POSITIVE_INFINITY, '1024', null, 2 ** 60),
    );
    const names = fc.constantFrom(
      'maxStorageBufferBindingSize',
      'maxComputeWorkgroupsPerDimension',
      'maxComputeWorkgroupStorageSize',
      'maxBufferSize',
      'maxBindGroups',
    );
    await checkAsyncProperty(
      FAMILY,
      'createDevice limits',
      [names, bad, fc.constantFrom('cpu', 'webgpu', 'auto' as const)],
      async (name, value, backend) => {
        const error = await typedErrorAsync(
          () => createDevice({ backend, limits: { [name]: value } as never }),
          ['INVALID_ARGUMENT'],
        );
        expect(error?.message).toContain(`limits.${name}`);
      },
      60,
    );
    for (const [key, value] of [
      ['threads', 0],
      ['threads', 1.5],
      ['simd', 'fast'],
      ['powerPreference', 'max'],
    ]) {
      expect(
        await typedErrorAsync(() => createDevice({ [key!]: value } as never), ['INVALID_ARGUMENT']),
      ).not.toBeNull();
    }
  });

  it('seeds are integers: NaN and fractions are refused by the sampler, the host generator and the random ops', async () => {
    const gpt = new models.GPT(dev, { vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4, seed: 1 });
    await checkAsyncProperty(
      FAMILY,
      'seeds and offsets',
      [anyNumber],
      async (seed) => {
        const ok = Number.isInteger(seed);
        expect(typedError(() => seededUniform(seed), ['INVALID_ARGUMENT']) === null).toBe(ok);
        expect(typedError(() => mixSeed(seed, 'x'), ['INVALID_ARGUMENT']) === null).toBe(ok);
        const okRand = Number.isSafeInteger(seed);
        expect(typedError(() => rand(dev, [2], { seed }).dispose(), ['INVALID_ARGUMENT']) === null).toBe(
          okRand,
        );
        const okOffset = Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32;
        expect(
          typedError(() => rand(dev, [2], { offset: seed }).dispose(), ['INVALID_ARGUMENT']) === null,
        ).toBe(okOffset);
        const generated = await typedErrorAsync(
          () => models.generate(gpt, [1], { maxNewTokens: 1, seed }),
          ['INVALID_ARGUMENT'],
        );
        expect(generated === null).toBe(ok);
      },
      onGpu ? 15 : 40,
    );
    gpt.dispose();
  });

  it('arange and rand refuse non-finite bounds', () => {
    checkProperty(
      FAMILY,
      'arange and rand bounds',
      [anyNumber, anyNumber, fc.constantFrom('f32', 'i32' as const)],
      (a, b, dtype) => {
        const finite = Number.isFinite(a) && Number.isFinite(b);
        const n = Math.max(0, Math.ceil(b - a));
        const fitsI32 = (v: number) => v >= -(2 ** 31) && v < 2 ** 31;
        const arangeOk =
          finite &&
          (dtype === 'f32' ||
            (Number.isInteger(a) && Number.isInteger(b) && (n === 0 || (fitsI32(a) && fitsI32(a + n - 1)))));
        if (arangeOk && n > 1e5) return; // sizes are family 2's
        expect(
          typedError(() => arange(dev, b, { start: a, dtype }).dispose(), ['INVALID_ARGUMENT']) === null,
        ).toBe(arangeOk);
        expect(
          typedError(() => rand(dev, [1], { low: a, high: b }).dispose(), ['INVALID_ARGUMENT']) === null,
        ).toBe(finite && a <= b);
      },
      150,
    );
  });

  it('the device-mismatch message names a real method, and Tensor.to moves a tensor', async () => {
    const other = await createDevice({ backend: 'cpu', kernels: 'reference' });
    const a = dev.tensor([1, 2, 3]);
    const b = other.tensor([10, 20, 30]);
    const error = typedError(() => add(a, b), ['DEVICE_MISMATCH']);
    expect(error?.message).toContain('.to(device)');
    const moved = await b.to(dev);
    expect(moved.device).toBe(dev);
    const sum = add(a, moved);
    expect(Array.from(await sum.read())).toEqual([11, 22, 33]);
    const back = await sum.to(other);
    expect(back.device).toBe(other);
    expect(Array.from(await back.read())).toEqual([11, 22, 33]);
    for (const t of [a, b, moved, sum, back]) t.dispose();
  });
});
