/** softmax / logSoftmax on WebGPU: one invocation per row, three sweeps (max, sum, write). */
import type { KernelSignatures } from '../../../kernels/signatures.js';
import type { KernelSpec } from '../shader.js';
import { perRowMain, ROW_FIELDS, rowValues } from './rows.js';

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
${perRowMain('o')}
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

export function softmaxWebGpu({ x, out, log, rows: r, inner }: KernelSignatures['Softmax']['args']): void {
  const values = { ...rowValues(x, r), n: r.outerCount, out_axis_stride: inner };
  const buffers = [x.storage.buffer!, out.storage.buffer!];
  x.device.gpu!.run(softmaxSpec(log), buffers, values, Math.ceil(r.outerCount / 64));
}
