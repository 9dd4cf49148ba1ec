/** gptAttentionMaps against the probabilities computed by hand from the layer's own q and k. */
import { add, createDevice, type Device, models, noGrad, tidy } from '@multihead/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { gptAttentionMaps } from './attention-maps.js';

let device: Device;
beforeAll(async () => {
  device = await createDevice({ backend: 'cpu' });
});

/** softmax(q kᵀ / sqrt(hd)) with the causal mask, per head, in float64 from layer `layer`'s c_attn. */
async function byHand(gpt: models.GPT, ids: number[], layer: number): Promise<Float64Array> {
  const { nHead, nEmbd } = gpt.config;
  const [T, hd] = [ids.length, nEmbd / nHead];
  const qkv = noGrad(() =>
    tidy(() => {
      const tr = gpt.transformer;
      const positions = device.tensor(
        Int32Array.from(ids, (_, i) => i),
        [T],
      );
      let x = add(
        tr.wte.forward(device.tensor(Int32Array.from(ids), [1, T], { dtype: 'i32' })),
        tr.wpe!.forward(positions),
      );
      for (let i = 0; i < layer; i++) x = tr.h.at(i).forward(x);
      const block = tr.h.at(layer);
      return block.attn.c_attn.forward(block.ln_1.forward(x)); // [1, T, 3C]: q | k | v, heads inside
    }),
  );
  const a = (await qkv.read()) as Float32Array;
  qkv.dispose();
  const at = (t: number, part: number, h: number, d: number) => a[t * 3 * nEmbd + part * nEmbd + h * hd + d]!;
  const w = new Float64Array(nHead * T * T);
  for (let h = 0; h < nHead; h++)
    for (let i = 0; i < T; i++) {
      const s = Array.from({ length: i + 1 }, (_, j) => {
        let dot = 0;
        for (let d = 0; d < hd; d++) dot += at(i, 0, h, d) * at(j, 1, h, d);
        return dot / Math.sqrt(hd);
      });
      const m = Math.max(...s);
      const e = s.map((x) => Math.exp(x - m));
      const z = e.reduce((p, x) => p + x, 0);
      e.forEach((x, j) => {
        w[(h * T + i) * T + j] = x / z;
      });
    }
  return w;
}

describe('gptAttentionMaps', () => {
  it("gives each head's causal probabilities of the chosen layers, from one forward", async () => {
    const gpt = new models.GPT(device, {
      vocabSize: 13,
      blockSize: 8,
      nLayer: 2,
      nHead: 2,
      nEmbd: 16,
      seed: 3,
    });
    const ids = [3, 1, 4, 1, 5, 9];
    const maps = await gptAttentionMaps(gpt, ids, [1, 0]);
    expect(maps.map((m) => [m.layer, m.heads, m.weights.length])).toEqual([
      [1, 2, 2 * 6 * 6],
      [0, 2, 2 * 6 * 6],
    ]);
    for (const map of maps) {
      const want = await byHand(gpt, ids, map.layer);
      for (let n = 0; n < want.length; n++) expect(Math.abs(map.weights[n]! - want[n]!)).toBeLessThan(1e-5);
    }
    // nothing but the weights' host copy outlives the call
    const live = device.memory().liveTensors;
    await gptAttentionMaps(gpt, ids, [1]);
    expect(device.memory().liveTensors).toBe(live);
    await expect(gptAttentionMaps(gpt, ids, [2])).rejects.toThrow(/layer 2 must be an integer in \[0, 2\)/);
    await expect(gptAttentionMaps(gpt, [], [0])).rejects.toThrow(/0 ids; expected 1 to blockSize 8/);
    gpt.dispose();
  });
});
