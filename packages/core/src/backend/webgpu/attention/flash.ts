/**
 * The FlashAttention and FlashAttentionGrad kernels on WebGPU: binds q, k, v and the optional inputs
 * (copying a view only when its head dim is strided), then runs the family ../heuristics.ts picks:
 * split-K for decode, the register or tiled kernels for vec4-friendly head dims, the loop-based kernels
 * for everything else.
 */
import { fail } from '../../../errors.js';
import type { ResolvedAttention } from '../../../kernels/attention.js';
import { COPY, copyOf, mapInto } from '../../../kernels/map.js';
import { hashKey } from '../../../kernels/random.js';
import type { KernelSignatures } from '../../../kernels/signatures.js';
import type { Tensor } from '../../../tensor.js';
import {
  attentionFamily,
  LOOPED_WORKGROUP,
  REGISTERS_BACKWARD_WORKGROUP,
  REGISTERS_WORKGROUP,
  registerBackwardRows,
  registerRows,
  SPLIT_K_CHUNK,
  useSplitK,
} from '../heuristics.js';
import type { KernelSpec, WebGpuRuntime } from '../runtime.js';
import { bhnStrides, type UniformValues } from '../uniforms.js';
import { type AttentionFeatures, featuresOf } from './features.js';
import { forwardSpec, weightsSpec } from './looped.js';
import { deltaSpec, dkvSpec, dqSpec } from './looped-backward.js';
import { registersForwardSpec, vec4HeadDims } from './registers.js';
import { registersDkvSpec, registersDqSpec } from './registers-backward.js';
import { splitKMergeSpec, splitKPartialSpec } from './split-k.js';
import { dkvTiledSpec, dqTiledSpec, forwardTiledSpec, TILED_ROWS } from './tiled.js';

type Sig = KernelSignatures;

/** Inputs bound to the kernels, made contiguous along the head dim where needed; `release` frees copies. */
export interface Bound {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  extra: Tensor[];
  values: Record<string, number>;
  release: () => void;
}

export function bind(r: ResolvedAttention, q: Tensor, k: Tensor, v: Tensor): Bound {
  const made: Tensor[] = [];
  const own = (t: Tensor, ok: boolean) => {
    if (ok) return t;
    const c = copyOf(t);
    made.push(c);
    return c;
  };
  const qc = own(q, q.strides[3] === 1);
  const kc = own(k, k.strides[3] === 1);
  const vc = own(v, v.strides[3] === 1);
  const extra: Tensor[] = [];
  if (r.mask) extra.push(r.mask.tensor);
  if (r.bias) extra.push(r.bias.tensor);
  if (r.kvLens) {
    const lens = r.device.tensor(r.kvLens, [r.B], { dtype: 'i32' });
    made.push(lens);
    extra.push(lens);
  }
  for (const mod of [r.scoreMod, r.maskMod]) {
    for (const t of Object.values(mod?.tensors ?? {})) extra.push(own(t, t.isContiguous && t.offset === 0));
  }
  const ms = r.mask?.strides ?? [0, 0, 0, 0];
  const bs = r.bias?.strides ?? [0, 0, 0, 0];
  const values: Record<string, number> = {
    B: r.B,
    H: r.H,
    Hkv: r.Hkv,
    Nq: r.Nq,
    Nk: r.Nk,
    group: r.H / r.Hkv,
    tiles: 1,
    shift: r.shift,
    left: r.left,
    right: r.right,
    scale: r.scale,
    softcap: r.softcap,
    drop_p: r.dropP,
    drop_scale: r.dropP > 0 ? 1 / (1 - r.dropP) : 1,
    ...hashKey(r.dropSeed),
    ...bhnStrides('q', qc),
    ...bhnStrides('k', kc),
    ...bhnStrides('v', vc),
    m_off: r.mask?.tensor.offset ?? 0,
    m_sb: ms[0]!,
    m_sh: ms[1]!,
    m_si: ms[2]!,
    m_sj: ms[3]!,
    bi_off: r.bias?.tensor.offset ?? 0,
    bi_sb: bs[0]!,
    bi_sh: bs[1]!,
    bi_si: bs[2]!,
    bi_sj: bs[3]!,
  };
  return {
    q: qc,
    k: kc,
    v: vc,
    extra,
    values,
    release: () => {
      for (const t of made) t.dispose();
    },
  };
}

export const buffersOf = (ts: readonly Tensor[]) => ts.map((t) => t.storage.buffer!);

/**
 * The attention weights [B, H, Nq, Nk] that a forward returns when asked: `spec` (the dense or the
 * neighbourhood weights kernel) runs one invocation per query row over the bound inputs.
 */
export function runWeights(spec: KernelSpec, r: ResolvedAttention, x: Bound, values: UniformValues): Tensor {
  const { B, H, Nq, Nk } = r;
  const weights = r.device.empty([B, H, Nq, Nk], 'f32');
  r.device.gpu!.run(
    spec,
    buffersOf([x.q, x.k, x.v, ...x.extra, weights]),
    values,
    Math.ceil((B * H * Nq) / 64),
  );
  return weights;
}

/** The unrolled vec4 kernels need head dims divisible by 4, vec4-aligned rows and whole bindings. */
function fitsVec4Kernels(
  f: AttentionFeatures,
  x: Bound,
  gpu: WebGpuRuntime,
  others: readonly Tensor[],
): boolean {
  const aligned = ['q', 'k', 'v'].every((n) =>
    ['off', 'sb', 'sh', 'sn'].every((s) => x.values[`${n}_${s}`]! % 4 === 0),
  );
  const whole = [x.q, x.k, x.v, ...others].every((t) => gpu.fitsOneBinding(t.storage.buffer!));
  return vec4HeadDims(f) && aligned && whole;
}

/** Forward: out, lse and (when asked) the weights, each kernel chosen by ../heuristics.ts. */
export function flashAttentionWebGpu(
  { r, q, k, v, weights: withWeights, decode }: Sig['FlashAttention']['args'],
  device: Tensor['device'],
): Sig['FlashAttention']['result'] {
  const gpu = device.gpu!;
  const { B, H, Nq, Nk, Dv } = r;
  const f = featuresOf(r);
  const x = bind(r, q, k, v);
  try {
    const out = device.empty([B, H, Nq, Dv], 'f32');
    const lse = device.empty([B, H, Nq], 'f32');
    const buffers = buffersOf([x.q, x.k, x.v, ...x.extra, out, lse]);
    if (useSplitK(Nq, Nk, decode)) {
      const splits = Math.ceil(Nk / SPLIT_K_CHUNK);
      const part = device.empty([B, H, splits, Dv + 2], 'f32');
      const partial = { ...x.values, splits, chunk: SPLIT_K_CHUNK };
      gpu.run(
        splitKPartialSpec(f),
        buffersOf([x.q, x.k, x.v, ...x.extra, part]),
        partial,
        Math.ceil((B * H * splits) / 32),
      );
      gpu.run(
        splitKMergeSpec(Dv),
        buffersOf([part, out, lse]),
        { rows: B * H, splits },
        Math.ceil((B * H) / 64),
      );
      part.dispose();
    } else {
      const vec4 = fitsVec4Kernels(f, x, gpu, [out]);
      if (vec4 && attentionFamily(r.kernel, gpu) === 'tiled') {
        const tiles = Math.ceil(Nq / TILED_ROWS);
        gpu.run(
          forwardTiledSpec(f, gpu.maxWorkgroupStorageBytes),
          buffers,
          { ...x.values, tiles },
          B * H * tiles,
        );
      } else if (vec4) {
        const tiles = Math.ceil(Nq / (REGISTERS_WORKGROUP * registerRows(f)));
        gpu.run(
          registersForwardSpec(f, gpu.features.has('subgroups')),
          buffers,
          { ...x.values, tiles },
          B * H * tiles,
        );
      } else {
        const tiles = Math.ceil(Nq / (LOOPED_WORKGROUP * f.R));
        gpu.run(forwardSpec(f), buffers, { ...x.values, tiles }, B * H * tiles);
      }
    }
    const weights = withWeights ? runWeights(weightsSpec(f), r, x, x.values) : null;
    return { out, lse, weights };
  } finally {
    x.release();
  }
}

/** What a backward's dQ and dK/dV kernels are given (flash.ts, neighborhood.ts). */
export interface BackwardBinding {
  gpu: WebGpuRuntime;
  x: Bound;
  /** q, k, v, the optional inputs, dout, stats (see STATS_OPERAND), dq */
  dqBuffers: GPUBuffer[];
  /** q, k, v, the optional inputs, dout, stats, dkv (dK then dV) and, with a bias, dbias */
  dkvBuffers: GPUBuffer[];
  /** out, dout, dq and dkv: what a vec4 kernel also needs within one binding (fitsVec4Kernels) */
  outputs: Tensor[];
}

/**
 * The backward both attention kernels share: binds the inputs, stages [lse, delta], runs delta =
 * rowsum(dO ∘ O), lets `runKernels` dispatch the family's dQ and dK/dV kernels, then views dkv as dK and dV.
 */
export function attentionBackwardWebGpu(
  { r, q, k, v, out, lse, dout }: Sig['FlashAttentionGrad']['args'],
  device: Tensor['device'],
  runKernels: (b: BackwardBinding) => void,
): Sig['FlashAttentionGrad']['result'] {
  const gpu = device.gpu!;
  const { B, H, Hkv, Nq, Nk, D, Dv } = r;
  const x = bind(r, q, k, v);
  const oc = out.isContiguous ? out.contiguous() : copyOf(out);
  const gc = dout.isContiguous ? dout.contiguous() : copyOf(dout);
  // [lse, delta] in one buffer (see STATS_OPERAND)
  const stats = device.empty([2 * B * H * Nq], 'f32');
  const lseHalf = stats.slice(0, 0, B * H * Nq);
  const lseFlat = lse.reshape([B * H * Nq]);
  mapInto(COPY, [lseFlat], lseHalf);
  lseHalf.dispose();
  lseFlat.dispose();
  try {
    if (oc.offset || gc.offset) {
      fail('UNSUPPORTED', 'attentionBackward: out and dout must not be offset views; pass copies');
    }
    gpu.run(deltaSpec(Dv), buffersOf([gc, oc, stats]), { rows: B * H * Nq }, Math.ceil((B * H * Nq) / 64));
    const dq = device.empty([B, H, Nq, D], 'f32');
    const kvSize = B * Hkv * Nk;
    const dkv = device.empty([kvSize * (D + Dv)], 'f32');
    const dbias = r.bias ? device.zeros([B, H, Nq, Nk]) : null;
    runKernels({
      gpu,
      x,
      dqBuffers: buffersOf([x.q, x.k, x.v, ...x.extra, gc, stats, dq]),
      dkvBuffers: buffersOf([x.q, x.k, x.v, ...x.extra, gc, stats, dkv, ...(dbias ? [dbias] : [])]),
      outputs: [oc, gc, dq, dkv],
    });
    const part = (start: number, end: number, shape: number[]) => {
      const flat = dkv.slice(0, start, end);
      const view = flat.reshape(shape);
      flat.dispose();
      return view;
    };
    const grads = {
      dq,
      dk: part(0, kvSize * D, [B, Hkv, Nk, D]),
      dv: part(kvSize * D, kvSize * (D + Dv), [B, Hkv, Nk, Dv]),
      dbias,
    };
    dkv.dispose(); // the two views keep the buffer
    return grads;
  } finally {
    x.release();
    for (const t of [oc, gc, stats]) t.dispose();
  }
}

/** Backward: delta, then dQ and dK/dV (dbias [B, H, Nq, Nk] with a bias), the family as the forward's. */
export function flashAttentionGradWebGpu(
  args: Sig['FlashAttentionGrad']['args'],
  device: Tensor['device'],
): Sig['FlashAttentionGrad']['result'] {
  const { r } = args;
  const { B, H, Hkv, Nq, Nk, D, Dv } = r;
  const f = featuresOf(r);
  return attentionBackwardWebGpu(args, device, ({ gpu, x, dqBuffers, dkvBuffers, outputs }) => {
    const vec4 = fitsVec4Kernels(f, x, gpu, outputs);
    if (vec4 && attentionFamily(r.kernel, gpu) === 'tiled') {
      const [qTiles, kTiles] = [Math.ceil(Nq / TILED_ROWS), Math.ceil(Nk / TILED_ROWS)];
      gpu.run(
        dqTiledSpec(f, gpu.maxWorkgroupStorageBytes),
        dqBuffers,
        { ...x.values, tiles: qTiles },
        B * H * qTiles,
      );
      gpu.run(
        dkvTiledSpec(f, gpu.maxWorkgroupStorageBytes),
        dkvBuffers,
        { ...x.values, tiles: kTiles },
        B * Hkv * kTiles,
      );
    } else if (vec4) {
      const subgroups = gpu.features.has('subgroups');
      const rows = REGISTERS_BACKWARD_WORKGROUP * registerBackwardRows(D, Dv);
      const [qTiles, kTiles] = [Math.ceil(Nq / rows), Math.ceil(Nk / rows)];
      gpu.run(registersDqSpec(f, subgroups), dqBuffers, { ...x.values, tiles: qTiles }, B * H * qTiles);
      gpu.run(registersDkvSpec(f, subgroups), dkvBuffers, { ...x.values, tiles: kTiles }, B * Hkv * kTiles);
    } else {
      const qTiles = Math.ceil(Nq / (LOOPED_WORKGROUP * f.R));
      const kTiles = Math.ceil(Nk / (LOOPED_WORKGROUP * f.R));
      gpu.run(dqSpec(f), dqBuffers, { ...x.values, tiles: qTiles }, B * H * qTiles);
      gpu.run(dkvSpec(f), dkvBuffers, { ...x.values, tiles: kTiles }, B * Hkv * kTiles);
    }
  });
}
