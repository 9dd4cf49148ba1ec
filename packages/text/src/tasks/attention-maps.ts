/**
 * Attention maps of a models.GPT: the probabilities of every head of the chosen layers for one sequence,
 * for pictures (the CLI's heatmaps, the web app), from `GPT.forwardDetailed({ attentionWeights })`: the
 * fused kernel recomputes them from its saved lse (it never keeps a T x T buffer itself).
 */
import { type models, noGrad, type tasks, tidy } from '@multihead/core';
import { invalidArgument } from '../errors.js';

/** One forward over `ids`; per layer asked for, `[heads, T, T]` weights (query i attends to key j). */
export async function gptAttentionMaps(
  gpt: models.GPT,
  ids: readonly number[],
  layers: readonly number[],
): Promise<tasks.AttentionLayerMap[]> {
  const { nLayer, nHead, blockSize } = gpt.config;
  for (const layer of layers) {
    if (!Number.isInteger(layer) || layer < 0 || layer >= nLayer)
      invalidArgument(`gptAttentionMaps: layer ${layer} must be an integer in [0, ${nLayer})`);
  }
  if (ids.length < 1 || ids.length > blockSize)
    invalidArgument(`gptAttentionMaps: ${ids.length} ids; expected 1 to blockSize ${blockSize}`);
  const T = ids.length;
  gpt.eval();
  // tidy frees the input, the logits and every intermediate of the forward; only the maps survive
  const weights = noGrad(() =>
    tidy(() => {
      const input = gpt.device.tensor(Int32Array.from(ids), [1, T], { dtype: 'i32' });
      const { attentions } = gpt.forwardDetailed(input, { attentionWeights: [...layers] });
      return layers.map((layer) => attentions[layer]!); // [1, H, T, T] each
    }),
  );
  try {
    const read = await Promise.all(weights.map((w) => w.read()));
    return layers.map((layer, i) => ({ layer, heads: nHead, weights: read[i] as Float32Array }));
  } finally {
    for (const w of weights) w.dispose();
  }
}
