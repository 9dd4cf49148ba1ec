/**
 * The CPU reference for every attention option: the oracle the WGSL kernels are tested against.
 * Row by row with an online softmax over one row of scores at a time: memory stays linear in N here too.
 */
import { gatherStrided } from '../../device.js';
import { keyRange, type ResolvedAttention } from '../../kernels/attention.js';
import { neighborhoodKeys } from '../../kernels/neighborhood.js';
import { hashKey, unit } from '../../kernels/random.js';
import type { KernelSignatures } from '../../kernels/signatures.js';
import type { Tensor } from '../../tensor.js';

interface Views {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  mask: Uint8Array | null;
  bias: Float32Array | null;
  modTensors: Record<string, Float32Array>;
}

/** Row-major host copies of CPU-backend tensors (synchronous: the CPU backend's storage is host memory). */
export function hostViews(r: ResolvedAttention, q: Tensor, k: Tensor, v: Tensor): Views {
  const host = (t: Tensor) => gatherStrided(t.storage.array!, t.dtype, t.shape, t.strides, t.offset);
  const read = (t: Tensor) => host(t) as Float32Array;
  const modTensors: Record<string, Float32Array> = {};
  for (const mod of [r.scoreMod, r.maskMod]) {
    for (const [name, t] of Object.entries(mod?.tensors ?? {})) modTensors[name] = read(t);
  }
  return {
    q: read(q),
    k: read(k),
    v: read(v),
    mask: r.mask ? (host(r.mask.tensor) as Uint8Array) : null,
    bias: r.bias ? read(r.bias.tensor) : null,
    modTensors,
  };
}

/** Dropout factor of (b, h, i, j): the TS twin of WGSL `dropKeep` (same counter, same hash). */
function dropKeep(r: ResolvedAttention): (b: number, h: number, i: number, j: number) => number {
  if (r.dropP === 0) return () => 1;
  const { key0: k0, key1: k1 } = hashKey(r.dropSeed);
  const scale = 1 / (1 - r.dropP);
  return (b, h, i, j) =>
    unit((((b * r.H + h) * r.Nq + i) * r.Nk + j) >>> 0, k0, k1) >= Math.fround(r.dropP) ? scale : 0;
}

/** Index of [b, h, i, j] in a tensor broadcast to [B, H, Nq, Nk], through its row-major source shape. */
function bcastIndex(t: Tensor, b: number, h: number, i: number, j: number): number {
  // host copies are contiguous: rebuild contiguous strides over the broadcast target
  const shape = [...new Array(4 - t.rank).fill(1), ...t.shape];
  const idx = [b, h, i, j].map((x, d) => (shape[d] === 1 ? 0 : x));
  let off = 0;
  for (let d = 0; d < 4; d++) off = off * shape[d]! + idx[d]!;
  return off;
}

/**
 * Score of (b, h, i, j): raw = scale·q·k, t = softcap(raw) + bias, s = scoreMod(t); null when masked.
 */
function makeScorer(r: ResolvedAttention, x: Views) {
  const { D } = r;
  return (b: number, h: number, i: number, j: number): { s: number; t: number; raw: number } | null => {
    if (r.mask && !x.mask![bcastIndex(r.mask.tensor, b, h, i, j)]) return null;
    if (r.maskMod && !r.maskMod.ts(b, h, i, j, x.modTensors)) return null;
    const hk = Math.floor(h / (r.H / r.Hkv));
    const qo = ((b * r.H + h) * r.Nq + i) * D;
    const ko = ((b * r.Hkv + hk) * r.Nk + j) * D;
    let dot = 0;
    for (let d = 0; d < D; d++) dot += x.q[qo + d]! * x.k[ko + d]!;
    const raw = dot * r.scale;
    let t = r.softcap > 0 ? r.softcap * Math.tanh(raw / r.softcap) : raw;
    if (r.bias) t += x.bias![bcastIndex(r.bias.tensor, b, h, i, j)]!;
    const s = r.scoreMod ? r.scoreMod.ts(t, b, h, i, j, x.modTensors) : t;
    return { s, t, raw };
  };
}

/**
 * The keys query row i of batch b sees before per-element masks, ascending, into `buf` (Nk long);
 * returns how many: the causal / window / kvLens range, or the 2-D neighbourhood (kh·kw keys at most).
 */
function visibleKeys(r: ResolvedAttention, b: number, i: number, buf: Int32Array): number {
  if (r.neighborhood) {
    const end = r.kvLens ? r.kvLens[b]! : r.Nk;
    return neighborhoodKeys(r.neighborhood, r.Nq, r.Nk, i, end, buf);
  }
  const [lo, hi] = keyRange(r, i, b);
  for (let j = lo; j < hi; j++) buf[j - lo] = j;
  return hi - lo;
}

export interface CpuForward {
  out: Float32Array;
  lse: Float32Array;
  weights: Float32Array | null;
}

export function attentionForwardCpu(r: ResolvedAttention, x: Views, withWeights: boolean): CpuForward {
  const { B, H, Nq, Nk, Dv } = r;
  const out = new Float32Array(B * H * Nq * Dv);
  const lse = new Float32Array(B * H * Nq);
  const weights = withWeights ? new Float32Array(B * H * Nq * Nk) : null;
  const score = makeScorer(r, x);
  const keep = dropKeep(r);
  const scores = new Float64Array(Nk);
  const keys = new Int32Array(Nk);
  const acc = new Float64Array(Dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / (H / r.Hkv));
      for (let i = 0; i < Nq; i++) {
        const n = visibleKeys(r, b, i, keys);
        // NaN / Inf policy (docs/api.md "Attention"): IEEE arithmetic over the keys the row attends to;
        // a masked key, or one whose score is -inf, takes no part (its v is never read). Math.max keeps a
        // NaN score, so a NaN anywhere in the row makes m, lse and the whole output row NaN.
        let m = Number.NEGATIVE_INFINITY;
        let live = 0;
        for (let t = 0; t < n; t++) {
          const j = keys[t]!;
          const s = score(b, h, i, j);
          scores[j] = s === null ? Number.NEGATIVE_INFINITY : s.s;
          if (scores[j] !== Number.NEGATIVE_INFINITY) {
            live++;
            m = Math.max(m, scores[j]!);
          }
        }
        const row = (b * H + h) * Nq + i;
        acc.fill(0);
        let sum = 0;
        for (let t = 0; live > 0 && t < n; t++) {
          const j = keys[t]!;
          if (scores[j] === Number.NEGATIVE_INFINITY) continue;
          const p = Math.exp(scores[j]! - m); // NaN for a NaN score or m, and for +inf - +inf
          sum += p;
          const vo = ((b * r.Hkv + hk) * Nk + j) * Dv;
          const pd = p * keep(b, h, i, j);
          for (let d = 0; d < Dv; d++) acc[d]! += pd * x.v[vo + d]!;
        }
        // a row with no key to attend to: zeros and lse = -inf, never NaN
        lse[row] = live > 0 ? m + Math.log(sum) : Number.NEGATIVE_INFINITY;
        for (let d = 0; d < Dv; d++) out[row * Dv + d] = live > 0 ? acc[d]! / sum : 0;
        if (weights && live > 0) {
          for (let t = 0; t < n; t++) {
            const j = keys[t]!;
            if (scores[j] !== Number.NEGATIVE_INFINITY)
              weights[row * Nk + j] = Math.exp(scores[j]! - m) / sum;
          }
        }
      }
    }
  }
  return { out, lse, weights };
}

export interface CpuBackward {
  dq: Float32Array;
  dk: Float32Array;
  dv: Float32Array;
  /** Gradient of the bias in the full [B, H, Nq, Nk] shape (summed to the bias's shape by the caller). */
  dbias: Float32Array | null;
}

/** FlashAttention-2 backward (Alg. 2) in float64: P from the saved lse, dS = P ∘ (dP − rowsum(dO ∘ O)). */
export function attentionBackwardCpu(
  r: ResolvedAttention,
  x: Views,
  out: Float32Array,
  lse: Float32Array,
  dout: Float32Array,
): CpuBackward {
  const { B, H, Hkv, Nq, Nk, D, Dv } = r;
  const dq = new Float64Array(B * H * Nq * D);
  const dk = new Float64Array(B * Hkv * Nk * D);
  const dv = new Float64Array(B * Hkv * Nk * Dv);
  const dbias = r.bias ? new Float32Array(B * H * Nq * Nk) : null;
  const score = makeScorer(r, x);
  const keep = dropKeep(r);
  const keys = new Int32Array(Nk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / (H / Hkv));
      for (let i = 0; i < Nq; i++) {
        const row = (b * H + h) * Nq + i;
        const l = lse[row]!;
        if (l === Number.NEGATIVE_INFINITY) continue;
        let delta = 0;
        for (let d = 0; d < Dv; d++) delta += dout[row * Dv + d]! * out[row * Dv + d]!;
        const n = visibleKeys(r, b, i, keys);
        for (let t = 0; t < n; t++) {
          const j = keys[t]!;
          const s = score(b, h, i, j);
          // as the forward: masked and -inf keys take no part; a NaN lse makes every term of the row NaN
          if (s === null || s.s === Number.NEGATIVE_INFINITY) continue;
          const p = Math.exp(s.s - l);
          const vo = ((b * Hkv + hk) * Nk + j) * Dv;
          const kj = keep(b, h, i, j);
          let dp = 0;
          for (let d = 0; d < Dv; d++) {
            dp += dout[row * Dv + d]! * x.v[vo + d]!;
            dv[vo + d]! += p * kj * dout[row * Dv + d]!;
          }
          let ds = p * (dp * kj - delta); // dL/ds
          if (r.scoreMod?.gradTs) ds *= r.scoreMod.gradTs(s.t, b, h, i, j, x.modTensors); // dL/dt
          if (dbias) dbias[row * Nk + j] = ds;
          if (r.softcap > 0) {
            const t = Math.tanh(s.raw / r.softcap);
            ds *= 1 - t * t;
          }
          const ko = ((b * Hkv + hk) * Nk + j) * D;
          for (let d = 0; d < D; d++) {
            dq[row * D + d]! += ds * r.scale * x.k[ko + d]!;
            dk[ko + d]! += ds * r.scale * x.q[row * D + d]!;
          }
        }
      }
    }
  }
  return { dq: Float32Array.from(dq), dk: Float32Array.from(dk), dv: Float32Array.from(dv), dbias };
}

type Sig = KernelSignatures;

/** FlashAttention (and NeighborhoodAttention: `r.neighborhood` picks the keys) on the host. */
export function flashAttentionReference(
  { r, q, k, v, weights }: Sig['NeighborhoodAttention']['args'],
  device: Tensor['device'],
): Sig['FlashAttention']['result'] {
  const { B, H, Nq, Nk, Dv } = r;
  const fwd = attentionForwardCpu(r, hostViews(r, q, k, v), weights);
  return {
    out: device.tensor(fwd.out, [B, H, Nq, Dv]),
    lse: device.tensor(fwd.lse, [B, H, Nq]),
    weights: fwd.weights ? device.tensor(fwd.weights, [B, H, Nq, Nk]) : null,
  };
}

export function flashAttentionGradReference(
  { r, q, k, v, out, lse, dout }: Sig['FlashAttentionGrad']['args'],
  device: Tensor['device'],
): Sig['FlashAttentionGrad']['result'] {
  const host = (t: Tensor) =>
    gatherStrided(t.storage.array!, t.dtype, t.shape, t.strides, t.offset) as Float32Array;
  const g = attentionBackwardCpu(r, hostViews(r, q, k, v), host(out), host(lse), host(dout));
  return gradTensors(device, r, g);
}

/** Host gradients (the wasm kernels' too) as tensors: dq, dk, dv, and dbias [B, H, Nq, Nk] when present. */
export function gradTensors(
  device: Tensor['device'],
  r: Pick<Sig['FlashAttentionGrad']['args']['r'], 'B' | 'H' | 'Hkv' | 'Nq' | 'Nk' | 'D' | 'Dv'>,
  g: { dq: Float32Array; dk: Float32Array; dv: Float32Array; dbias: Float32Array | null },
): Sig['FlashAttentionGrad']['result'] {
  const { B, H, Hkv, Nq, Nk, D, Dv } = r;
  return {
    dq: device.tensor(g.dq, [B, H, Nq, D]),
    dk: device.tensor(g.dk, [B, Hkv, Nk, D]),
    dv: device.tensor(g.dv, [B, Hkv, Nk, Dv]),
    dbias: g.dbias ? device.tensor(g.dbias, [B, H, Nq, Nk]) : null,
  };
}
