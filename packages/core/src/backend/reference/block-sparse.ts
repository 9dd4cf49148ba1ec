/** Block-sparse attention on the reference backend: row by row over the allowed blocks, float64 inside. */
import { gatherStrided } from '../../device.js';
import type { KernelSignatures } from '../../kernels/signatures.js';
import type { Tensor } from '../../tensor.js';

export function blockSparseReference({ r, q, k, v }: KernelSignatures['BlockSparseAttention']['args']): {
  out: Tensor;
  lse: Tensor;
} {
  const { B, H, Hkv, Nq, Nk, D, Dv, bs, nqb, blocks } = r;
  const host = (t: Tensor) =>
    gatherStrided(t.storage.array!, t.dtype, t.shape, t.strides, t.offset) as Float32Array;
  const [qh, kh, vh] = [host(q), host(k), host(v)];
  const out = new Float32Array(B * H * Nq * Dv);
  const lse = new Float32Array(B * H * Nq);
  const scores = new Float64Array(Nk);
  const keys = new Int32Array(Nk);
  const acc = new Float64Array(Dv);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / (H / Hkv));
      for (let i = 0; i < Nq; i++) {
        const row = (b * H + h) * Nq + i;
        const hi = r.causal ? Math.max(0, Math.min(Nk, i + r.shift + 1)) : Nk;
        const qb = Math.floor(i / bs);
        let n = 0;
        let m = Number.NEGATIVE_INFINITY;
        for (let p = blocks[qb]!; p < blocks[qb + 1]!; p++) {
          const j0 = blocks[nqb + 1 + p]! * bs;
          for (let j = j0; j < Math.min(j0 + bs, hi); j++) {
            let dot = 0;
            for (let d = 0; d < D; d++) dot += qh[row * D + d]! * kh[((b * Hkv + hk) * Nk + j) * D + d]!;
            scores[n] = dot * r.scale;
            keys[n++] = j;
            m = Math.max(m, dot * r.scale);
          }
        }
        if (n === 0) {
          lse[row] = Number.NEGATIVE_INFINITY; // out stays zeros
          continue;
        }
        acc.fill(0);
        let l = 0;
        for (let t = 0; t < n; t++) {
          const p = Math.exp(scores[t]! - m);
          l += p;
          const vo = ((b * Hkv + hk) * Nk + keys[t]!) * Dv;
          for (let d = 0; d < Dv; d++) acc[d]! += p * vh[vo + d]!;
        }
        for (let d = 0; d < Dv; d++) out[row * Dv + d] = acc[d]! / l;
        lse[row] = m + Math.log(l);
      }
    }
  const device = q.device;
  return { out: device.tensor(out, [B, H, Nq, Dv]), lse: device.tensor(lse, [B, H, Nq]) };
}
