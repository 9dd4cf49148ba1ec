/**
 * LayerNorm and RMSNorm on WebGPU, forward and backward: one invocation per row, mean and variance in
 * two sweeps for accuracy (biased variance, as PyTorch).
 */
import type { KernelSignatures, NormKind } from '../../../kernels/signatures.js';
import { type KernelSpec, perItemMain } from '../shader.js';

type Sig = KernelSignatures;

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
${perItemMain('r', 'u.rows')}
  let base = u.x_off + r * u.dim;${ROW_STATS_WGSL(kind)}
  for (var k = 0u; k < u.dim; k++) {
    out_st(r * u.dim + k, (x_ld(base + k) - mean) * inv${w ? ' * w_ld(u.w_off + k)' : ''}${b ? ' + b_ld(u.b_off + k)' : ''});
  }
}`,
  };
}

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
${perItemMain('r', 'u.rows')}
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

export function normWebGpu({ kind, x, weight, bias, out, rows, dim, eps }: Sig['Norm']['args']): void {
  const affine = bias ? 'weight+bias' : weight ? 'weight' : 'none';
  // unused operands are bound to x's buffer: every binding must name some buffer
  const buffers = [
    x.storage.buffer!,
    (weight ?? x).storage.buffer!,
    (bias ?? x).storage.buffer!,
    out.storage.buffer!,
  ];
  const values = { rows, dim, x_off: x.offset, w_off: weight?.offset ?? 0, b_off: bias?.offset ?? 0, eps };
  x.device.gpu!.run(normSpec(kind, affine), buffers, values, Math.ceil(rows / 64));
}

export function normGradWebGpu(args: Sig['NormGrad']['args']): void {
  const { kind, x, gy, weight, dx, gyXhat, rows, dim, eps } = args;
  const buffers = [
    x.storage.buffer!,
    (weight ?? x).storage.buffer!,
    gy.storage.buffer!,
    dx.storage.buffer!,
    ...(gyXhat ? [gyXhat.storage.buffer!] : []),
  ];
  const values = { rows, dim, x_off: x.offset, w_off: weight?.offset ?? 0, g_off: gy.offset, eps };
  if (rows > 0)
    x.device.gpu!.run(normBackwardSpec(kind, weight !== null), buffers, values, Math.ceil(rows / 64));
}
