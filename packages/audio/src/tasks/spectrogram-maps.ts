/**
 * What the attention report draws under the maps of a spectrogram classifier: the input's log-mel as a
 * gray picture, and attention rollout (Abnar & Zuidema 2020) over its tokens. The model pools by the mean
 * of its tokens rather than a class token, so the rollout is the mean of the rolled-out rows: how much
 * each input token flows into the pooled vector.
 */
import type { tasks } from '@multihead/core';

/**
 * Rollout over `tokens` tokens from per-layer maps `[heads, tokens, tokens]` (first layer first): heads
 * averaged, the identity added for the residual and rows renormalized, layers multiplied; then the mean
 * over query rows. Returns `[tokens]`, summing to 1.
 */
export function meanPoolRollout(maps: readonly Float32Array[], heads: number, tokens: number): Float32Array {
  const T = tokens;
  let rolled = new Float64Array(T * T);
  for (let i = 0; i < T; i++) rolled[i * T + i] = 1;
  for (const map of maps) {
    const a = new Float64Array(T * T);
    for (let h = 0; h < heads; h++) for (let k = 0; k < T * T; k++) a[k]! += map[h * T * T + k]! / heads;
    for (let i = 0; i < T; i++) {
      a[i * T + i]! += 1;
      let sum = 0;
      for (let j = 0; j < T; j++) sum += a[i * T + j]!;
      for (let j = 0; j < T; j++) a[i * T + j]! /= sum;
    }
    const next = new Float64Array(T * T); // a @ rolled
    for (let i = 0; i < T; i++)
      for (let k = 0; k < T; k++) {
        const w = a[i * T + k]!;
        if (w !== 0) for (let j = 0; j < T; j++) next[i * T + j]! += w * rolled[k * T + j]!;
      }
    rolled = next;
  }
  const out = new Float32Array(T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) out[j]! += rolled[i * T + j]! / T;
  return out;
}

/**
 * Normalized log-mel in [-1, 1] as a gray picture `bins` high and `frames` wide, low frequencies at the
 * bottom (as spectrograms are drawn). `features` is `[frames, stride]` row-major with the log-mel in the
 * first `bins` values of a frame (default stride: bins).
 */
export function spectrogramImage(
  features: Float32Array,
  frames: number,
  bins: number,
  stride = bins,
): tasks.Pixels {
  const data = new Uint8Array(frames * bins);
  for (let t = 0; t < frames; t++) {
    for (let b = 0; b < bins; b++) {
      const v = (features[t * stride + b]! + 1) / 2;
      data[(bins - 1 - b) * frames + t] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return { width: frames, height: bins, channels: 1, data };
}
