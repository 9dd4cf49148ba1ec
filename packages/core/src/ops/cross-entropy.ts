/**
 * Fused cross-entropy over the last axis (PyTorch `F.cross_entropy` with the class dim last): one
 * invocation per row, two sweeps (max, then sum of exp), so no [rows, C] log-probabilities are ever
 * written. The forward gives each row's loss, its weight (1, or 0 for an ignored row) and its
 * log-sum-exp; the backward recomputes the probabilities from that log-sum-exp.
 *
 * Row loss with label smoothing ε (PyTorch, Szegedy et al. 2016):
 *   (1 - ε)·(lse - x_t) + ε·mean_c(lse - x_c),  0 for rows whose target is `ignoreIndex`
 * and its gradient  softmax(x) - ((1 - ε)·onehot(t) + ε/C), scaled by the upstream gradient.
 *
 * Out-of-range targets: the CPU backend throws INDEX_OUT_OF_RANGE at once; a GPU kernel cannot throw,
 * so it gives the row loss 0 and weight 0, records the first bad target in the device's error flags
 * and the next `read()` throws naming it (the pattern of ops/gather.ts).
 */
import { crossEntropyBackwardWasm, crossEntropyWasm } from '../backend/wasm/rows.js';
import { DEVICE_ERROR_OPS, type KernelSpec } from '../backend/webgpu.js';
import { fail } from '../errors.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { ROW_FIELDS, ROW_WGSL, rowBaseCpu, rowLayout, rowValues } from './rows.js';

export interface CrossEntropyRowOptions {
  ignoreIndex: number;
  labelSmoothing: number;
}

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
${ROW_WGSL}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let r = workgroupIndex(wg, nwg) * WG + li;
  if (r >= u.n) { return; }
  let base = rowBase(r);
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
${ROW_WGSL}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let r = workgroupIndex(wg, nwg) * WG + li;
  if (r >= u.n) { return; }
  let base = rowBase(r);
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

function checkTargetsCpu(logits: Tensor, targets: Tensor, opts: CrossEntropyRowOptions): void {
  const ids = targets.storage.array!;
  const classes = logits.shape[logits.rank - 1]!;
  for (let r = 0; r < targets.size; r++) {
    const t = ids[targets.offset + r]!;
    if (t !== opts.ignoreIndex && (t < 0 || t >= classes)) {
      fail(
        'INDEX_OUT_OF_RANGE',
        `crossEntropy: target ${t} at position ${r} of targets ${fmt(targets.shape)} is out of range [0, ${classes}) ` +
          `for logits ${fmt(logits.shape)} (and is not ignoreIndex ${opts.ignoreIndex})`,
      );
    }
  }
}

/**
 * Per-row losses and weights `[2, rows]` (row 0: loss, row 1: 1 or 0 for ignored rows) and the rows'
 * log-sum-exp `[rows]`. `logits` [..., C] f32 (any strides), `targets` contiguous i32 [...].
 */
export function crossEntropyRows(
  logits: Tensor,
  targets: Tensor,
  opts: CrossEntropyRowOptions,
): { rows: Tensor; lse: Tensor } {
  const device = logits.device;
  const r = rowLayout('crossEntropy', logits, -1);
  const n = r.outerCount;
  const rows = device.empty([2, n], 'f32');
  const lse = device.empty([n], 'f32');
  const gpu = device.gpu;
  if (gpu) {
    const values = {
      ...rowValues(logits, r),
      n,
      t_off: targets.offset,
      ignore_index: opts.ignoreIndex,
      smoothing: opts.labelSmoothing,
      op: DEVICE_ERROR_OPS.indexOf('crossEntropy'),
    };
    const buffers = [
      logits.storage.buffer!,
      targets.storage.buffer!,
      rows.storage.buffer!,
      lse.storage.buffer!,
      gpu.errorFlags,
    ];
    gpu.run(crossEntropyForwardSpec(), buffers, values, Math.ceil(n / 64));
    return { rows, lse };
  }
  try {
    checkTargetsCpu(logits, targets, opts);
  } catch (e) {
    rows.dispose();
    lse.dispose();
    throw e;
  }
  if (device.cpu && crossEntropyWasm(device.cpu, logits, targets, rows, lse, opts)) return { rows, lse };
  const x = logits.storage.array!;
  const ids = targets.storage.array!;
  const out = rows.storage.array!;
  const lseOut = lse.storage.array!;
  const eps = opts.labelSmoothing;
  for (let o = 0; o < n; o++) {
    const base = rowBaseCpu(logits, r, o);
    let m = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < r.length; k++) m = Math.max(m, x[base + k * r.stride]!);
    let s = 0;
    let shifted = 0;
    for (let k = 0; k < r.length; k++) {
      const v = x[base + k * r.stride]! - m;
      s += Math.exp(v);
      shifted += v;
    }
    const logS = Math.log(s);
    lseOut[o] = m + logS;
    const t = ids[targets.offset + o]!;
    if (t === opts.ignoreIndex) continue; // loss and weight stay 0
    const nll = logS - (x[base + t * r.stride]! - m);
    out[o] = eps > 0 ? (1 - eps) * nll + eps * (logS - shifted / r.length) : nll;
    out[n + o] = 1;
  }
  return { rows, lse };
}

/**
 * d loss / d logits, contiguous [..., C]: `g` holds the upstream gradient of each row's loss, read at
 * `g.offset + row * gStride` (gStride 0: one value for every row).
 */
export function crossEntropyBackward(
  logits: Tensor,
  targets: Tensor,
  lse: Tensor,
  g: Tensor,
  gStride: 0 | 1,
  opts: CrossEntropyRowOptions,
): Tensor {
  const device = logits.device;
  const r = rowLayout('crossEntropy', logits, -1);
  const n = r.outerCount;
  const dx = device.empty(logits.shape, 'f32');
  const gpu = device.gpu;
  const common = {
    n,
    t_off: targets.offset,
    ignore_index: opts.ignoreIndex,
    smoothing: opts.labelSmoothing,
  };
  if (gpu) {
    const values = { ...rowValues(logits, r), ...common, g_off: g.offset, g_stride: gStride };
    const buffers = [
      logits.storage.buffer!,
      targets.storage.buffer!,
      lse.storage.buffer!,
      g.storage.buffer!,
      dx.storage.buffer!,
    ];
    gpu.run(crossEntropyBackwardSpec(), buffers, values, Math.ceil(n / 64));
    return dx;
  }
  if (device.cpu && crossEntropyBackwardWasm(device.cpu, logits, targets, lse, g, gStride, dx, opts))
    return dx;
  const x = logits.storage.array!;
  const ids = targets.storage.array!;
  const lseIn = lse.storage.array!;
  const gIn = g.storage.array!;
  const out = dx.storage.array!;
  const eps = opts.labelSmoothing;
  const C = r.length;
  for (let o = 0; o < n; o++) {
    const t = ids[targets.offset + o]!;
    if (t === opts.ignoreIndex || t < 0 || t >= C) continue; // zeros
    const base = rowBaseCpu(logits, r, o);
    const gr = gIn[g.offset + o * gStride]!;
    const l = lseIn[lse.offset + o]!;
    for (let k = 0; k < C; k++) {
      const p = Math.exp(x[base + k * r.stride]! - l);
      const target = (k === t ? 1 - eps : 0) + eps / C;
      out[o * C + k] = gr * (p - target);
    }
  }
  return dx;
}
