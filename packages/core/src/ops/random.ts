/**
 * Seeded random tensors from a counter-based generator: element i of a call is a pure function of
 * (seed, offset + i), so CPU and GPU give bit-identical uniforms, any chunking gives the same stream,
 * and a seed reproduces a run anywhere. The hash is PCG's output permutation (O'Neill 2014) applied
 * twice with the key mixed in between.
 */
import type { KernelSpec } from '../backend/webgpu.js';
import type { Device } from '../device.js';
import { fail } from '../errors.js';
import { checkShape, size } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { SINCOS_WGSL } from './wgsl-math.js';

/** Counter-based hash as WGSL (`pcg`, `bits(c)` keyed by u.key0/u.key1, `unit(c)` in [0, 1)). */
export const HASH_WGSL = `
fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}
fn bits(c: u32) -> u32 { return pcg(pcg(c ^ u.key0) + u.key1); }
fn unit(c: u32) -> f32 { return f32(bits(c) >> 8u) * 5.9604644775390625e-8; }`;

function pcg(v: number): number {
  const s = (Math.imul(v, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}
const bits = (c: number, k0: number, k1: number) => pcg((pcg((c ^ k0) >>> 0) + k1) >>> 0);
/** Uniform in [0, 1) for counter c under key (k0, k1): the TS twin of WGSL `unit`. */
export const unit = (c: number, k0: number, k1: number) => (bits(c, k0, k1) >>> 8) * 5.9604644775390625e-8;

type Dist = 'uniform' | 'normal';

export function randomSpec(dist: Dist): KernelSpec {
  const value =
    dist === 'uniform'
      ? 'u.a + (u.b - u.a) * unit(u.offset + i)'
      : // Box-Muller on the pair (2i, 2i+1); 1 - unit keeps log's argument in (0, 1]
        'u.a + u.b * sqrt(-2.0 * log(1.0 - unit(u.offset + 2u * i))) * cos_(6.283185307179586 * unit(u.offset + 2u * i + 1u))';
  return {
    key: `random:${dist}`,
    uniforms: [
      ['n', 'u32'],
      ['key0', 'u32'],
      ['key1', 'u32'],
      ['offset', 'u32'],
      ['a', 'f32'],
      ['b', 'f32'],
    ],
    operands: [{ name: 'out', dtype: 'f32', write: true }],
    workgroupSize: 64,
    body: `${HASH_WGSL}
${SINCOS_WGSL}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = workgroupIndex(wg, nwg) * WG + li;
  if (i >= u.n) { return; }
  out_st(i, ${value});
}`,
  };
}

export interface RandomOptions {
  /** Integer seed; the same seed gives the same values on every backend. Default 0. */
  seed?: number;
  /** Counter offset within the seed's stream (to draw fresh values with one seed). Default 0. */
  offset?: number;
}

/** The hash's key for a safe-integer seed: its low and high 32 bits (`u.key0`, `u.key1` in WGSL). */
export function hashKey(seed: number): { key0: number; key1: number } {
  return { key0: seed >>> 0, key1: Math.floor(seed / 2 ** 32) >>> 0 };
}

/** The hash's key and the first counter of a call. */
function streamOf(op: string, opts: RandomOptions): { key0: number; key1: number; offset: number } {
  const seed = opts.seed ?? 0;
  if (!Number.isSafeInteger(seed))
    fail('INVALID_ARGUMENT', `${op}: seed must be a safe integer, got ${seed}`);
  return { ...hashKey(seed), offset: (opts.offset ?? 0) >>> 0 };
}

function random(
  dist: Dist,
  device: Device,
  shapeArg: readonly number[],
  a: number,
  b: number,
  opts: RandomOptions,
): Tensor {
  const shape = checkShape(`${dist === 'uniform' ? 'rand' : 'randn'}: shape`, shapeArg);
  const { key0, key1, offset } = streamOf('random', opts);
  const n = size(shape);
  const out = device.empty(shape, 'f32');
  const gpu = device.gpu;
  if (gpu) {
    gpu.run(randomSpec(dist), [out.storage.buffer!], { n, key0, key1, offset, a, b }, Math.ceil(n / 64));
    return out;
  }
  const dst = out.storage.array!;
  for (let i = 0; i < n; i++) {
    if (dist === 'uniform') dst[i] = a + (b - a) * unit((offset + i) >>> 0, key0, key1);
    else {
      const u1 = unit((offset + 2 * i) >>> 0, key0, key1);
      const u2 = unit((offset + 2 * i + 1) >>> 0, key0, key1);
      dst[i] = a + b * Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
  }
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

const dropoutMaskSpec: KernelSpec = {
  key: 'random:dropout-mask',
  uniforms: [
    ['n', 'u32'],
    ['key0', 'u32'],
    ['key1', 'u32'],
    ['offset', 'u32'],
    ['p', 'f32'],
    ['scale', 'f32'],
  ],
  operands: [{ name: 'out', dtype: 'f32', write: true }],
  workgroupSize: 64,
  body: `${HASH_WGSL}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = workgroupIndex(wg, nwg) * WG + li;
  if (i >= u.n) { return; }
  out_st(i, select(0.0, u.scale, unit(u.offset + i) >= u.p));
}`,
};

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
  const n = size(shape);
  const scale = p === 1 ? 0 : Math.fround(1 / (1 - p));
  const out = device.empty(shape, 'f32');
  const gpu = device.gpu;
  if (gpu) {
    gpu.run(dropoutMaskSpec, [out.storage.buffer!], { n, key0, key1, offset, p, scale }, Math.ceil(n / 64));
    return out;
  }
  const dst = out.storage.array!;
  const threshold = Math.fround(p);
  for (let i = 0; i < n; i++) dst[i] = unit((offset + i) >>> 0, key0, key1) >= threshold ? scale : 0;
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
