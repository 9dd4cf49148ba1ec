/**
 * softmax / logSoftmax over any axis. One invocation per row, three sweeps (max, sum, write), so large
 * logits stay exact. A row that is all -inf is 0/0, NaN here as in PyTorch (attention handles fully
 * masked rows itself).
 */
import { softmaxWasm } from '../backend/wasm/rows.js';
import type { KernelSpec } from '../backend/webgpu.js';
import { fail } from '../errors.js';
import { contiguousStrides } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sameDevice } from './map.js';
import { ROW_FIELDS, ROW_WGSL, rowBaseCpu, rowLayout, rowValues } from './rows.js';

export function softmaxSpec(log: boolean): KernelSpec {
  return {
    key: `softmax:${log ? 'log' : 'plain'}`,
    uniforms: [...ROW_FIELDS, ['n', 'u32'], ['out_axis_stride', 'u32']],
    operands: [
      { name: 'x', dtype: 'f32' },
      { name: 'out', dtype: 'f32', write: true },
    ],
    workgroupSize: 64,
    body: `
${ROW_WGSL}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let o = workgroupIndex(wg, nwg) * WG + li;
  if (o >= u.n) { return; }
  let base = rowBase(o);
  // output is contiguous: its outer index o maps to (o / inner) * len * inner + o % inner
  let inner = u.out_axis_stride;
  let obase = (o / inner) * u.len * inner + o % inner;
  var m = -inf();
  for (var k = 0u; k < u.len; k++) { m = max(m, x_ld(base + k * u.stride)); }
  var s = 0.0;
  for (var k = 0u; k < u.len; k++) { s += exp(x_ld(base + k * u.stride) - m); }
  ${log ? 'let ls = m + log(s);' : 'let inv = 1.0 / s;'}
  for (var k = 0u; k < u.len; k++) {
    let v = x_ld(base + k * u.stride);
    out_st(obase + k * inner, ${log ? 'v - ls' : 'exp(v - m) * inv'});
  }
}`,
  };
}

function softmaxAny(op: 'softmax' | 'logSoftmax', x: Tensor, axis: number): Tensor {
  sameDevice(op, [x], ['x']);
  if (x.dtype !== 'f32') fail('DTYPE_MISMATCH', `${op}: x has dtype ${x.dtype}; expected f32`);
  const r = rowLayout(op, x, axis);
  const out = x.device.empty(x.shape, 'f32');
  const inner = x.rank === 0 ? 1 : contiguousStrides(x.shape)[r.axis]!;
  const log = op === 'logSoftmax';
  const gpu = x.device.gpu;
  if (gpu) {
    const values = { ...rowValues(x, r), n: r.outerCount, out_axis_stride: inner };
    gpu.run(softmaxSpec(log), [x.storage.buffer!, out.storage.buffer!], values, Math.ceil(r.outerCount / 64));
    return out;
  }
  if (x.device.cpu && softmaxWasm(x.device.cpu, x, out, log, r.axis)) return out;
  const src = x.storage.array!;
  const dst = out.storage.array!;
  for (let o = 0; o < r.outerCount; o++) {
    const base = rowBaseCpu(x, r, o);
    const obase = Math.floor(o / inner) * r.length * inner + (o % inner);
    let m = -Infinity;
    for (let k = 0; k < r.length; k++) m = Math.max(m, src[base + k * r.stride]!);
    let s = 0;
    for (let k = 0; k < r.length; k++) s += Math.exp(src[base + k * r.stride]! - m);
    const ls = m + Math.log(s);
    for (let k = 0; k < r.length; k++) {
      const v = src[base + k * r.stride]!;
      dst[obase + k * inner] = log ? v - ls : Math.exp(v - m) / s;
    }
  }
  return out;
}

/** Softmax along `axis` (default last), PyTorch `F.softmax(x, dim)`. */
export const softmax = (x: Tensor, axis = -1) => softmaxAny('softmax', x, axis);
/** log-softmax along `axis` (default last), computed as x - logsumexp(x) for accuracy. */
export const logSoftmax = (x: Tensor, axis = -1) => softmaxAny('logSoftmax', x, axis);
