/**
 * Generated WGSL is snapshot-tested so that a change to shader text shows up in review (style.md).
 * Pure text generation: runs without a GPU.
 */
import { describe, expect, it } from 'vitest';
import { gatherSpec } from '../src/backend/webgpu/kernels/gather.js';
import { mapSpec } from '../src/backend/webgpu/kernels/map.js';
import { normSpec } from '../src/backend/webgpu/kernels/norm.js';
import { randomSpec } from '../src/backend/webgpu/kernels/random.js';
import { reduceSpec } from '../src/backend/webgpu/kernels/reduce.js';
import { softmaxSpec } from '../src/backend/webgpu/kernels/softmax.js';
import { UniformLayout } from '../src/backend/webgpu/uniforms.js';
import { BINARY, UNARY } from '../src/ops/elementwise.js';
import { wgslSource } from './wgsl.js';

describe('generated WGSL', () => {
  it('map kernels: contiguous and strided', () => {
    expect(
      wgslSource(mapSpec({ name: 'add', ...BINARY.add }, ['f32', 'f32'], 'f32', false)),
    ).toMatchSnapshot();
    expect(wgslSource(mapSpec({ name: 'gelu', ...UNARY.gelu }, ['f32'], 'f32', true))).toMatchSnapshot();
  });
  it('an operand split across two bindings', () => {
    expect(
      wgslSource(mapSpec({ name: 'add', ...BINARY.add }, ['f32', 'f32'], 'f32', false), [2, 1, 2]),
    ).toMatchSnapshot();
  });
  it('reductions, softmax, norms, gather, random', () => {
    expect(wgslSource(reduceSpec('lse', 'f32', 'f32'))).toMatchSnapshot();
    expect(wgslSource(reduceSpec('argmax', 'f32', 'i32'))).toMatchSnapshot();
    expect(wgslSource(softmaxSpec(true))).toMatchSnapshot();
    expect(wgslSource(normSpec('layer', 'weight+bias'))).toMatchSnapshot();
    expect(wgslSource(gatherSpec('f32', 'i32'))).toMatchSnapshot();
    expect(wgslSource(randomSpec('normal'))).toMatchSnapshot();
  });
  it('uniform layouts put vec4 fields first and pad to 16 bytes', () => {
    const layout = new UniformLayout([
      ['n', 'u32'],
      ['shape0', 'vec4u'],
      ['eps', 'f32'],
    ]);
    expect(layout.wgsl).toContain('shape0: vec4u,\n  n: u32,\n  eps: f32,');
    expect(layout.byteLength).toBe(32);
    const packed = new DataView(layout.pack({ n: 3, shape0: [1, 2, 3, 4], eps: 0.5 }));
    expect([packed.getUint32(0, true), packed.getUint32(16, true), packed.getFloat32(20, true)]).toEqual([
      1, 3, 0.5,
    ]);
  });
});
