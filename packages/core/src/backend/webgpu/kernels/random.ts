/** Random tensors on WebGPU: the counter hash of kernels/random.ts in WGSL, uniform, normal and dropout masks. */
import type { KernelSignatures } from '../../../kernels/signatures.js';
import { SINCOS_WGSL } from '../../../kernels/wgsl-math.js';
import { type KernelSpec, perItemMain } from '../shader.js';

type Sig = KernelSignatures;

/** Counter-based hash as WGSL (`pcg`, `bits(c)` keyed by u.key0/u.key1, `unit(c)` in [0, 1)). */
export const HASH_WGSL = `
fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}
fn bits(c: u32) -> u32 { return pcg(pcg(c ^ u.key0) + u.key1); }
fn unit(c: u32) -> f32 { return f32(bits(c) >> 8u) * 5.9604644775390625e-8; }`;

export function randomSpec(dist: 'uniform' | 'normal'): KernelSpec {
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
${perItemMain('i', 'u.n')}
  out_st(i, ${value});
}`,
  };
}

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
${perItemMain('i', 'u.n')}
  out_st(i, select(0.0, u.scale, unit(u.offset + i) >= u.p));
}`,
};

export function randomFillWebGpu({ dist, out, stream, a, b }: Sig['RandomFill']['args']): void {
  const n = out.size;
  const values = { n, ...stream, a, b };
  out.device.gpu!.run(randomSpec(dist), [out.storage.buffer!], values, Math.ceil(n / 64));
}

export function dropoutMaskWebGpu({ out, stream, p, scale }: Sig['DropoutMask']['args']): void {
  const n = out.size;
  const values = { n, ...stream, p, scale };
  out.device.gpu!.run(dropoutMaskSpec, [out.storage.buffer!], values, Math.ceil(n / 64));
}
