/** Turning a model's per-layer attention maps into the rows of an `AttentionReport`. */
import type { Tensor } from '../tensor.js';
import type { AttentionLayerMap } from './types.js';

/**
 * The report rows of `layers`, read from a forward's per-layer maps (`attentions[layer]`, `[1, heads,
 * queries, keys]`, null for the layers not asked for); every map is disposed once read.
 */
export async function attentionLayerMaps(
  attentions: readonly (Tensor | null | undefined)[],
  layers: readonly number[],
  heads: number,
): Promise<AttentionLayerMap[]> {
  try {
    const weights = await Promise.all(layers.map((layer) => attentions[layer]!.read()));
    return layers.map((layer, i) => ({ layer, heads, weights: weights[i] as Float32Array }));
  } finally {
    for (const map of attentions) map?.dispose();
  }
}
