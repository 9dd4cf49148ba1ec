/**
 * Generated WGSL for the snapshot tests (docs/decisions.md: a change to shader text shows up in
 * review): a kernel's source as the WebGPU runtime builds it, with the `wg_base` uniform it appends,
 * one binding per operand unless `segments` says otherwise, and a 128 MiB binding limit.
 */
import { type KernelSpec, shaderSource } from '../src/backend/webgpu/shader.js';
import { UniformLayout } from '../src/backend/webgpu/uniforms.js';

const MAX_BINDING = 128 * 2 ** 20;

export function wgslSource(spec: KernelSpec, segments: number[] = spec.operands.map(() => 1)): string {
  return shaderSource(spec, segments, new UniformLayout([...spec.uniforms, ['wg_base', 'u32']]), MAX_BINDING);
}
