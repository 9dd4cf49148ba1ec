/**
 * Fused in-place optimizer updates on WebGPU: one dispatch per parameter per step updates the parameter
 * and its state together. A buffer may not be bound twice in one dispatch when one binding writes it,
 * so updates that read and write a tensor use one read_write operand.
 */
import type { KernelSignatures } from '../../../kernels/signatures.js';
import { type KernelSpec, perItemMain } from '../shader.js';

type Sig = KernelSignatures;

const WG = 64;
const HEAD = `
${perItemMain('i', 'u.n')}`;

// SGD: PyTorch torch.optim.SGD, 1.13 `_single_tensor_sgd`
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

// AdamW: Loshchilov & Hutter 2019; PyTorch 1.13 `_single_tensor_adamw`
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

export function sgdStepWebGpu({ p, g, buf, hyper: h, first }: Sig['SgdStep']['args']): void {
  const n = p.size;
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
  p.device.gpu!.run(sgdSpec(buf !== null), buffers, values, Math.ceil(n / WG));
}

export function adamwStepWebGpu({ p, g, m, v, vmax, consts: c }: Sig['AdamWStep']['args']): void {
  const n = p.size;
  const values = {
    n,
    p_off: p.offset,
    g_off: g.offset,
    decay: c.decay,
    beta1: c.beta1,
    one_minus_beta1: 1 - c.beta1,
    beta2: c.beta2,
    one_minus_beta2: 1 - c.beta2,
    step_size: c.stepSize,
    bc2_sqrt: c.bc2Sqrt,
    eps: c.eps,
  };
  const buffers = [p.storage.buffer!, g.storage.buffer!, m.storage.buffer!, v.storage.buffer!];
  if (vmax) buffers.push(vmax.storage.buffer!);
  p.device.gpu!.run(adamwSpec(vmax !== null), buffers, values, Math.ceil(n / WG));
}

export function scaleInPlaceWebGpu({ x, c }: Sig['ScaleInPlace']['args']): void {
  const n = x.size;
  const values = { n, x_off: x.offset, c_off: c.offset };
  x.device.gpu!.run(scaleSpec(), [x.storage.buffer!, c.storage.buffer!], values, Math.ceil(n / WG));
}
