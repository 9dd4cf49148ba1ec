/**
 * Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers", §3): how much each
 * input patch flows into the classified token through every layer, treating the residual connection as an
 * identity path beside attention. Per layer l, with A_l the [T, T] probabilities averaged over heads:
 *
 *   Â_l = rownorm(A_l + I)          (= 0.5·A_l + 0.5·I, since A_l's rows sum to 1)
 *   R   = Â_L · … · Â_2 · Â_1       (row i: how token i at the top mixes the input tokens)
 *
 * The result is the class token's row of R over the patch columns (its own column dropped), reshaped to the
 * patch grid. A model without a class token classifies the mean of its tokens, so the mean of R's rows
 * stands for that row. Values are left as R gives them (in [0, 1], summing with the class column to 1);
 * scale them for display. Pure host arithmetic in float64, over maps already read from the device.
 */
import { MultiheadError } from '@multihead/core';

/** One layer's attention probabilities on the host: [B, H, T, T], row-major (as `forwardDetailed` gives them). */
export interface AttentionMap {
  data: ArrayLike<number>;
  shape: readonly number[];
}

/** The patch grid [gh, gw]: T = gh·gw tokens, plus one first for a class token. */
export type RolloutGrid = readonly [number, number];

const invalid = (message: string): never => {
  throw new MultiheadError('INVALID_ARGUMENT', message);
};

/**
 * maps: one [B, H, T, T] per layer, first layer first; grid [gh, gw]. Whether a class token leads is read from
 * T (gh·gw + 1: yes; gh·gw: no). Returns [B, gh, gw].
 */
export function attentionRollout(
  maps: readonly AttentionMap[],
  grid: RolloutGrid,
): { data: Float32Array; shape: [number, number, number] } {
  if (maps.length === 0) invalid('attentionRollout: maps is empty; pass one [B, H, T, T] map per layer');
  const [gh, gw] = grid;
  if (!Number.isInteger(gh) || !Number.isInteger(gw) || gh < 1 || gw < 1)
    invalid(`attentionRollout: grid must be two positive integers [gh, gw], got [${grid.join(', ')}]`);
  const [B, H, T] = maps[0]!.shape as [number, number, number, number];
  const patches = gh * gw;
  if (T !== patches && T !== patches + 1) {
    invalid(
      `attentionRollout: maps have ${T} tokens; a ${gh} × ${gw} grid has ${patches} (or ${patches + 1} with a class token)`,
    );
  }
  maps.forEach((m, l) => {
    const ok = m.shape.length === 4 && m.shape.every((d, i) => d === [B, H, T, T][i]);
    if (!ok || m.data.length !== B * H * T * T) {
      invalid(
        `attentionRollout: map ${l} is [${m.shape.join(', ')}] with ${m.data.length} values; expected [${B}, ${H}, ${T}, ${T}] like map 0`,
      );
    }
  });
  const classToken = T === patches + 1;
  const out = new Float32Array(B * patches);
  let rollout = new Float64Array(T * T);
  let next = new Float64Array(T * T);
  const layer = new Float64Array(T * T);
  for (let b = 0; b < B; b++) {
    maps.forEach((m, l) => {
      meanOverHeadsPlusIdentity(m.data, b, H, T, layer);
      if (l === 0) rollout.set(layer);
      else {
        matmulSquare(layer, rollout, next, T); // Â_l · R
        [rollout, next] = [next, rollout];
      }
    });
    for (let k = 0; k < patches; k++) {
      let v = 0;
      if (classToken)
        v = rollout[k + 1]!; // row 0, column 1 + k
      else {
        for (let i = 0; i < T; i++) v += rollout[i * T + k]!;
        v /= T;
      }
      out[b * patches + k] = v;
    }
  }
  return { data: out, shape: [B, gh, gw] };
}

/** Â = rownorm(mean_h A[b, h] + I) into `out` [T, T]. */
function meanOverHeadsPlusIdentity(
  data: ArrayLike<number>,
  b: number,
  H: number,
  T: number,
  out: Float64Array,
) {
  out.fill(0);
  for (let h = 0; h < H; h++) {
    const base = (b * H + h) * T * T;
    for (let e = 0; e < T * T; e++) out[e]! += data[base + e]! / H;
  }
  for (let i = 0; i < T; i++) {
    out[i * T + i]! += 1;
    let rowSum = 0;
    for (let j = 0; j < T; j++) rowSum += out[i * T + j]!;
    for (let j = 0; j < T; j++) out[i * T + j]! /= rowSum;
  }
}

/** out = a · b for [T, T] matrices. */
function matmulSquare(a: Float64Array, b: Float64Array, out: Float64Array, T: number) {
  out.fill(0);
  for (let i = 0; i < T; i++) {
    for (let k = 0; k < T; k++) {
      const aik = a[i * T + k]!;
      for (let j = 0; j < T; j++) out[i * T + j]! += aik * b[k * T + j]!;
    }
  }
}
