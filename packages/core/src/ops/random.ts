/**
 * Seeded random tensors from a counter-based generator (kernels/random.ts): element i of a call is a
 * pure function of (seed, offset + i), so CPU and GPU give bit-identical uniforms, any chunking gives
 * the same stream, and a seed reproduces a run anywhere.
 */
import type { Device } from '../device.js';
import { hostArray } from '../dtype.js';
import { fail } from '../errors.js';
import { hashKey } from '../kernels/random.js';
import { runKernel } from '../kernels/registry.js';
import { checkShape } from '../shape.js';
import type { Tensor } from '../tensor.js';

export { hashKey, unit } from '../kernels/random.js';

export interface RandomOptions {
  /** Integer seed; the same seed gives the same values on every backend. Default 0. */
  seed?: number;
  /** Counter offset within the seed's stream (to draw fresh values with one seed). Default 0. */
  offset?: number;
}

/** The hash's key and the first counter of a call. */
function streamOf(op: string, opts: RandomOptions): { key0: number; key1: number; offset: number } {
  const seed = opts.seed ?? 0;
  if (!Number.isSafeInteger(seed))
    fail('INVALID_ARGUMENT', `${op}: seed must be a safe integer, got ${seed}`);
  const offset = opts.offset ?? 0;
  if (!(Number.isInteger(offset) && offset >= 0 && offset < 2 ** 32))
    fail('INVALID_ARGUMENT', `${op}: offset must be an integer in [0, 2^32), got ${offset}`);
  return { ...hashKey(seed), offset };
}

function random(
  dist: 'uniform' | 'normal',
  device: Device,
  shapeArg: readonly number[],
  a: number,
  b: number,
  opts: RandomOptions,
): Tensor {
  const op = dist === 'uniform' ? 'rand' : 'randn';
  const shape = checkShape(`${op}: shape`, shapeArg);
  const stream = streamOf(op, opts);
  const [na, nb] = dist === 'uniform' ? ['low', 'high'] : ['mean', 'std'];
  if (!Number.isFinite(a) || !Number.isFinite(b) || (dist === 'uniform' ? a > b : b < 0)) {
    fail(
      'INVALID_ARGUMENT',
      `${op}: ${na} ${a} and ${nb} ${b} must be finite numbers with ${dist === 'uniform' ? 'low <= high' : 'std >= 0'}`,
    );
  }
  const out = device.empty(shape, 'f32');
  runKernel('RandomFill', device, { dist, out, stream, a, b });
  return out;
}

/** Uniform values in [low, high) (default [0, 1)). */
export const rand = (
  device: Device,
  shape: readonly number[],
  opts: RandomOptions & { low?: number; high?: number } = {},
) => random('uniform', device, shape, opts.low ?? 0, opts.high ?? 1, opts);

/** Normal values with `mean` and `std` (default 0, 1). */
export const randn = (
  device: Device,
  shape: readonly number[],
  opts: RandomOptions & { mean?: number; std?: number } = {},
) => random('normal', device, shape, opts.mean ?? 0, opts.std ?? 1, opts);

/**
 * Inverted dropout's multiplier in one pass: 1/(1 - p) where `rand` with the same seed and offset gives
 * u >= p (kept, probability 1 - p), else 0. The same values as `mul(cast(ge(rand(...), p)), 1/(1-p))`
 * without the four intermediate tensors. p in [0, 1]; p = 1 drops everything.
 */
export function dropoutMask(
  device: Device,
  shapeArg: readonly number[],
  p: number,
  opts: RandomOptions = {},
): Tensor {
  const shape = checkShape('dropoutMask: shape', shapeArg);
  if (!(p >= 0 && p <= 1)) fail('INVALID_ARGUMENT', `dropoutMask: p must be in [0, 1], got ${p}`);
  const { key0, key1, offset } = streamOf('dropoutMask', opts);
  const scale = p === 1 ? 0 : Math.fround(1 / (1 - p));
  const out = device.empty(shape, 'f32');
  runKernel('DropoutMask', device, { out, stream: { key0, key1, offset }, p, scale });
  return out;
}

/** [start, start + step, ...) below `end`, like `torch.arange`; f32 unless `dtype` is i32. */
export function arange(
  device: Device,
  end: number,
  opts: { start?: number; step?: number; dtype?: 'f32' | 'i32' } = {},
): Tensor {
  const start = opts.start ?? 0;
  const step = opts.step ?? 1;
  const dtype = opts.dtype ?? 'f32';
  if (dtype !== 'f32' && dtype !== 'i32')
    fail('INVALID_ARGUMENT', `arange: dtype ${JSON.stringify(dtype)}; expected 'f32' or 'i32'`);
  for (const [name, v] of [
    ['end', end],
    ['start', start],
    ['step', step],
  ] as const) {
    if (!Number.isFinite(v) || (dtype === 'i32' && !Number.isInteger(v)))
      fail(
        'INVALID_ARGUMENT',
        `arange: ${name} must be a finite ${dtype === 'i32' ? 'integer' : 'number'}, got ${v}`,
      );
  }
  if (step === 0) fail('INVALID_ARGUMENT', 'arange: step must not be 0');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const last = start + (n - 1) * step;
  if (dtype === 'i32' && n > 0 && (Math.min(start, last) < -(2 ** 31) || Math.max(start, last) >= 2 ** 31))
    fail('INVALID_ARGUMENT', `arange: values from ${start} to ${last} do not fit i32`);
  device.checkFits(dtype, n); // before building the host array
  const data = hostArray(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return device.tensor(data, [n], { dtype });
}
