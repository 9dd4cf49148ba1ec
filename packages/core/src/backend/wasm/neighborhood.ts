/**
 * Neighbourhood attention on the wasm kernels (wasm/attention-neighborhood*.ts): stages q, k, v and the
 * optional inputs as the dense kernels do (attention.ts, without K's transposed copy: each task packs
 * the key runs it reads), adds the grid to the parameter block, and runs one task per strip of query
 * cells (forward, dQ) or key cells (dK, dV). scoreMod / maskMod and the weights run the reference.
 */
import type { ResolvedAttention } from '../../kernels/attention.js';
import type { KernelSignatures } from '../../kernels/signatures.js';
import {
  ceil8,
  gradNonFinite,
  type KernelOutputs,
  type Staged,
  stageCommon,
  stageForwardOutputs,
  stageGradOutputs,
  type WasmGrads,
  type WasmOutputs,
  wasmCanRun,
  wasmForwardKernel,
  wasmGradKernel,
} from './attention.js';
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
  outputs: KernelOutputs,
): WasmOutputs | null {
  if (!wasmCanRun(r)) return null;
  const { B, H } = r;
  const QT = neighborhoodStrip(rt, r.neighborhood!.kw);
  return rt.scope(() => {
    const s = stageCommon(rt, r, q, k, v, QT, false);
    if (s.nonFinite()) return null; // the reference follows the NaN / Inf policy (attention.ts hasNonFinite)
    const strips = stageGrid(s, r, QT);
    const read = stageForwardOutputs(outputs, s, r);
    rt.parallel('nbForward', B * H * strips, rt.call('nbScratch', s.params), [s.params], inline(r, QT));
    return read();
  });
}

function backwardWasm(
  rt: WasmRuntime,
  { r, q, k, v, out, lse, dout }: Sig['NeighborhoodAttentionGrad']['args'],
  outputs: KernelOutputs,
): WasmGrads | null {
  if (!wasmCanRun(r)) return null;
  const { B, H, Hkv, Nq } = r;
  const QT = neighborhoodStrip(rt, r.neighborhood!.kw);
  return rt.scope(() => {
    const s = stageCommon(rt, r, q, k, v, QT, false);
    const strips = stageGrid(s, r, QT);
    if (gradNonFinite(rt, s, out, lse, dout)) return null;
    const read = stageGradOutputs(rt, outputs, s, r);
    const small = inline(r, QT);
    rt.parallel('attnDelta', Math.ceil((B * H * Nq) / 64), 0, [s.params], small);
    const scratch = rt.call('nbScratch', s.params);
    rt.parallel('nbBackwardQ', B * H * strips, scratch, [s.params], small);
    rt.parallel('nbBackwardKV', B * Hkv * strips, scratch, [s.params], small);
    return read();
  });
}

/** NeighborhoodAttention on the wasm kernels. */
export const neighborhoodAttentionWasm = wasmForwardKernel(forwardWasm);
export const neighborhoodAttentionGradWasm = wasmGradKernel(backwardWasm);
