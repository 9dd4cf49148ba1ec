/**
 * Neighbourhood attention on the wasm kernels (wasm/attention-neighborhood*.ts): stages q, k, v and the
 * optional inputs as the dense kernels do (attention.ts, without K's transposed copy: each task packs
 * the key runs it reads), adds the grid to the parameter block, and runs one task per strip of query
 * cells (forward, dQ) or key cells (dK, dV). scoreMod / maskMod and the weights run the reference.
 */
import type { ResolvedAttention } from '../../kernels/attention.js';
import type { KernelSignatures } from '../../kernels/signatures.js';
import type { Tensor } from '../../tensor.js';
import { flashAttentionGradReference, flashAttentionReference, gradTensors } from '../reference/attention.js';
import { ceil8, gradNonFinite, type Staged, stageCommon, wasmCanRun } from './attention.js';
import { INLINE_SCORES, neighborhoodStrip } from './heuristics.js';
import type { WasmRuntime } from './runtime.js';

type Sig = KernelSignatures;

/** The grid's fields; returns the strips per (b, h) (rows x dw residues x strips per residue). */
function stageGrid(s: Staged, r: ResolvedAttention, QT: number): number {
  const nb = r.neighborhood!;
  const perRes = Math.ceil(Math.ceil(nb.cols / nb.dw) / QT);
  const strips = nb.rows * nb.dw * perRes;
  s.set('rows', nb.rows);
  s.set('cols', nb.cols);
  s.set('kh', nb.kh);
  s.set('kw', nb.kw);
  s.set('dh', nb.dh);
  s.set('dw', nb.dw);
  s.set('nbCausal', nb.causal ? 1 : 0);
  s.set('qCell', r.Nk - r.Nq);
  s.set('perRes', perRes);
  s.set('strips', strips);
  s.set('SLD', ceil8(QT + nb.kw - 1));
  return strips;
}

/** Scores the kernels compute: about N·kh·(QT + kw - 1) per head; small calls stay on this thread. */
function inline(r: ResolvedAttention, QT: number): boolean {
  const nb = r.neighborhood!;
  return r.B * r.H * r.Nq * nb.kh * (QT + nb.kw - 1) < INLINE_SCORES;
}

function forwardWasm(
  rt: WasmRuntime,
  { r, q, k, v }: Sig['NeighborhoodAttention']['args'],
): { out: Float32Array; lse: Float32Array } | null {
  if (!wasmCanRun(r)) return null;
  const { B, H, Nq, Dv } = r;
  const QT = neighborhoodStrip(rt, r.neighborhood!.kw);
  return rt.scope(() => {
    const s = stageCommon(rt, r, q, k, v, QT, false);
    if (s.nonFinite()) return null; // the reference follows the NaN / Inf policy (attention.ts hasNonFinite)
    const strips = stageGrid(s, r, QT);
    const out = rt.alloc(B * H * Nq * Dv * 4);
    const lse = rt.alloc(B * H * Nq * 4);
    s.set('out', out);
    s.set('lse', lse);
    rt.parallel('nbForward', B * H * strips, rt.call('nbScratch', s.params), [s.params], inline(r, QT));
    return {
      out: rt.f32.slice(out >> 2, (out >> 2) + B * H * Nq * Dv),
      lse: rt.f32.slice(lse >> 2, (lse >> 2) + B * H * Nq),
    };
  });
}

function backwardWasm(
  rt: WasmRuntime,
  { r, q, k, v, out, lse, dout }: Sig['NeighborhoodAttentionGrad']['args'],
): { dq: Float32Array; dk: Float32Array; dv: Float32Array; dbias: Float32Array | null } | null {
  if (!wasmCanRun(r)) return null;
  const { B, H, Hkv, Nq, Nk, D, Dv } = r;
  const QT = neighborhoodStrip(rt, r.neighborhood!.kw);
  return rt.scope(() => {
    const s = stageCommon(rt, r, q, k, v, QT, false);
    const strips = stageGrid(s, r, QT);
    if (gradNonFinite(rt, s, out, lse, dout)) return null;
    const dq = rt.alloc(B * H * Nq * D * 4);
    const dk = rt.alloc(B * Hkv * Nk * D * 4);
    const dv = rt.alloc(B * Hkv * Nk * Dv * 4);
    const dbias = r.bias ? rt.zerosF32(B * H * Nq * Nk) : 0;
    s.set('delta', rt.alloc(B * H * Nq * 4));
    s.set('dq', dq);
    s.set('dk', dk);
    s.set('dv', dv);
    s.set('dbias', dbias);
    const small = inline(r, QT);
    rt.parallel('attnDelta', Math.ceil((B * H * Nq) / 64), 0, [s.params], small);
    const scratch = rt.call('nbScratch', s.params);
    rt.parallel('nbBackwardQ', B * H * strips, scratch, [s.params], small);
    rt.parallel('nbBackwardKV', B * Hkv * strips, scratch, [s.params], small);
    const f = rt.f32;
    return {
      dq: f.slice(dq >> 2, (dq >> 2) + B * H * Nq * D),
      dk: f.slice(dk >> 2, (dk >> 2) + B * Hkv * Nk * D),
      dv: f.slice(dv >> 2, (dv >> 2) + B * Hkv * Nk * Dv),
      dbias: dbias ? f.slice(dbias >> 2, (dbias >> 2) + B * H * Nq * Nk) : null,
    };
  });
}

/** NeighborhoodAttention on the wasm kernels; maps (`weights`) and JavaScript mods run the reference. */
export function neighborhoodAttentionWasm(
  args: Sig['NeighborhoodAttention']['args'],
  device: Tensor['device'],
): Sig['NeighborhoodAttention']['result'] {
  const { r } = args;
  const fast = args.weights ? null : forwardWasm(device.cpu!, args);
  if (!fast) return flashAttentionReference(args, device);
  return {
    out: device.tensor(fast.out, [r.B, r.H, r.Nq, r.Dv]),
    lse: device.tensor(fast.lse, [r.B, r.H, r.Nq]),
    weights: null,
  };
}

export function neighborhoodAttentionGradWasm(
  args: Sig['NeighborhoodAttentionGrad']['args'],
  device: Tensor['device'],
): Sig['NeighborhoodAttentionGrad']['result'] {
  const g = backwardWasm(device.cpu!, args);
  return g ? gradTensors(device, args.r, g) : flashAttentionGradReference(args, device);
}
