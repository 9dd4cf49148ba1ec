/**
 * Kernels as data (`KernelSpec`) and the WGSL the runtime wraps around each body: operand
 * declarations and accessors (operands larger than one binding span several), the uniform struct,
 * the split-dispatch index and the shared helpers (inf, nan, isNan).
 */
import { type DType, gpuBytes, wgslType } from '../../dtype.js';
import type { Field, UniformLayout } from './uniforms.js';

/** A storage operand of a kernel: the name its WGSL accessors get, its element type and access mode. */
export interface OperandSpec {
  name: string;
  dtype: DType;
  write?: boolean;
  /**
   * Declare the buffer as `array<vec4<T>>`: besides the scalar `<name>_ld(i)` / `<name>_st(i, v)` the
   * kernel gets `<name>_ld4(i)` / `<name>_st4(i, v)` over vec4 indices (element i * 4). Such an operand
   * is never split in segments: check `fitsOneBinding` before choosing a vec4 kernel (`run` refuses).
   */
  vec4?: boolean;
}

/**
 * A compute kernel as data. `body` is WGSL that defines `fn main` and uses `u.<field>`, the accessors
 * `<name>_ld(i)` / `<name>_st(i, v)` of each operand and `workgroupIndex(wg, nwg)`; the runtime adds the
 * declarations, so one builder serves buffers of any size (bindings split in segments) and any count of
 * workgroups (2-D grids, then several dispatches).
 */
export interface KernelSpec {
  key: string;
  uniforms: readonly Field[];
  operands: readonly OperandSpec[];
  body: string;
  workgroupSize: number;
  /** Extra `enable` directives, e.g. 'subgroups'. */
  enables?: readonly string[];
}

/** Declarations + accessors for each operand; an operand larger than one binding spans several. */
export function shaderSource(
  spec: KernelSpec,
  segs: readonly number[],
  layout: UniformLayout,
  maxBindingBytes: number,
) {
  const enables = new Set(spec.enables ?? []);
  if (spec.operands.some((o) => o.dtype === 'f16')) enables.add('f16');
  const lines: string[] = [...[...enables].map((e) => `enable ${e};`), layout.wgsl];
  // quad operations run in quad-uniform (not workgroup-uniform) control flow, which WGSL's analysis cannot see
  if (enables.has('subgroups')) lines.splice(enables.size, 0, 'diagnostic(off, subgroup_uniformity);');
  let binding = 1;
  spec.operands.forEach((op, k) => {
    const t = wgslType(op.dtype);
    const access = op.write ? 'read_write' : 'read';
    const n = segs[k]!;

    if (op.vec4) {
      lines.push(
        `@group(0) @binding(${binding++}) var<storage, ${access}> ${op.name}_0: array<vec4<${t}>>;`,
        `fn ${op.name}_ld4(i: u32) -> vec4<${t}> { return ${op.name}_0[i]; }`,
        `fn ${op.name}_ld(i: u32) -> ${t} { return ${op.name}_0[i >> 2u][i & 3u]; }`,
      );
      if (op.write) {
        lines.push(
          `fn ${op.name}_st4(i: u32, v: vec4<${t}>) { ${op.name}_0[i] = v; }`,
          `fn ${op.name}_st(i: u32, v: ${t}) { ${op.name}_0[i >> 2u][i & 3u] = v; }`,
        );
      }
      return;
    }
    const segElems = maxBindingBytes / gpuBytes(op.dtype);
    for (let s = 0; s < n; s++) {
      lines.push(`@group(0) @binding(${binding++}) var<storage, ${access}> ${op.name}_${s}: array<${t}>;`);
    }
    const pick = (s: number, use: (ref: string) => string) =>
      use(s === 0 ? `${op.name}_0[i]` : `${op.name}_${s}[i - ${s * segElems}u]`);
    const chain = (use: (ref: string) => string) => {
      if (n === 1) return pick(0, use);
      let text = '';
      for (let s = 0; s < n; s++) {
        const cond = s < n - 1 ? `if (i < ${(s + 1) * segElems}u) ` : '';
        text += `${s > 0 ? ' else ' : ''}${cond}{ ${pick(s, use)} }`;
      }
      return text;
    };
    lines.push(
      `fn ${op.name}_ld(i: u32) -> ${t} { ${chain((r) => `return ${r};`)} ${n > 1 ? `return ${t}(0);` : ''} }`,
    );
    if (op.write) lines.push(`fn ${op.name}_st(i: u32, v: ${t}) { ${chain((r) => `${r} = v;`)} }`);
  });
  lines.push(
    'fn workgroupIndex(wg: vec3u, nwg: vec3u) -> u32 { return u.wg_base + wg.x + wg.y * nwg.x; }',
    // WGSL has no infinity literal and rejects one in constant expressions; a private var is not constant
    'var<private> INF_BITS: u32 = 0x7f800000u;',
    'var<private> NAN_BITS: u32 = 0x7fc00000u;',
    'fn inf() -> f32 { return bitcast<f32>(INF_BITS); }',
    'fn nan() -> f32 { return bitcast<f32>(NAN_BITS); }',
    // `x != x` may be folded away by compilers that assume no NaNs (SwiftShader does): test the bits
    'fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }',
    `const WG: u32 = ${spec.workgroupSize}u;`,
    spec.body,
  );
  return lines.join('\n');
}

/**
 * WGSL opening of `main` with the builtins `workgroupIndex(wg, nwg)` and the local index `li`, before
 * the closing `) {`: a kernel that takes more builtins (a subgroup lane) appends them.
 */
export const MAIN_PARAMS = `@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32`;
/** WGSL opening of `main` (MAIN_PARAMS closed): the body follows. */
export const MAIN = `${MAIN_PARAMS}) {`;

/**
 * WGSL opening of a kernel with one invocation per item: `index` counts items over every workgroup of
 * a (possibly split) dispatch, and invocations past `count` return at once.
 */
export function perItemMain(index: string, count: string): string {
  return `${MAIN}
  let ${index} = workgroupIndex(wg, nwg) * WG + li;
  if (${index} >= ${count}) { return; }`;
}
