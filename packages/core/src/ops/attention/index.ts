/**
 * `attention(q, k, v, opts)`: fused scaled-dot-product attention, exactly per design.md "The attention
 * contract", on WebGPU (wgsl.ts) and the CPU reference (cpu.ts). Never allocates Nq x Nk memory unless
 * the attention weights are asked for.
 */

import { attentionBackwardWasm, attentionForwardWasm } from '../../backend/wasm/attention.js';
import type { WebGpuRuntime } from '../../backend/webgpu.js';
import type { Device } from '../../device.js';
import { fail } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { copy, copyInto } from '../elementwise.js';
import { hashKey } from '../random.js';
import { sum } from '../reduce.js';
import { attentionBackwardCpu, attentionForwardCpu, hostViews } from './cpu.js';
import { type AttentionOptions, type ResolvedAttention, resolveAttention } from './options.js';
import {
  type AttentionFeatures,
  deltaSpec,
  dkvSpec,
  dqSpec,
  featuresOf,
  forwardSpec,
  weightsSpec,
} from './wgsl.js';
import { DECODE_CHUNK, decodeMergeSpec, decodePartialSpec } from './wgsl-decode.js';
import { canUseFastForward, FAST_WORKGROUP, fastRows, forwardFastSpec } from './wgsl-fast.js';
import { dkvFastSpec, dqFastSpec, FAST_BACKWARD_WORKGROUP, fastBackwardRows } from './wgsl-fast-backward.js';
import { dkvTiledSpec, dqTiledSpec, forwardTiledSpec, TILED_ROWS } from './wgsl-tiled.js';

export type { AttentionKernel, AttentionOptions, CausalAlignment, MaskMod, ScoreMod } from './options.js';

export interface AttentionDetailedOptions extends AttentionOptions {
  /**
   * Kernel for single-query rows (decode): 'split-k' cuts the keys into chunks reduced in parallel and
   * merged (Flash-Decoding); 'fused' streams them in one invocation. 'auto' (default) takes split-K
   * when Nq = 1 and Nk >= 128 on WebGPU.
   */
  decode?: 'auto' | 'split-k' | 'fused';
  /** Also return the attention probabilities [B, H, Nq, Nk] (recomputed from lse; for maps). */
  weights?: boolean;
}

export interface AttentionOutputs {
  /** [B, H, Nq, Dv] */
  out: Tensor;
  /** log-sum-exp of each query row's scores [B, H, Nq]; -inf for rows with no visible key. */
  lse: Tensor;
  /** [B, H, Nq, Nk] when asked for, else null. */
  weights: Tensor | null;
}

/** Inputs bound to the kernels, made contiguous along the head dim where needed; `release` frees copies. */
interface Bound {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  extra: Tensor[];
  values: Record<string, number>;
  release: () => void;
}

function bind(r: ResolvedAttention, q: Tensor, k: Tensor, v: Tensor): Bound {
  const made: Tensor[] = [];
  const own = (t: Tensor, ok: boolean) => {
    if (ok) return t;
    const c = copy(t);
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
    q_off: qc.offset,
    q_sb: qc.strides[0]!,
    q_sh: qc.strides[1]!,
    q_sn: qc.strides[2]!,
    k_off: kc.offset,
    k_sb: kc.strides[0]!,
    k_sh: kc.strides[1]!,
    k_sn: kc.strides[2]!,
    v_off: vc.offset,
    v_sb: vc.strides[0]!,
    v_sh: vc.strides[1]!,
    v_sn: vc.strides[2]!,
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

const buffersOf = (ts: readonly Tensor[]) => ts.map((t) => t.storage.buffer!);

/** The unrolled vec4 kernels need head dims divisible by 4, vec4-aligned rows and whole bindings. */
function useFastKernels(
  f: AttentionFeatures,
  x: Bound,
  gpu: WebGpuRuntime,
  others: readonly Tensor[],
): boolean {
  const aligned = ['q', 'k', 'v'].every((n) =>
    ['off', 'sb', 'sh', 'sn'].every((s) => x.values[`${n}_${s}`]! % 4 === 0),
  );
  const whole = [x.q, x.k, x.v, ...others].every((t) => gpu.fitsOneBinding(t.storage.buffer!));
  return canUseFastForward(f) && aligned && whole;
}
const ROWS_PER_INVOCATION_GROUP = 32; // workgroup size of the row-streaming kernels

/**
 * The WebGPU attention kernel family `kernel: 'auto'` runs on this device: 'registers' (barrier-free,
 * several rows per invocation) on software adapters, 'tiled' (workgroup memory) on hardware GPUs; null
 * on the CPU backend.
 */
export function defaultAttentionKernel(device: Device): 'registers' | 'tiled' | null {
  const gpu = device.gpu;
  if (!gpu) return null;
  return gpu.adapter.isSoftware ? 'registers' : 'tiled';
}

function kernelFamily(r: ResolvedAttention): 'registers' | 'tiled' {
  return r.kernel === 'auto' ? defaultAttentionKernel(r.device)! : r.kernel;
}

function run(op: string, q: Tensor, k: Tensor, v: Tensor, opts: AttentionDetailedOptions): AttentionOutputs {
  const r = resolveAttention(op, q, k, v, opts);
  const device = r.device;
  const { B, H, Nq, Nk, Dv } = r;
  const gpu = device.gpu;
  if (!gpu) {
    // the wasm kernels (device.cpu) when they cover the options; weights for maps come from the reference
    const fast = device.cpu && !opts.weights ? attentionForwardWasm(device.cpu, r, q, k, v) : null;
    if (fast) {
      return {
        out: device.tensor(fast.out, [B, H, Nq, Dv]),
        lse: device.tensor(fast.lse, [B, H, Nq]),
        weights: null,
      };
    }
    const fwd = attentionForwardCpu(r, hostViews(r, q, k, v), opts.weights === true);
    return {
      out: device.tensor(fwd.out, [B, H, Nq, Dv]),
      lse: device.tensor(fwd.lse, [B, H, Nq]),
      weights: fwd.weights ? device.tensor(fwd.weights, [B, H, Nq, Nk]) : null,
    };
  }
  const f = featuresOf(r);
  const x = bind(r, q, k, v);
  try {
    const out = device.empty([B, H, Nq, Dv], 'f32');
    const lse = device.empty([B, H, Nq], 'f32');
    const buffers = buffersOf([x.q, x.k, x.v, ...x.extra, out, lse]);
    const decode = opts.decode ?? 'auto';
    if (Nq === 1 && (decode === 'split-k' || (decode === 'auto' && Nk >= 2 * DECODE_CHUNK))) {
      const splits = Math.ceil(Nk / DECODE_CHUNK);
      const part = device.empty([B, H, splits, Dv + 2], 'f32');
      const partial = { ...x.values, splits, chunk: DECODE_CHUNK };
      gpu.run(
        decodePartialSpec(f),
        buffersOf([x.q, x.k, x.v, ...x.extra, part]),
        partial,
        Math.ceil((B * H * splits) / 32),
      );
      gpu.run(
        decodeMergeSpec(Dv),
        buffersOf([part, out, lse]),
        { rows: B * H, splits },
        Math.ceil((B * H) / 64),
      );
      part.dispose();
    } else {
      const fast = useFastKernels(f, x, gpu, [out]);
      if (fast && kernelFamily(r) === 'tiled') {
        const tiles = Math.ceil(Nq / TILED_ROWS);
        gpu.run(
          forwardTiledSpec(f, gpu.maxWorkgroupStorageBytes),
          buffers,
          { ...x.values, tiles },
          B * H * tiles,
        );
      } else if (fast) {
        const tiles = Math.ceil(Nq / (FAST_WORKGROUP * fastRows(f)));
        gpu.run(
          forwardFastSpec(f, gpu.features.has('subgroups')),
          buffers,
          { ...x.values, tiles },
          B * H * tiles,
        );
      } else {
        const tiles = Math.ceil(Nq / (ROWS_PER_INVOCATION_GROUP * f.R));
        gpu.run(forwardSpec(f), buffers, { ...x.values, tiles }, B * H * tiles);
      }
    }
    let weights: Tensor | null = null;
    if (opts.weights) {
      weights = device.empty([B, H, Nq, Nk], 'f32');
      gpu.run(
        weightsSpec(f),
        buffersOf([x.q, x.k, x.v, ...x.extra, weights]),
        x.values,
        Math.ceil((B * H * Nq) / 64),
      );
    }
    return { out, lse, weights };
  } finally {
    x.release();
  }
}

/**
 * Scaled-dot-product attention: softmax(q·kᵀ·scale (+ mods), masked) · v. q [B, H, Nq, D],
 * k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv]; H a multiple of Hkv (GQA/MQA). See `AttentionOptions`.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const { out, lse } = run('attention', q, k, v, opts);
  lse.dispose();
  return out;
}

/** Attention with its log-sum-exp and, on request, the attention weights. */
attention.detailed = (
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: AttentionDetailedOptions = {},
): AttentionOutputs => run('attention.detailed', q, k, v, opts);

export interface AttentionGrads {
  dq: Tensor;
  dk: Tensor;
  dv: Tensor;
  /** Gradient of `opts.bias`, in the bias's own shape (summed over broadcast dims); null without a bias. */
  dbias: Tensor | null;
}

/**
 * Backward of `attention` from the saved `out` and `lse` (FlashAttention-2 Alg. 2): recomputes the
 * probabilities tile by tile, so no Nq x Nk buffer is kept (except dbias, which is bias-sized).
 */
export function attentionBackward(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  out: Tensor,
  lse: Tensor,
  dout: Tensor,
  opts: AttentionOptions = {},
): AttentionGrads {
  const r = resolveAttention('attentionBackward', q, k, v, opts);
  const { device, B, H, Hkv, Nq, Nk, D, Dv } = r;
  const expect = (name: string, t: Tensor, shape: number[]) => {
    if (t.device !== device) fail('DEVICE_MISMATCH', `attentionBackward: ${name} is on another device`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      fail(
        'SHAPE_MISMATCH',
        `attentionBackward: ${name} has shape [${t.shape.join(', ')}]; expected [${shape.join(', ')}]`,
      );
    }
  };
  expect('out', out, [B, H, Nq, Dv]);
  expect('lse', lse, [B, H, Nq]);
  expect('dout', dout, [B, H, Nq, Dv]);
  const gpu = device.gpu;
  let dbiasFull: Tensor | null = null;
  let grads: Omit<AttentionGrads, 'dbias'>;
  if (!gpu) {
    const host = (t: Tensor) => hostViews(r, t, t, t).q;
    const g =
      (device.cpu && attentionBackwardWasm(device.cpu, r, q, k, v, out, lse, dout)) ||
      attentionBackwardCpu(r, hostViews(r, q, k, v), host(out), host(lse), host(dout));
    grads = {
      dq: device.tensor(g.dq, [B, H, Nq, D]),
      dk: device.tensor(g.dk, [B, Hkv, Nk, D]),
      dv: device.tensor(g.dv, [B, Hkv, Nk, Dv]),
    };
    if (g.dbias) dbiasFull = device.tensor(g.dbias, [B, H, Nq, Nk]);
  } else {
    const f = featuresOf(r);
    const x = bind(r, q, k, v);
    const oc = out.isContiguous ? out.contiguous() : copy(out);
    const gc = dout.isContiguous ? dout.contiguous() : copy(dout);
    // [lse, delta] in one buffer (see STATS_OPERAND)
    const stats = device.empty([2 * B * H * Nq], 'f32');
    const lseHalf = stats.slice(0, 0, B * H * Nq);
    const lseFlat = lse.reshape([B * H * Nq]);
    copyInto(lseHalf, lseFlat);
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
      if (r.bias) dbiasFull = device.zeros([B, H, Nq, Nk]);
      const dqBuffers = buffersOf([x.q, x.k, x.v, ...x.extra, gc, stats, dq]);
      const dkvBuffers = buffersOf([
        x.q,
        x.k,
        x.v,
        ...x.extra,
        gc,
        stats,
        dkv,
        ...(dbiasFull ? [dbiasFull] : []),
      ]);
      const fast = useFastKernels(f, x, gpu, [oc, gc, dq, dkv]);
      if (fast && kernelFamily(r) === 'tiled') {
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
      } else if (fast) {
        const subgroups = gpu.features.has('subgroups');
        const rows = FAST_BACKWARD_WORKGROUP * fastBackwardRows(D, Dv);
        const [qTiles, kTiles] = [Math.ceil(Nq / rows), Math.ceil(Nk / rows)];
        gpu.run(dqFastSpec(f, subgroups), dqBuffers, { ...x.values, tiles: qTiles }, B * H * qTiles);
        gpu.run(dkvFastSpec(f, subgroups), dkvBuffers, { ...x.values, tiles: kTiles }, B * Hkv * kTiles);
      } else {
        const qTiles = Math.ceil(Nq / (ROWS_PER_INVOCATION_GROUP * f.R));
        const kTiles = Math.ceil(Nk / (ROWS_PER_INVOCATION_GROUP * f.R));
        gpu.run(dqSpec(f), dqBuffers, { ...x.values, tiles: qTiles }, B * H * qTiles);
        gpu.run(dkvSpec(f), dkvBuffers, { ...x.values, tiles: kTiles }, B * Hkv * kTiles);
      }
      const part = (start: number, end: number, shape: number[]) => {
        const flat = dkv.slice(0, start, end);
        const view = flat.reshape(shape);
        flat.dispose();
        return view;
      };
      grads = {
        dq,
        dk: part(0, kvSize * D, [B, Hkv, Nk, D]),
        dv: part(kvSize * D, kvSize * (D + Dv), [B, Hkv, Nk, Dv]),
      };
      dkv.dispose(); // the two views keep the buffer
    } finally {
      x.release();
      for (const t of [oc, gc, stats]) t.dispose();
    }
  }
  return { ...grads, dbias: dbiasFull && opts.bias ? reduceToShape(dbiasFull, opts.bias.shape) : null };
}

/** Sums a [B, H, Nq, Nk] gradient down to a broadcast operand's shape. */
function reduceToShape(full: Tensor, shape: readonly number[]): Tensor {
  const lead = 4 - shape.length;
  const axes = [0, 1, 2, 3].filter((d) => d < lead || shape[d - lead] === 1);
  if (axes.length === 0) return full;
  const reduced = sum(full, axes, { keepdim: true });
  full.dispose();
  const out = reduced.reshape([...shape]);
  reduced.dispose();
  return out;
}
