/**
 * Fused attention on the wasm kernels (wasm/attention.ts): stages q, k, v (rows padded to a multiple of
 * 4 where the kernels read them as vectors), the mask / bias / kvLens, and a parameter block; a pre-pass
 * transposes K (and V for the backward) per KV head; then one task per tile of query rows (forward, dQ)
 * or block of keys (dK, dV). scoreMod and maskMod return null: the caller runs the reference.
 */
import { gatherStrided } from '../../device.js';
import type { ResolvedAttention } from '../../kernels/attention.js';
import { hashKey } from '../../kernels/random.js';
import type { KernelSignatures } from '../../kernels/signatures.js';
import type { Tensor } from '../../tensor.js';
import { flashAttentionGradReference, flashAttentionReference } from '../reference/attention.js';
import { ENGINE_COPY, runEngine } from './elementwise.js';
import { ATTENTION_KEY_BLOCK, attentionQueryTile, INLINE_SCORES } from './heuristics.js';
import type { Ptr, WasmRuntime } from './runtime.js';

type Sig = KernelSignatures;

// field indices of the parameter block (wasm/attention.ts)
const FIELDS = [
  'B',
  'H',
  'Hkv',
  'Nq',
  'Nk',
  'D',
  'Dv',
  'DP',
  'DvP',
  'NkP',
  'scale',
  'softcap',
  'shift',
  'left',
  'right',
  'kvLens',
  'mask',
  'm_sb',
  'm_sh',
  'm_si',
  'm_sj',
  'bias',
  'bi_sb',
  'bi_sh',
  'bi_si',
  'bi_sj',
  'q',
  'k',
  'kt',
  'v',
  'vt',
  'out',
  'lse',
  'dout',
  'delta',
  'dq',
  'dk',
  'dv',
  'dbias',
  'QT',
  'KB',
  'dropP',
  'dropScale',
  'dropKey0',
  'dropKey1',
  // neighbourhood attention (neighborhood.ts; wasm/attention-neighborhood.ts)
  'rows',
  'cols',
  'kh',
  'kw',
  'dh',
  'dw',
  'nbCausal',
  'qCell',
  'perRes',
  'strips',
  'SLD',
] as const;
export type Field = (typeof FIELDS)[number];
const FLOAT_FIELDS = new Set<Field>(['scale', 'softcap', 'dropP', 'dropScale']);

export const ceil4 = (n: number) => (n + 3) & ~3;
export const ceil8 = (n: number) => (n + 7) & ~7;

/** The options the kernels implement; the others run on the reference. */
export function wasmCanRun(r: ResolvedAttention): boolean {
  return !r.scoreMod && !r.maskMod;
}

/** Row-major values of a tensor, as a view into its storage when it is contiguous. */
export function rowMajor(t: Tensor): Float32Array | Uint8Array {
  const arr = t.storage.array!;
  if (t.isContiguous) return arr.subarray(t.offset, t.offset + t.size) as Float32Array | Uint8Array;
  return gatherStrided(arr, t.dtype, t.shape, t.strides, t.offset) as Float32Array | Uint8Array;
}

/**
 * A 4-D [B, H, N, len] tensor in the memory with each row padded to `ld` (zeros): in place when it lives
 * there contiguous and unpadded, else copied by the element-wise engine (q, k, v split from one
 * projection and permuted, read through their strides).
 */
export function stageRows(rt: WasmRuntime, t: Tensor, len: number, ld: number): Ptr {
  const array = t.storage.array as Float32Array;
  if (t.isContiguous && ld === len) return rt.putF32(array, t.offset, t.size);
  const rows = t.size / len;
  const p = ld === len ? rt.alloc(rows * ld * 4) : rt.zerosF32(rows * ld);
  if (t.rank !== 4 || t.strides.some((s) => s < 0)) {
    const src = rowMajor(t) as Float32Array;
    for (let r = 0; r < rows; r++) rt.f32.set(src.subarray(r * len, r * len + len), (p >> 2) + r * ld);
    return p;
  }
  const [, d1, d2] = t.shape as [number, number, number];
  let extent = 1;
  for (let d = 0; d < 4; d++) extent += (t.shape[d]! - 1) * t.strides[d]!;
  const src = rt.putF32(array, t.offset, extent);
  const dstStrides = [d1 * d2 * ld, d2 * ld, ld, 1];
  runEngine(rt, ENGINE_COPY, t.shape, [dstStrides, t.strides], [p, src]);
  return p;
}

/** A mask or bias broadcast to [B, H, Nq, Nk]: its own values, contiguous, and strides over the target. */
function stageBroadcast(rt: WasmRuntime, t: Tensor, bytesPer: 1 | 4): { ptr: Ptr; strides: number[] } {
  const values = rowMajor(t);
  let ptr: Ptr;
  if (bytesPer === 1) {
    ptr = rt.alloc(values.length);
    rt.u8.set(values as Uint8Array, ptr);
  } else ptr = rt.putF32(values as Float32Array);
  // as cpu.ts bcastIndex: rank padded to 4 with leading 1s, size-1 dims read at 0
  const shape = [...new Array(4 - t.rank).fill(1), ...t.shape];
  const strides = [0, 0, 0, 0];
  let s = 1;
  for (let d = 3; d >= 0; d--) {
    strides[d] = shape[d] === 1 ? 0 : s;
    s *= shape[d]!;
  }
  return { ptr, strides };
}

export interface Staged {
  params: Ptr;
  set: (f: Field, v: number) => void;
  /** Whether a staged q, k, v or bias value is NaN or ±Infinity (then the caller runs the reference). */
  nonFinite: () => boolean;
}

/**
 * Whether some value of `a` is NaN or ±Infinity (x·0 is NaN exactly for those; one pass, no branch per
 * value). Four running sums, not one: a single sum is a chain of dependent adds (one add latency per
 * value), four chains overlap (0.36 -> 0.09 ms over 147 456 values, 8 such scans per attention layer
 * of the GPT training step in docs/benchmarks.md "profile"). The kernels' tiles are dense products, where a masked key still multiplies its zero weight
 * into v (0·NaN = NaN), so calls whose inputs are not all finite run the reference instead, which
 * follows the NaN / Inf policy of docs/api.md "Attention" (docs/decisions.md "Hardening (issue 21)").
 */
export function hasNonFinite(a: Float32Array): boolean {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const whole = a.length - (a.length % 4);
  for (let i = 0; i < whole; i += 4) {
    s0 += a[i]! * 0;
    s1 += a[i + 1]! * 0;
    s2 += a[i + 2]! * 0;
    s3 += a[i + 3]! * 0;
  }
  for (let i = whole; i < a.length; i++) s0 += a[i]! * 0;
  return s0 + s1 + s2 + s3 !== 0;
}

/** hasNonFinite for a saved lse, where -inf (a row with no visible key) is a legitimate value. */
export function lseHasNanOrPosInf(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!(a[i]! < Number.POSITIVE_INFINITY)) return true;
  return false;
}

/** Stages q, k, v, the optional inputs and the parameter block; `packK` allocates K's transposed copy. */
export function stageCommon(
  rt: WasmRuntime,
  r: ResolvedAttention,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  QT: number,
  packK = true,
): Staged {
  const { D, Dv, Nk } = r;
  const params = rt.alloc(FIELDS.length * 4);
  const set = (f: Field, value: number) => {
    const i = (params >> 2) + FIELDS.indexOf(f);
    if (FLOAT_FIELDS.has(f)) rt.f32[i] = value;
    else rt.i32[i] = value;
  };
  const DP = ceil4(D);
  const DvP = ceil4(Dv);
  const NkP = ceil8(Nk);
  const qp = stageRows(rt, q, D, DP);
  const kp = stageRows(rt, k, D, DP);
  const vp = stageRows(rt, v, Dv, DvP);
  const kt = packK ? rt.alloc(r.B * r.Hkv * D * NkP * 4) : 0;
  const kv = r.kvLens ? rt.putI32(r.kvLens) : 0;
  const mask = r.mask ? stageBroadcast(rt, r.mask.tensor, 1) : null;
  const bias = r.bias ? stageBroadcast(rt, r.bias.tensor, 4) : null;
  const dropKey = hashKey(r.dropSeed);
  const values: Partial<Record<Field, number>> = {
    B: r.B,
    H: r.H,
    Hkv: r.Hkv,
    Nq: r.Nq,
    Nk,
    D,
    Dv,
    DP,
    DvP,
    NkP,
    scale: r.scale,
    softcap: r.softcap,
    shift: r.shift,
    left: r.left,
    right: r.right,
    kvLens: kv,
    mask: mask?.ptr ?? 0,
    m_sb: mask?.strides[0] ?? 0,
    m_sh: mask?.strides[1] ?? 0,
    m_si: mask?.strides[2] ?? 0,
    m_sj: mask?.strides[3] ?? 0,
    bias: bias?.ptr ?? 0,
    bi_sb: bias?.strides[0] ?? 0,
    bi_sh: bias?.strides[1] ?? 0,
    bi_si: bias?.strides[2] ?? 0,
    bi_sj: bias?.strides[3] ?? 0,
    q: qp,
    k: kp,
    kt,
    v: vp,
    QT,
    KB: ATTENTION_KEY_BLOCK,
    // dropout: the same key as backend/reference/attention.ts dropKeep and the WGSL
    dropP: r.dropP,
    dropScale: r.dropP > 0 ? 1 / (1 - r.dropP) : 1,
    dropKey0: dropKey.key0,
    dropKey1: dropKey.key1,
  };
  for (const f of FIELDS) set(f, values[f] ?? 0);
  const staged = (p: Ptr, n: number) => rt.f32.subarray(p >> 2, (p >> 2) + n);
  const nonFinite = () =>
    hasNonFinite(staged(qp, r.B * r.H * r.Nq * DP)) ||
    hasNonFinite(staged(kp, r.B * r.Hkv * Nk * DP)) ||
    hasNonFinite(staged(vp, r.B * r.Hkv * Nk * DvP)) ||
    (bias !== null && hasNonFinite(staged(bias.ptr, r.bias!.tensor.size)));
  return { params, set, nonFinite };
}

function attentionForwardWasm(
  rt: WasmRuntime,
  { r, q, k, v }: Sig['FlashAttention']['args'],
  outputs: KernelOutputs,
): WasmOutputs | null {
  if (!wasmCanRun(r)) return null;
  const { B, H, Nq, Nk } = r;
  const QT = attentionQueryTile(rt);
  return rt.scope(() => {
    const s = stageCommon(rt, r, q, k, v, QT);
    if (s.nonFinite()) return null;
    const read = stageForwardOutputs(outputs, s, r);
    const inline = B * H * Nq * Nk < INLINE_SCORES;
    rt.parallel('attnPackKt', B * r.Hkv, 0, [s.params], inline);
    const tiles = Math.ceil(Nq / QT);
    rt.parallel('attnForward', B * H * tiles, rt.call('attnForwardScratch', s.params), [s.params], inline);
    return read();
  });
}

/**
 * The output tensors of one wasm attention call and where its kernels write them: in place where the
 * tensor lives in the memory, else a block that `finish` copies out. What the call declines or fails on
 * is disposed (`wasmForwardKernel`, `wasmGradKernel`).
 */
export class KernelOutputs {
  private readonly made: Tensor[] = [];
  private readonly copies: [Ptr, Float32Array][] = [];

  constructor(
    private readonly rt: WasmRuntime,
    private readonly device: Tensor['device'],
  ) {}

  /** A new f32 tensor of `shape` (zeros when `zeroed`; else the kernels write every element) and its address. */
  add(shape: number[], zeroed = false): { tensor: Tensor; ptr: Ptr } {
    const tensor = this.device.empty(shape, 'f32', zeroed);
    this.made.push(tensor);
    const array = tensor.storage.array as Float32Array;
    if (this.rt.owns(array)) return { tensor, ptr: array.byteOffset };
    const ptr = zeroed ? this.rt.zerosF32(tensor.size) : this.rt.alloc(tensor.size * 4);
    this.copies.push([ptr, array]);
    return { tensor, ptr };
  }

  /** Copies what was written to blocks into the tensors (inside the kernels' scope). */
  finish(): void {
    for (const [ptr, array] of this.copies) this.rt.finishOutput(ptr, array, 0, array.length);
  }

  dispose(): void {
    for (const t of this.made) t.dispose();
  }
}

/** What the forward kernels write. */
export interface WasmOutputs {
  out: Tensor;
  lse: Tensor;
}

/** Allocates out [B, H, Nq, Dv] and lse [B, H, Nq] in the parameter block; returns their reader. */
export function stageForwardOutputs(
  outputs: KernelOutputs,
  s: Staged,
  { B, H, Nq, Dv }: ResolvedAttention,
): () => WasmOutputs {
  const out = outputs.add([B, H, Nq, Dv]);
  const lse = outputs.add([B, H, Nq]);
  s.set('out', out.ptr);
  s.set('lse', lse.ptr);
  return () => {
    outputs.finish();
    return { out: out.tensor, lse: lse.tensor };
  };
}

/** What the backward kernels write. */
export interface WasmGrads {
  dq: Tensor;
  dk: Tensor;
  dv: Tensor;
  dbias: Tensor | null;
}

/**
 * Allocates the backward's delta, dq, dk, dv and (with a bias) a zeroed dbias [B, H, Nq, Nk] in the
 * parameter block; returns the reader of the gradients.
 */
export function stageGradOutputs(
  rt: WasmRuntime,
  outputs: KernelOutputs,
  s: Staged,
  r: ResolvedAttention,
): () => WasmGrads {
  const { B, H, Hkv, Nq, Nk, D, Dv } = r;
  const dq = outputs.add([B, H, Nq, D]);
  const dk = outputs.add([B, Hkv, Nk, D]);
  const dv = outputs.add([B, Hkv, Nk, Dv]);
  const dbias = r.bias ? outputs.add([B, H, Nq, Nk], true) : null;
  s.set('delta', rt.alloc(B * H * Nq * 4));
  s.set('dq', dq.ptr);
  s.set('dk', dk.ptr);
  s.set('dv', dv.ptr);
  s.set('dbias', dbias?.ptr ?? 0);
  return () => {
    outputs.finish();
    return { dq: dq.tensor, dk: dk.tensor, dv: dv.tensor, dbias: dbias?.tensor ?? null };
  };
}

/**
 * Stages out, lse and dout for a backward; true (the caller runs the reference) when an input of the
 * call is NaN or ±Infinity, lse's -inf of empty rows aside.
 */
export function gradNonFinite(rt: WasmRuntime, s: Staged, out: Tensor, lse: Tensor, dout: Tensor): boolean {
  const Dv = out.shape[3]!;
  const DvP = ceil4(Dv);
  const lseValues = rowMajor(lse) as Float32Array;
  const outPtr = stageRows(rt, out, Dv, Dv);
  const doutPtr = stageRows(rt, dout, Dv, DvP);
  s.set('out', outPtr);
  s.set('lse', rt.putF32(lseValues));
  s.set('dout', doutPtr);
  return (
    s.nonFinite() ||
    lseHasNanOrPosInf(lseValues) ||
    hasNonFinite(rt.f32.subarray(outPtr >> 2, (outPtr >> 2) + out.size)) ||
    hasNonFinite(rt.f32.subarray(doutPtr >> 2, (doutPtr >> 2) + (dout.size / Dv) * DvP))
  );
}

function attentionBackwardWasm(
  rt: WasmRuntime,
  { r, q, k, v, out, lse, dout }: Sig['FlashAttentionGrad']['args'],
  outputs: KernelOutputs,
): WasmGrads | null {
  if (!wasmCanRun(r)) return null;
  const { B, H, Hkv, Nq, Nk, Dv } = r;
  const QT = attentionQueryTile(rt);
  return rt.scope(() => {
    const s = stageCommon(rt, r, q, k, v, QT);
    if (gradNonFinite(rt, s, out, lse, dout)) return null;
    s.set('vt', rt.alloc(B * Hkv * Dv * ceil8(Nk) * 4));
    const read = stageGradOutputs(rt, outputs, s, r);
    const inline = B * H * Nq * Nk < INLINE_SCORES;
    rt.parallel('attnPackKt', B * Hkv, 0, [s.params], inline);
    rt.parallel('attnDelta', Math.ceil((B * H * Nq) / 64), 0, [s.params], inline);
    const scratch = rt.call('attnBackwardScratch', s.params);
    rt.parallel('attnBackwardKV', B * Hkv * Math.ceil(Nk / ATTENTION_KEY_BLOCK), scratch, [s.params], inline);
    rt.parallel('attnBackwardQ', B * H * Math.ceil(Nq / QT), scratch, [s.params], inline);
    return read();
  });
}

/** Runs `kernel` with a fresh `KernelOutputs`; when it declines (null) or throws, its outputs are disposed. */
function withOutputs<A, R>(
  kernel: (rt: WasmRuntime, args: A, outputs: KernelOutputs) => R | null,
  args: A,
  device: Tensor['device'],
): R | null {
  const outputs = new KernelOutputs(device.cpu!, device);
  try {
    const result = kernel(device.cpu!, args, outputs);
    if (!result) outputs.dispose();
    return result;
  } catch (error) {
    outputs.dispose();
    throw error;
  }
}

/**
 * The forward kernel of a wasm forward (dense or neighbourhood): maps (`weights`), JavaScript mods and
 * whatever else it declines (null) run the reference.
 */
export function wasmForwardKernel<A extends Sig['NeighborhoodAttention']['args']>(
  forward: (rt: WasmRuntime, args: A, outputs: KernelOutputs) => WasmOutputs | null,
) {
  return (args: A, device: Tensor['device']): Sig['FlashAttention']['result'] => {
    const fast = args.weights ? null : withOutputs(forward, args, device);
    return fast ? { ...fast, weights: null } : flashAttentionReference(args, device);
  };
}

/** The backward kernel of a wasm backward: what it declines (null) runs the reference. */
export function wasmGradKernel<A extends Sig['FlashAttentionGrad']['args']>(
  backward: (rt: WasmRuntime, args: A, outputs: KernelOutputs) => WasmGrads | null,
) {
  return (args: A, device: Tensor['device']): Sig['FlashAttentionGrad']['result'] =>
    withOutputs(backward, args, device) ?? flashAttentionGradReference(args, device);
}

/** FlashAttention on the wasm kernels. */
export const flashAttentionWasm = wasmForwardKernel(attentionForwardWasm);
export const flashAttentionGradWasm = wasmGradKernel(attentionBackwardWasm);
