/** What the attention tests share: one forward and backward read to the host, and their comparisons. */
import { type AttentionOptions, attention, attentionBackward, type Tensor } from '../src/index.js';
import { expectClose } from './device.js';

interface AttentionGrads {
  dq: ArrayLike<number>;
  dk: ArrayLike<number>;
  dv: ArrayLike<number>;
  dbias: ArrayLike<number> | null;
}

/**
 * `attention.detailed` and `attentionBackward` with upstream gradient `dout`: out, lse and the gradients
 * (dbias null without a bias) read to the host; the tensors they made are disposed.
 */
export async function forwardBackward(q: Tensor, k: Tensor, v: Tensor, dout: Tensor, opts: AttentionOptions) {
  const { out, lse } = attention.detailed(q, k, v, opts);
  const g = attentionBackward(q, k, v, out, lse, dout, opts);
  const read = async (t: Tensor) => (await t.read()) as Float32Array;
  const result = {
    out: await read(out),
    lse: await read(lse),
    dq: await read(g.dq),
    dk: await read(g.dk),
    dv: await read(g.dv),
    dbias: g.dbias ? await read(g.dbias) : null,
  };
  for (const t of [out, lse, g.dq, g.dk, g.dv, g.dbias]) t?.dispose();
  return result;
}

/**
 * The entries where `got` breaks the NaN / Inf policy of attention (docs/api.md "Attention") against
 * `want`: NaN, +Inf and -Inf in the same places, finite values within atol + rtol·|want|.
 */
export function policyMismatches(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol: number,
): string[] {
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const ok = Number.isFinite(w)
      ? Math.abs(g - w) <= atol + rtol * Math.abs(w)
      : Number.isNaN(w)
        ? Number.isNaN(g)
        : g === w;
    if (!ok) bad.push(`[${i}] got ${g}, want ${w}`);
  }
  return bad;
}

/** dq, dk, dv (and dbias where `want` has one) within 2e-5 + 1e-4·|want|, named with `tag`. */
export function expectGradsClose(got: AttentionGrads, want: AttentionGrads, tag: string): void {
  expectClose(got.dq, want.dq, 2e-5, 1e-4, `dq ${tag}`);
  expectClose(got.dk, want.dk, 2e-5, 1e-4, `dk ${tag}`);
  expectClose(got.dv, want.dv, 2e-5, 1e-4, `dv ${tag}`);
  if (want.dbias) expectClose(got.dbias!, want.dbias, 2e-5, 1e-4, `dbias ${tag}`);
}
