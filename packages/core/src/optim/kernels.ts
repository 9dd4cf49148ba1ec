/**
 * Fused in-place update kernels: one dispatch per parameter per step updates the parameter and its
 * optimizer state together (as PyTorch's `foreach`/fused paths do), each beside its CPU twin.
 * Hyper-parameters travel in uniforms, so one pipeline serves every step and every learning rate;
 * derived constants (bias corrections, 1 - beta) are computed in f64 on the host.
 *
 * Parameters and state are contiguous; the parameter and the gradient may start at an offset.
 * A buffer may not be bound twice in one dispatch when one binding writes it (WebGPU), so updates
 * that read and write a tensor use one read_write operand, never `mapInto` with the output aliased.
 */
import { adamwWasm } from '../backend/wasm/rows.js';
import type { KernelSpec } from '../backend/webgpu.js';
import type { Tensor } from '../tensor.js';

const WG = 64;
const HEAD = `
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = workgroupIndex(wg, nwg) * WG + li;
  if (i >= u.n) { return; }`;

// ---- SGD (PyTorch torch.optim.SGD, 1.13 `_single_tensor_sgd`) ------------------------------------------

export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export function sgdSpec(withMomentum: boolean): KernelSpec {
  return {
    key: `optim:sgd:${withMomentum ? 'momentum' : 'plain'}`,
    uniforms: [
      ['n', 'u32'],
      ['p_off', 'u32'],
      ['g_off', 'u32'],
      ['first', 'u32'],
      ['nesterov', 'u32'],
      ['lr', 'f32'],
      ['momentum', 'f32'],
      ['one_minus_dampening', 'f32'],
      ['wd', 'f32'],
    ],
    operands: [
      { name: 'p', dtype: 'f32', write: true },
      { name: 'g', dtype: 'f32' },
      ...(withMomentum ? [{ name: 'buf', dtype: 'f32' as const, write: true }] : []),
    ],
    workgroupSize: WG,
    body: `${HEAD}
  let pv = p_ld(u.p_off + i);
  var d = g_ld(u.g_off + i);
  if (u.wd != 0.0) { d += u.wd * pv; }
  ${
    withMomentum
      ? `// the first step's buffer is the gradient itself (no dampening)
  let b = select(u.momentum * buf_ld(i) + u.one_minus_dampening * d, d, u.first == 1u);
  buf_st(i, b);
  d = select(b, d + u.momentum * b, u.nesterov == 1u);`
      : ''
  }
  p_st(u.p_off + i, pv - u.lr * d);
}`,
  };
}

/** SGD step on one parameter; `buf` is the momentum buffer (null without momentum). */
export function sgdUpdate(p: Tensor, g: Tensor, buf: Tensor | null, h: SgdHyper, first: boolean): void {
  const n = p.size;
  const gpu = p.device.gpu;
  if (gpu) {
    const values = {
      n,
      p_off: p.offset,
      g_off: g.offset,
      first: first ? 1 : 0,
      nesterov: h.nesterov ? 1 : 0,
      lr: h.lr,
      momentum: h.momentum,
      one_minus_dampening: 1 - h.dampening,
      wd: h.weightDecay,
    };
    const buffers = [p.storage.buffer!, g.storage.buffer!, ...(buf ? [buf.storage.buffer!] : [])];
    gpu.run(sgdSpec(buf !== null), buffers, values, Math.ceil(n / WG));
    return;
  }
  const pa = p.storage.array!;
  const ga = g.storage.array!;
  const ba = buf?.storage.array ?? null;
  for (let i = 0; i < n; i++) {
    const pv = pa[p.offset + i]!;
    let d = ga[g.offset + i]!;
    if (h.weightDecay !== 0) d += h.weightDecay * pv;
    if (ba) {
      const b = first ? d : h.momentum * ba[i]! + (1 - h.dampening) * d;
      ba[i] = b;
      d = h.nesterov ? d + h.momentum * b : b;
    }
    pa[p.offset + i] = pv - h.lr * d;
  }
}

// ---- AdamW (Loshchilov & Hutter 2019; PyTorch 1.13 `_single_tensor_adamw`) -------------------------------

export interface AdamWHyper {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

export function adamwSpec(amsgrad: boolean): KernelSpec {
  return {
    key: `optim:adamw:${amsgrad ? 'amsgrad' : 'plain'}`,
    uniforms: [
      ['n', 'u32'],
      ['p_off', 'u32'],
      ['g_off', 'u32'],
      ['decay', 'f32'],
      ['beta1', 'f32'],
      ['one_minus_beta1', 'f32'],
      ['beta2', 'f32'],
      ['one_minus_beta2', 'f32'],
      ['step_size', 'f32'],
      ['bc2_sqrt', 'f32'],
      ['eps', 'f32'],
    ],
    operands: [
      { name: 'p', dtype: 'f32', write: true },
      { name: 'g', dtype: 'f32' },
      { name: 'm', dtype: 'f32', write: true },
      { name: 'v', dtype: 'f32', write: true },
      ...(amsgrad ? [{ name: 'vmax', dtype: 'f32' as const, write: true }] : []),
    ],
    workgroupSize: WG,
    body: `${HEAD}
  // decoupled weight decay first, then the Adam moments
  let pv = p_ld(u.p_off + i) * u.decay;
  let gv = g_ld(u.g_off + i);
  let mv = u.beta1 * m_ld(i) + u.one_minus_beta1 * gv;
  let vv = u.beta2 * v_ld(i) + u.one_minus_beta2 * gv * gv;
  m_st(i, mv);
  v_st(i, vv);
  ${amsgrad ? 'let vd = max(vmax_ld(i), vv);\n  vmax_st(i, vd);' : 'let vd = vv;'}
  let denom = sqrt(vd) / u.bc2_sqrt + u.eps;
  p_st(u.p_off + i, pv - u.step_size * mv / denom);
}`,
  };
}

/** AdamW step `t` (1-based) on one parameter with moments m, v (and vmax for AMSGrad). */
export function adamwUpdate(
  p: Tensor,
  g: Tensor,
  m: Tensor,
  v: Tensor,
  vmax: Tensor | null,
  h: AdamWHyper,
  t: number,
): void {
  const [beta1, beta2] = h.betas;
  const decay = 1 - h.lr * h.weightDecay;
  const stepSize = h.lr / (1 - beta1 ** t);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
  const n = p.size;
  const gpu = p.device.gpu;
  if (gpu) {
    const values = {
      n,
      p_off: p.offset,
      g_off: g.offset,
      decay,
      beta1,
      one_minus_beta1: 1 - beta1,
      beta2,
      one_minus_beta2: 1 - beta2,
      step_size: stepSize,
      bc2_sqrt: bc2Sqrt,
      eps: h.eps,
    };
    const buffers = [p.storage.buffer!, g.storage.buffer!, m.storage.buffer!, v.storage.buffer!];
    if (vmax) buffers.push(vmax.storage.buffer!);
    gpu.run(adamwSpec(vmax !== null), buffers, values, Math.ceil(n / WG));
    return;
  }
  const consts = { decay, beta1, beta2, stepSize, bc2Sqrt, eps: h.eps };
  if (p.device.cpu && adamwWasm(p.device.cpu, p, g, m, v, vmax, consts)) return;
  const pa = p.storage.array!;
  const ga = g.storage.array!;
  const ma = m.storage.array!;
  const va = v.storage.array!;
  const xa = vmax?.storage.array ?? null;
  for (let i = 0; i < n; i++) {
    const pv = pa[p.offset + i]! * decay;
    const gv = ga[g.offset + i]!;
    const mv = beta1 * ma[i]! + (1 - beta1) * gv;
    const vv = beta2 * va[i]! + (1 - beta2) * gv * gv;
    ma[i] = mv;
    va[i] = vv;
    let vd = vv;
    if (xa) {
      vd = Math.max(xa[i]!, vv);
      xa[i] = vd;
    }
    pa[p.offset + i] = pv - (stepSize * mv) / (Math.sqrt(vd) / bc2Sqrt + h.eps);
  }
}

// ---- in-place scale (clipGradNorm) --------------------------------------------------------------------

export function scaleSpec(): KernelSpec {
  return {
    key: 'optim:scale',
    uniforms: [
      ['n', 'u32'],
      ['x_off', 'u32'],
      ['c_off', 'u32'],
    ],
    operands: [
      { name: 'x', dtype: 'f32', write: true },
      { name: 'c', dtype: 'f32' },
    ],
    workgroupSize: WG,
    body: `${HEAD}
  x_st(u.x_off + i, x_ld(u.x_off + i) * c_ld(u.c_off));
}`,
  };
}

/** x *= c in place, with c a one-element tensor on the device (no read back to the host). */
export function scaleInPlace(x: Tensor, c: Tensor): void {
  const n = x.size;
  const gpu = x.device.gpu;
  if (gpu) {
    const values = { n, x_off: x.offset, c_off: c.offset };
    gpu.run(scaleSpec(), [x.storage.buffer!, c.storage.buffer!], values, Math.ceil(n / WG));
    return;
  }
  const xa = x.storage.array!;
  const cv = c.storage.array![c.offset]!;
  for (let i = 0; i < n; i++) xa[x.offset + i]! *= cv;
}
