/**
 * The engine behind every elementwise op: one output element per invocation, inputs read through
 * broadcast strides (views need no copies), output written through its own strides (so `copyInto` can
 * fill a slice of a larger tensor). Shapes travel in uniforms: one pipeline per (expression, dtypes,
 * contiguous or strided), whatever the shape.
 */

import { dimFields, packDims } from '../backend/uniforms.js';
import { elementwiseWasm } from '../backend/wasm/elementwise.js';
import type { KernelSpec } from '../backend/webgpu.js';
import type { Device } from '../device.js';
import { type DType, type TypedArray, wgslType } from '../dtype.js';
import { fail } from '../errors.js';
import { broadcastStrides, fmt, type Shape, size } from '../shape.js';
import type { Tensor } from '../tensor.js';

export interface MapOp {
  /** Pipeline key part; must identify the expression. */
  name: string;
  /** WGSL expression over `x0`, `x1`, `x2` (storage types) giving the output's storage type. */
  wgsl: string;
  /** CPU twin over numbers (bools as 0/1). */
  cpu: (...x: number[]) => number;
  /** Extra WGSL functions the expression uses. */
  helpers?: string;
}

const MAX_RANK = 8;
const WORKGROUP = 64;
/** Elements one invocation computes (consecutive along the innermost dim). */
const RUN = 16;

/** Merges dims that every operand walks contiguously, and drops size-1 dims: fewer loop steps. */
function coalesce(shape: Shape, strideSets: number[][]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strideSets.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    const mergeable = last >= 0 && strideSets.every((s, k) => outStrides[k]![last] === s[d]! * n);
    if (mergeable) {
      outShape[last]! *= n;
      strideSets.forEach((s, k) => {
        outStrides[k]![last] = s[d]!;
      });
    } else {
      outShape.push(n);
      strideSets.forEach((s, k) => {
        outStrides[k]!.push(s[d]!);
      });
    }
  }
  return { shape: outShape, strides: outStrides };
}

function isDense(strides: readonly number[], shape: readonly number[]): boolean {
  let expect = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (strides[d] !== expect) return false;
    expect *= shape[d]!;
  }
  return true;
}

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
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = workgroupIndex(wg, nwg) * WG + li;
  if (i >= u.runs) { return; }
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

/** Checks that all tensors live on one device; names them in the error. */
export function sameDevice(op: string, tensors: readonly Tensor[], names: readonly string[]): Device {
  const device = tensors[0]!.device;
  tensors.forEach((t, k) => {
    t.storage; // throws a clear error for a disposed tensor
    if (t.device !== device) {
      fail(
        'DEVICE_MISMATCH',
        `${op}: ${names[k]} is on ${t.device.describe()} but ${names[0]} is on ${device.describe()}; move one with toDevice()`,
      );
    }
  });
  return device;
}

/**
 * Applies `op` elementwise to `inputs` (already broadcast-compatible with `out`'s shape) and writes
 * into `out`, which may be a strided view.
 */
export function mapInto(op: MapOp, inputs: readonly Tensor[], out: Tensor): void {
  const device = out.device;
  const shape = out.shape;
  const total = size(shape);
  if (total === 0) return;
  const inStrides = inputs.map((t) => broadcastStrides(t.shape, t.strides, shape));
  const c = coalesce(shape, [[...out.strides], ...inStrides]);
  if (c.shape.length > MAX_RANK) {
    fail(
      'UNSUPPORTED',
      `${op.name}: ${fmt(shape)} with these strides needs rank ${c.shape.length} > ${MAX_RANK}`,
    );
  }
  const gpu = device.gpu;
  if (!gpu) {
    // f32 copies, arithmetic, relu, GELU and their gradients run on the wasm engine when there is one
    if (!(device.cpu && elementwiseWasm(device.cpu, op.name, inputs, out, c.shape, c.strides)))
      mapCpu(op, inputs, out, c.shape, c.strides);
    return;
  }
  const strided = !c.strides.every((s) => isDense(s, c.shape));
  const spec = mapSpec(
    op,
    inputs.map((t) => t.dtype),
    out.dtype,
    strided,
  );
  const inner = c.shape[c.shape.length - 1] ?? 1;
  const runs = strided ? (total / inner) * Math.ceil(inner / RUN) : Math.ceil(total / RUN);
  const values: Record<string, number | number[]> = {
    n: total,
    runs,
    rank: c.shape.length,
    out_off: out.offset,
  };
  inputs.forEach((t, k) => {
    values[`off${k}`] = t.offset;
  });
  if (strided) {
    Object.assign(values, packDims('shape', c.shape), packDims('os', c.strides[0]!));
    inputs.forEach((_, k) => {
      Object.assign(values, packDims(`s${k}_`, c.strides[k + 1]!));
    });
  }
  const buffers = [...inputs.map((t) => t.storage.buffer!), out.storage.buffer!];
  gpu.run(spec, buffers, values, Math.ceil(runs / WORKGROUP));
}

function mapCpu(
  op: MapOp,
  inputs: readonly Tensor[],
  out: Tensor,
  shape: number[],
  strides: number[][],
): void {
  const arrays = inputs.map((t) => t.storage.array!);
  const dst = out.storage.array as TypedArray;
  const rank = shape.length;
  const n = size(shape);
  const offs = [out.offset, ...inputs.map((t) => t.offset)];
  const idx = new Array<number>(rank).fill(0);
  const args = new Array<number>(inputs.length);
  const f = op.cpu;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < arrays.length; k++) args[k] = arrays[k]![offs[k + 1]!]!;
    dst[offs[0]!] = f(...args);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      for (let k = 0; k < offs.length; k++) offs[k]! += strides[k]![d]!;
      if (idx[d]! < shape[d]!) break;
      for (let k = 0; k < offs.length; k++) offs[k]! -= strides[k]![d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/** Allocates the output and applies `op`. */
export function map(op: MapOp, inputs: readonly Tensor[], shape: Shape, outDtype: DType): Tensor {
  const out = inputs[0]!.device.empty(shape, outDtype);
  mapInto(op, inputs, out);
  return out;
}

export const wgslOf = wgslType;
