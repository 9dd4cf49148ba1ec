/** Fused cross-entropy on WebGPU (ops/cross-entropy.ts has the formulas): one invocation per row. */
import type { KernelSignatures } from '../../../kernels/signatures.js';
import { DEVICE_ERROR_OPS, type KernelSpec } from '../runtime.js';
import { perRowMain, ROW_FIELDS, rowValues } from './rows.js';

type Sig = KernelSignatures;

const CE_FIELDS = [
  ...ROW_FIELDS,
  ['n', 'u32'],
  ['t_off', 'u32'],
  ['ignore_index', 'i32'],
  ['smoothing', 'f32'],
] as const;

export function crossEntropyForwardSpec(): KernelSpec {
  return {
    key: 'crossEntropy:forward',
    uniforms: [...CE_FIELDS, ['op', 'u32']],
    operands: [
      { name: 'x', dtype: 'f32' },
      { name: 't', dtype: 'i32' },
      { name: 'out', dtype: 'f32', write: true },
      { name: 'lse', dtype: 'f32', write: true },
      { name: 'flags', dtype: 'u32', write: true },
    ],
    workgroupSize: 64,
    body: `
${perRowMain('r')}
  var m = -inf();
  for (var k = 0u; k < u.len; k++) { m = max(m, x_ld(base + k * u.stride)); }
  var s = 0.0;
  var shifted = 0.0; // sum_c (x_c - m), for the smoothing term
  for (var k = 0u; k < u.len; k++) {
    let v = x_ld(base + k * u.stride) - m;
    s += exp(v);
    shifted += v;
  }
  let logS = log(s);
  lse_st(r, m + logS);
  let t = t_ld(u.t_off + r);
  // out holds [loss rows | weight rows]
  if (t == u.ignore_index) { out_st(r, 0.0); out_st(u.n + r, 0.0); return; }
  if (t < 0 || u32(t) >= u.len) {
    out_st(r, 0.0);
    out_st(u.n + r, 0.0);
    if (flags_ld(0u) == 0u) { flags_st(0u, u.op); flags_st(1u, u32(t)); flags_st(2u, u.len); flags_st(3u, r); }
    return;
  }
  var loss = logS - (x_ld(base + u32(t) * u.stride) - m);
  // only with smoothing: a -inf logit (a masked class) makes the smoothing term inf, and 0 * inf is NaN
  if (u.smoothing > 0.0) { loss = (1.0 - u.smoothing) * loss + u.smoothing * (logS - shifted / f32(u.len)); }
  out_st(r, loss);
  out_st(u.n + r, 1.0);
}`,
  };
}

export function crossEntropyBackwardSpec(): KernelSpec {
  return {
    key: 'crossEntropy:backward',
    uniforms: [...CE_FIELDS, ['g_off', 'u32'], ['g_stride', 'u32']],
    operands: [
      { name: 'x', dtype: 'f32' },
      { name: 't', dtype: 'i32' },
      { name: 'lse', dtype: 'f32' },
      { name: 'g', dtype: 'f32' },
      { name: 'dx', dtype: 'f32', write: true },
    ],
    workgroupSize: 64,
    body: `
${perRowMain('r')}
  let obase = r * u.len;
  let t = t_ld(u.t_off + r);
  if (t == u.ignore_index || t < 0 || u32(t) >= u.len) {
    for (var k = 0u; k < u.len; k++) { dx_st(obase + k, 0.0); }
    return;
  }
  let g = g_ld(u.g_off + r * u.g_stride);
  let lse = lse_ld(r);
  let spread = u.smoothing / f32(u.len);
  for (var k = 0u; k < u.len; k++) {
    let p = exp(x_ld(base + k * u.stride) - lse);
    let wanted = select(0.0, 1.0 - u.smoothing, k == u32(t)) + spread;
    dx_st(obase + k, g * (p - wanted));
  }
}`,
  };
}

/** The CE_FIELDS values both kernels read: the logits' rows, the targets' offset and the options. */
function crossEntropyValues({
  logits,
  targets,
  rows: r,
  opts,
}: Sig['CrossEntropy']['args'] | Sig['CrossEntropyGrad']['args']): Record<string, number | number[]> {
  const values = rowValues(logits, r);
  values.n = r.outerCount;
  values.t_off = targets.offset;
  values.ignore_index = opts.ignoreIndex;
  values.smoothing = opts.labelSmoothing;
  return values;
}

export function crossEntropyWebGpu(args: Sig['CrossEntropy']['args']): void {
  const { logits, targets, rows: r, lossRows, lse } = args;
  const gpu = logits.device.gpu!;
  const n = r.outerCount;
  const values = crossEntropyValues(args);
  values.op = DEVICE_ERROR_OPS.indexOf('crossEntropy');
  const buffers = [
    logits.storage.buffer!,
    targets.storage.buffer!,
    lossRows.storage.buffer!,
    lse.storage.buffer!,
    gpu.errorFlags,
  ];
  gpu.run(crossEntropyForwardSpec(), buffers, values, Math.ceil(n / 64));
}

export function crossEntropyGradWebGpu(args: Sig['CrossEntropyGrad']['args']): void {
  const { logits, targets, rows: r, lse, g, gStride, dx } = args;
  const n = r.outerCount;
  const values = crossEntropyValues(args);
  values.g_off = g.offset;
  values.g_stride = gStride;
  const buffers = [
    logits.storage.buffer!,
    targets.storage.buffer!,
    lse.storage.buffer!,
    g.storage.buffer!,
    dx.storage.buffer!,
  ];
  logits.device.gpu!.run(crossEntropyBackwardSpec(), buffers, values, Math.ceil(n / 64));
}
