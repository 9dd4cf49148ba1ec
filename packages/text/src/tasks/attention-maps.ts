/**
 * Attention maps of a models.GPT: the probabilities of every head of one layer for one sequence, for
 * pictures (the CLI demo's heatmap, the web app), from `GPT.forwardDetailed({ attentionWeights })`:
 * the fused kernel recomputes them from its saved lse (it never keeps a T x T buffer itself).
 */
import { type models, noGrad, tidy } from '@multihead/core';
import { invalidArgument } from '../errors.js';

export interface AttentionMaps {
  layer: number;
  heads: number;
  /** Tokens (rows and columns). */
  length: number;
  /** [heads, length, length] row-major: weights[h][i][j] = how much query i attends to key j (causal). */
  weights: Float32Array;
}

export async function gptAttentionMaps(
  gpt: models.GPT,
  ids: readonly number[],
  layer: number,
): Promise<AttentionMaps> {
  const { nLayer, nHead, blockSize } = gpt.config;
  if (!Number.isInteger(layer) || layer < 0 || layer >= nLayer)
    invalidArgument(`gptAttentionMaps: layer ${layer} must be an integer in [0, ${nLayer})`);
  if (ids.length < 1 || ids.length > blockSize)
    invalidArgument(`gptAttentionMaps: ${ids.length} ids; expected 1 to blockSize ${blockSize}`);
  const T = ids.length;
  gpt.eval();
  // tidy frees the input, the logits and every intermediate of the forward; only the map survives
  const weights = noGrad(() =>
    tidy(() => {
      const input = gpt.device.tensor(Int32Array.from(ids), [1, T], { dtype: 'i32' });
      return gpt.forwardDetailed(input, { attentionWeights: [layer] }).attentions[layer]!; // [1, H, T, T]
    }),
  );
  try {
    return { layer, heads: nHead, length: T, weights: (await weights.read()) as Float32Array };
  } finally {
    weights.dispose();
  }
}
