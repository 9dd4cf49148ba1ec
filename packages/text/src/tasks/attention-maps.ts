/**
 * Attention maps of a models.GPT: the probabilities of every head of one layer for one sequence, for
 * pictures (the CLI demo's heatmap, the web app). The forward pass is GPT.forward's, up to that layer;
 * the layer's q and k come from its own c_attn, and `attention.detailed({ weights: true })` computes
 * the probabilities from the saved lse (the fused path itself never keeps a T x T buffer).
 */
import { add, attention, type models, nn, noGrad, tidy } from '@multihead/core';
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
  const { nLayer, nHead, nEmbd, blockSize, positions } = gpt.config;
  if (!Number.isInteger(layer) || layer < 0 || layer >= nLayer)
    invalidArgument(`gptAttentionMaps: layer ${layer} must be an integer in [0, ${nLayer})`);
  if (ids.length < 1 || ids.length > blockSize)
    invalidArgument(`gptAttentionMaps: ${ids.length} ids; expected 1 to blockSize ${blockSize}`);
  const T = ids.length;
  const hd = nEmbd / nHead;
  gpt.eval();
  const weights = noGrad(() =>
    tidy(() => {
      const device = gpt.device;
      const tr = gpt.transformer;
      let x = tr.wte.forward(device.tensor(Int32Array.from(ids), [1, T], { dtype: 'i32' })); // [1, T, C]
      if (tr.wpe)
        x = add(
          x,
          tr.wpe.forward(
            device.tensor(
              Int32Array.from(ids, (_, i) => i),
              [T],
            ),
          ),
        ); // + [T, C]
      for (let i = 0; i < layer; i++) x = tr.h.at(i).forward(x);
      const block = tr.h.at(layer);
      const qkv = block.attn.c_attn.forward(block.ln_1.forward(x)); // [1, T, 3C]
      const heads = qkv.reshape([1, T, 3, nHead, hd]).permute([2, 0, 3, 1, 4]); // [3, 1, H, T, hd]
      let [q, k, v] = [0, 1, 2].map((j) => heads.slice(0, j, j + 1).squeeze(0)); // [1, H, T, hd]
      if (positions === 'rope') {
        q = nn.applyRope(q!);
        k = nn.applyRope(k!);
      }
      return attention.detailed(q!, k!, v!, { causal: true, weights: true }).weights!; // [1, H, T, T]
    }),
  );
  try {
    return { layer, heads: nHead, length: T, weights: (await weights.read()) as Float32Array };
  } finally {
    weights.dispose();
  }
}
