/**
 * LayerNorm and RMSNorm over the trailing `normalizedShape` dims (PyTorch `F.layer_norm`,
 * `torch.nn.RMSNorm`). One invocation per row; mean and variance in two sweeps for accuracy
 * (biased variance, as PyTorch).
 */
import { normBackwardWasm, normWasm } from '../backend/wasm/rows.js';
import type { KernelSpec } from '../backend/webgpu.js';
import { fail } from '../errors.js';
import { fmt, sameShape, size } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sameDevice } from './map.js';

export type NormKind = 'layer' | 'rms';

/** Per-row statistics shared by the forward and backward kernels: mean (0 for RMSNorm) and 1/sqrt(var + eps). */
const ROW_STATS_WGSL = (kind: NormKind) => `
  let n = f32(u.dim);
  ${
    kind === 'layer'
      ? `var mean = 0.0;
  for (var k = 0u; k < u.dim; k++) { mean += x_ld(base + k); }
  mean /= n;
  var v = 0.0;
  for (var k = 0u; k < u.dim; k++) { let d = x_ld(base + k) - mean; v += d * d; }`
      : `let mean = 0.0;
  var v = 0.0;
  for (var k = 0u; k < u.dim; k++) { let d = x_ld(base + k); v += d * d; }`
  }
  let inv = inverseSqrt(v / n + u.eps);`;

export function normSpec(kind: NormKind, affine: 'none' | 'weight' | 'weight+bias'): KernelSpec {
  const w = affine !== 'none';
  const b = affine === 'weight+bias';
  return {
    key: `norm:${kind}:${affine}`,
    uniforms: [
      ['rows', 'u32'],
      ['dim', 'u32'],
      ['x_off', 'u32'],
      ['w_off', 'u32'],
      ['b_off', 'u32'],
      ['eps', 'f32'],
    ],
    operands: [
      { name: 'x', dtype: 'f32' },
      { name: 'w', dtype: 'f32' },
      { name: 'b', dtype: 'f32' },
      { name: 'out', dtype: 'f32', write: true },
    ],
    workgroupSize: 64,
    body: `
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let r = workgroupIndex(wg, nwg) * WG + li;
  if (r >= u.rows) { return; }
  let base = u.x_off + r * u.dim;${ROW_STATS_WGSL(kind)}
  for (var k = 0u; k < u.dim; k++) {
    out_st(r * u.dim + k, (x_ld(base + k) - mean) * inv${w ? ' * w_ld(u.w_off + k)' : ''}${b ? ' + b_ld(u.b_off + k)' : ''});
  }
}`,
  };
}

export interface NormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Added to the variance (LayerNorm default 1e-5, RMSNorm default 1e-6). */
  eps?: number;
}

function norm(kind: NormKind, x: Tensor, normalizedShape: readonly number[], opts: NormOptions): Tensor {
  const op = kind === 'layer' ? 'layerNorm' : 'rmsNorm';
  const { weight, bias } = opts;
  const eps = opts.eps ?? (kind === 'layer' ? 1e-5 : 1e-6);
  const tensors = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  sameDevice(op, tensors, ['x', ...(weight ? ['weight'] : []), ...(bias ? ['bias'] : [])]);
  for (const t of tensors) {
    if (t.dtype !== 'f32')
      fail('DTYPE_MISMATCH', `${op}: expected f32 tensors, got ${t.dtype} ${fmt(t.shape)}`);
  }
  const k = normalizedShape.length;
  if (k === 0 || k > x.rank || !sameShape(x.shape.slice(x.rank - k), normalizedShape)) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: normalizedShape ${fmt(normalizedShape)} is not the trailing shape of x ${fmt(x.shape)}`,
    );
  }
  for (const [name, t] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t && !sameShape(t.shape, normalizedShape)) {
      fail(
        'SHAPE_MISMATCH',
        `${op}: ${name} has shape ${fmt(t.shape)}; expected normalizedShape ${fmt(normalizedShape)}`,
      );
    }
  }
  if (bias && !weight) fail('INVALID_ARGUMENT', `${op}: a bias needs a weight`);
  const dim = size(normalizedShape);
  const rows = dim === 0 ? 0 : x.size / dim;
  const xc = x.contiguous();
  const wc = weight?.contiguous() ?? null;
  const bc = bias?.contiguous() ?? null;
  const out = x.device.empty(x.shape, 'f32');
  try {
    const gpu = x.device.gpu;
    if (gpu) {
      const affine = bc ? 'weight+bias' : wc ? 'weight' : 'none';
      // unused operands are bound to x's buffer: every binding must name some buffer
      const buffers = [
        xc.storage.buffer!,
        (wc ?? xc).storage.buffer!,
        (bc ?? xc).storage.buffer!,
        out.storage.buffer!,
      ];
      gpu.run(
        normSpec(kind, affine),
        buffers,
        { rows, dim, x_off: xc.offset, w_off: wc?.offset ?? 0, b_off: bc?.offset ?? 0, eps },
        Math.ceil(rows / 64),
      );
      return out;
    }
    const fast = x.device.cpu;
    if (fast && normWasm(fast, kind === 'layer', xc, wc, bc, out, rows, dim, eps)) return out;
    const src = xc.storage.array!;
    const dst = out.storage.array!;
    const wa = wc?.storage.array;
    const ba = bc?.storage.array;
    for (let r = 0; r < rows; r++) {
      const base = xc.offset + r * dim;
      let mean = 0;
      if (kind === 'layer') {
        for (let j = 0; j < dim; j++) mean += src[base + j]!;
        mean /= dim;
      }
      let v = 0;
      for (let j = 0; j < dim; j++) v += (src[base + j]! - mean) ** 2;
      const inv = 1 / Math.sqrt(v / dim + eps);
      for (let j = 0; j < dim; j++) {
        const y = (src[base + j]! - mean) * inv;
        dst[r * dim + j] = y * (wa ? wa[wc!.offset + j]! : 1) + (ba ? ba[bc!.offset + j]! : 0);
      }
    }
    return out;
  } finally {
    xc.dispose();
    wc?.dispose();
    bc?.dispose();
  }
}

export const layerNorm = (x: Tensor, normalizedShape: readonly number[], opts: NormOptions = {}) =>
  norm('layer', x, normalizedShape, opts);
export const rmsNorm = (x: Tensor, normalizedShape: readonly number[], opts: NormOptions = {}) =>
  norm('rms', x, normalizedShape, opts);

/**
 * Backward of layer/RMS norm, one invocation per row (PyTorch's formulas): with xhat = (x - mean)·rstd
 * and g = dy·weight, dx = rstd·(g - mean(g) - xhat·mean(g·xhat)) (RMSNorm drops mean(g)). With a weight
 * it also writes dy·xhat per element, which the caller sums over rows for dweight.
 */
export function normBackwardSpec(kind: NormKind, weighted: boolean): KernelSpec {
  return {
    key: `norm-bwd:${kind}:${weighted}`,
    uniforms: [
      ['rows', 'u32'],
      ['dim', 'u32'],
      ['x_off', 'u32'],
      ['w_off', 'u32'],
      ['g_off', 'u32'],
      ['eps', 'f32'],
    ],
    operands: [
      { name: 'x', dtype: 'f32' },
      { name: 'w', dtype: 'f32' },
      { name: 'gy', dtype: 'f32' },
      { name: 'dx', dtype: 'f32', write: true },
      ...(weighted ? [{ name: 'gxhat', dtype: 'f32' as const, write: true }] : []),
    ],
    workgroupSize: 64,
    body: `
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let r = workgroupIndex(wg, nwg) * WG + li;
  if (r >= u.rows) { return; }
  let base = u.x_off + r * u.dim;
  let gbase = u.g_off + r * u.dim;${ROW_STATS_WGSL(kind)}
  var sg = 0.0;
  var sgx = 0.0;
  for (var k = 0u; k < u.dim; k++) {
    let g = gy_ld(gbase + k)${weighted ? ' * w_ld(u.w_off + k)' : ''};
    sg += g;
    sgx += g * (x_ld(base + k) - mean) * inv;
  }
  let cg = ${kind === 'layer' ? 'sg / n' : '0.0'};
  let cx = sgx / n;
  for (var k = 0u; k < u.dim; k++) {
    let xhat = (x_ld(base + k) - mean) * inv;
    let gk = gy_ld(gbase + k);
    dx_st(r * u.dim + k, inv * (gk${weighted ? ' * w_ld(u.w_off + k)' : ''} - cg - xhat * cx));${
      weighted ? '\n    gxhat_st(r * u.dim + k, gk * xhat);' : ''
    }
  }
}`,
  };
}

/**
 * Gradients of layerNorm / rmsNorm for dL/dy = gy: `dx` in x's shape, and with a weight `gyXhat`
 * [rows, dim] (dweight is its sum over rows, dbias the sum of gy over rows).
 */
export function normBackward(
  kind: NormKind,
  x: Tensor,
  normalizedShape: readonly number[],
  gy: Tensor,
  weight: Tensor | null,
  eps: number,
): { dx: Tensor; gyXhat: Tensor | null } {
  const dim = size(normalizedShape);
  const rows = dim === 0 ? 0 : x.size / dim;
  const xc = x.contiguous();
  const gc = gy.contiguous();
  const wc = weight?.contiguous() ?? null;
  const dx = x.device.empty(x.shape, 'f32');
  const gyXhat = wc ? x.device.empty([rows, dim], 'f32') : null;
  try {
    const gpu = x.device.gpu;
    if (gpu) {
      const buffers = [
        xc.storage.buffer!,
        (wc ?? xc).storage.buffer!,
        gc.storage.buffer!,
        dx.storage.buffer!,
        ...(gyXhat ? [gyXhat.storage.buffer!] : []),
      ];
      const values = { rows, dim, x_off: xc.offset, w_off: wc?.offset ?? 0, g_off: gc.offset, eps };
      if (rows > 0) gpu.run(normBackwardSpec(kind, wc !== null), buffers, values, Math.ceil(rows / 64));
      return { dx, gyXhat };
    }
    const fast = x.device.cpu;
    if (fast && normBackwardWasm(fast, kind === 'layer', xc, gc, wc, dx, gyXhat, rows, dim, eps)) {
      return { dx, gyXhat };
    }
    const xs = xc.storage.array!;
    const gs = gc.storage.array!;
    const ws = wc?.storage.array;
    const dxs = dx.storage.array!;
    const gxs = gyXhat?.storage.array;
    for (let r = 0; r < rows; r++) {
      const base = xc.offset + r * dim;
      const gbase = gc.offset + r * dim;
      let mean = 0;
      if (kind === 'layer') {
        for (let k = 0; k < dim; k++) mean += xs[base + k]!;
        mean /= dim;
      }
      let v = 0;
      for (let k = 0; k < dim; k++) v += (xs[base + k]! - mean) ** 2;
      const inv = 1 / Math.sqrt(v / dim + eps);
      const w = (k: number) => (ws ? ws[wc!.offset + k]! : 1);
      let sg = 0;
      let sgx = 0;
      for (let k = 0; k < dim; k++) {
        const g = gs[gbase + k]! * w(k);
        sg += g;
        sgx += g * (xs[base + k]! - mean) * inv;
      }
      const cg = kind === 'layer' ? sg / dim : 0;
      const cx = sgx / dim;
      for (let k = 0; k < dim; k++) {
        const xhat = (xs[base + k]! - mean) * inv;
        const gk = gs[gbase + k]!;
        dxs[r * dim + k] = inv * (gk * w(k) - cg - xhat * cx);
        if (gxs) gxs[r * dim + k] = gk * xhat;
      }
    }
    return { dx, gyXhat };
  } finally {
    xc.dispose();
    gc.dispose();
    wc?.dispose();
  }
}
