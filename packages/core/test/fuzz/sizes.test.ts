/**
 * Family 2 of the hardening suite: a tensor that cannot live where it must (one WebGPU buffer's
 * maxBufferSize, the wasm kernels' WebAssembly memory, the host's typed-array limit) is refused with
 * OUT_OF_MEMORY before anything of its size is built: host memory (array buffers) stays flat.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arange,
  createDevice,
  type Device,
  type DType,
  dropoutMask,
  nn,
  rand,
  randn,
} from '../../src/index.js';
import { getDevices, onGpu } from '../device.js';
import { checkProperty, typedError } from './property.js';

const FAMILY = 'sizes';
const { dev } = await getDevices();
const reference = await createDevice({ backend: 'cpu', kernels: 'reference' });

type Make = (device: Device, shape: number[], dtype: DType) => { dispose(): void };
const MAKERS: Record<string, Make> = {
  zeros: (d, s, t) => d.zeros(s, t),
  ones: (d, s, t) => d.ones(s, t),
  full: (d, s, t) => d.full(s, 3, t),
  rand: (d, s) => rand(d, s, { seed: 1 }),
  randn: (d, s) => randn(d, s, { seed: 1 }),
  dropoutMask: (d, s) => dropoutMask(d, s, 0.5, { seed: 1 }),
  arange: (d, s, t) =>
    arange(
      d,
      s.reduce((a, b) => a * b, 1),
      { dtype: t === 'i32' ? 'i32' : 'f32' },
    ),
  sinusoidalPositions: (d, s) => nn.sinusoidalPositions(d, s[0]!, s.slice(1).reduce((a, b) => a * b, 1) || 1),
};

/** Shapes whose element count is at least 2^minLog2 (beyond every limit here) or at most 64. */
function shapes(minLog2: number) {
  const huge = fc
    .array(fc.integer({ min: 2, max: 2 ** 20 }), { minLength: 2, maxLength: 5 })
    .filter((s) => s.reduce((a, b) => a * b, 1) >= 2 ** minLog2);
  const small = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });
  return fc.oneof(huge, small);
}

function refusedAtOnce(device: Device, make: Make, shape: number[], dtype: DType): void {
  const count = shape.reduce((a, b) => a * b, 1);
  const before = process.memoryUsage().arrayBuffers;
  const error = typedError(() => make(device, shape, dtype).dispose(), ['OUT_OF_MEMORY']);
  const grew = process.memoryUsage().arrayBuffers - before;
  if (count > 4096) {
    expect(error, `${count} elements`).not.toBeNull();
    expect(error!.message).toMatch(/elements/);
  } else expect(error).toBeNull();
  expect(grew).toBeLessThan(64 * 2 ** 20); // nothing of the tensor's size was built on the host
}

describe('hardening: sizes are refused before allocating', () => {
  const names = fc.constantFrom(...Object.keys(MAKERS));
  const dtypes = fc.constantFrom<DType>('f32', 'i32', 'u32', 'bool');

  it("the device under test refuses what exceeds its buffers (WebGPU) or the wasm kernels' memory", () => {
    // 2^34 elements: beyond maxBufferSize on every adapter seen and beyond a 4 GiB wasm memory
    checkProperty(
      FAMILY,
      onGpu ? 'webgpu maxBufferSize' : 'wasm memory',
      [names, shapes(34), dtypes],
      (name, shape, dtype) => refusedAtOnce(dev, MAKERS[name]!, shape, dtype),
      60,
    );
  });

  it("the reference kernels refuse what exceeds the host's typed-array limit", () => {
    // 2^33 elements: beyond V8's 2^32-element typed arrays
    checkProperty(
      FAMILY,
      'host typed-array limit',
      [names, shapes(33), dtypes],
      (name, shape, dtype) => refusedAtOnce(reference, MAKERS[name]!, shape, dtype),
      60,
    );
  });

  it('sizes past 2^53 elements are refused, not rounded', () => {
    for (const device of [dev, reference]) {
      const error = typedError(() => device.zeros([2 ** 30, 2 ** 30, 2 ** 30]), ['OUT_OF_MEMORY']);
      expect(error?.message).toMatch(/2\^53/);
    }
  });
});
