/**
 * Seeded random tensors from a counter-based generator (kernels/random.ts): element i of a call is a
 * pure function of (seed, offset + i), so CPU and GPU give bit-identical uniforms, any chunking gives
 * the same stream, and a seed reproduces a run anywhere.
 */
import type { Device } from '../device.js';
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
  return { ...hashKey(seed), offset: (opts.offset ?? 0) >>> 0 };
}

function random(
  dist: 'uniform' | 'normal',
  device: Device,
  shapeArg: readonly number[],
  a: number,
  b: number,
  opts: RandomOptions,
): Tensor {
  const shape = checkShape(`${dist === 'uniform' ? 'rand' : 'randn'}: shape`, shapeArg);
  const stream = streamOf('random', opts);
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
  if (step === 0) fail('INVALID_ARGUMENT', 'arange: step must not be 0');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = opts.dtype ?? 'f32';
  const data = dtype === 'i32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return device.tensor(data, [n], { dtype });
}
