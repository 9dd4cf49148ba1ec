/**
 * The elementwise engine on WebGPU: one invocation per run of RUN elements along the innermost dim,
 * inputs read through broadcast strides (views need no copies), output written through its own strides
 * (so `copyInto` can fill a slice of a larger tensor). Shapes travel in uniforms: one pipeline per
 * (expression, dtypes, contiguous or strided), whatever the shape.
 */
import type { DType } from '../../../dtype.js';
import { isDense, type MapArgs, type MapOp } from '../../../kernels/map.js';
import { type KernelSpec, perItemMain } from '../shader.js';
import { dimFields, packDims } from '../uniforms.js';

const WORKGROUP = 64;
/** Elements one invocation computes (consecutive along the innermost dim). */
const RUN = 16;

export function mapSpec(
  op: MapOp,
  inDtypes: readonly DType[],
  outDtype: DType,
  strided: boolean,
): KernelSpec {
  const uniforms = [
    ['n', 'u32'] as const,
    ['runs', 'u32'] as const,
    ['rank', 'u32'] as const,
    ['out_off', 'u32'] as const,
    ...inDtypes.map((_, k) => [`off${k}`, 'u32'] as const),
    ...(strided
      ? [...dimFields('shape'), ...dimFields('os'), ...inDtypes.flatMap((_, k) => dimFields(`s${k}_`))]
      : []),
  ];
  // Each invocation handles a run of up to RUN elements along the innermost dim: the index arithmetic
  // (a div and a mod per dim) is paid once per run, not per element; SwiftShader runs invocations as
  // CPU SIMD lanes, where that arithmetic costs more than the op itself.
  const idx = strided
    ? `let chunks = (dimAt(u.shape0, u.shape1, u.rank - 1u) + ${RUN - 1}u) / ${RUN}u;
  var rem = i / chunks;
  let first = (i % chunks) * ${RUN}u;
  let inner = dimAt(u.shape0, u.shape1, u.rank - 1u);
  let count = min(${RUN}u, inner - first);
  let os_in = dimAt(u.os0, u.os1, u.rank - 1u);
  var oo = u.out_off + first * os_in;
  ${inDtypes.map((_, k) => `let s${k}_in = dimAt(u.s${k}_0, u.s${k}_1, u.rank - 1u);\n  var o${k} = u.off${k} + first * s${k}_in;`).join('\n  ')}
  for (var d = u.rank - 1u; d > 0u; d--) {
    let dd = d - 1u;
    let dim = dimAt(u.shape0, u.shape1, dd);
    let c = rem % dim;
    rem = rem / dim;
    oo += c * dimAt(u.os0, u.os1, dd);
    ${inDtypes.map((_, k) => `o${k} += c * dimAt(u.s${k}_0, u.s${k}_1, dd);`).join('\n    ')}
  }`
    : `let first = i * ${RUN}u;
  let count = min(${RUN}u, u.n - first);
  let os_in = 1u;
  var oo = u.out_off + first;
  ${inDtypes.map((_, k) => `let s${k}_in = 1u;\n  var o${k} = u.off${k} + first;`).join('\n  ')}`;
  const body = `
fn dimAt(a: vec4u, b: vec4u, d: u32) -> u32 { if (d < 4u) { return a[d]; } return b[d - 4u]; }
${op.helpers ?? ''}
${perItemMain('i', 'u.runs')}
  ${idx}
  for (var e = 0u; e < count; e++) {
    ${inDtypes.map((_, k) => `let x${k} = in${k}_ld(o${k} + e * s${k}_in);`).join(' ')}
    out_st(oo + e * os_in, ${op.wgsl});
  }
}`;
  return {
    key: `map:${op.name}:${inDtypes.join(',')}->${outDtype}:${strided ? 's' : 'c'}`,
    uniforms,
    operands: [
      ...inDtypes.map((dtype, k) => ({ name: `in${k}`, dtype })),
      { name: 'out', dtype: outDtype, write: true },
    ],
    body,
    workgroupSize: WORKGROUP,
  };
}

export function mapWebGpu({ op, inputs, out, shape, strides }: MapArgs): void {
  const total = out.size;
  const strided = !strides.every((s) => isDense(s, shape));
  const spec = mapSpec(
    op,
    inputs.map((t) => t.dtype),
    out.dtype,
    strided,
  );
  const inner = shape[shape.length - 1] ?? 1;
  const runs = strided ? (total / inner) * Math.ceil(inner / RUN) : Math.ceil(total / RUN);
  const values: Record<string, number | number[]> = {
    n: total,
    runs,
    rank: shape.length,
    out_off: out.offset,
  };
  inputs.forEach((t, k) => {
    values[`off${k}`] = t.offset;
  });
  if (strided) {
    Object.assign(values, packDims('shape', shape), packDims('os', strides[0]!));
    inputs.forEach((_, k) => {
      Object.assign(values, packDims(`s${k}_`, strides[k + 1]!));
    });
  }
  const buffers = [...inputs.map((t) => t.storage.buffer!), out.storage.buffer!];
  out.device.gpu!.run(spec, buffers, values, Math.ceil(runs / WORKGROUP));
}
