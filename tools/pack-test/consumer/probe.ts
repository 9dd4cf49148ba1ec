/**
 * What a user of the published packages does, written once for Node, the browser and the strict type check
 * (test/pack.test.ts copies this folder into a temporary project that installed the packed tarballs): a
 * device, fused attention, a tokenizer, and a tiny model forward on the names checkpoint that
 * @multihead/text ships, loaded from bytes (`io.loadCheckpoint`). The numbers go back as JSON.
 */
import { attention, createDevice, io, models } from '@multihead/core';
import { Tokenizer } from '@multihead/text';

export interface ProbeResult {
  backend: string;
  reason: string;
  /** Causal attention of q = k = v = sin(i), [1, 2, 4, 8]. */
  attention: number[];
  ids: number[];
  decoded: string;
  /** The GPT's logits at the last position after the prompt. */
  lastLogits: number[];
}

export async function probe(checkpoint: Uint8Array, backend: 'auto' | 'cpu'): Promise<ProbeResult> {
  const device = await createDevice({ backend });
  const values = Float32Array.from({ length: 1 * 2 * 4 * 8 }, (_, i) => Math.sin(i));
  using q = device.tensor(values, [1, 2, 4, 8]); // [B, H, N, D]; `using` needs Symbol.dispose typed
  using out = attention(q, q, q, { causal: true });
  const attended = Array.from(await out.read());

  const loaded = io.loadCheckpoint(checkpoint);
  const config = loaded.metadata['config'] as Omit<models.GPTConfig, 'seed'>;
  type Special = NonNullable<Parameters<typeof Tokenizer.fromJSON>[1]>['specialTokens'];
  const preprocessing = loaded.metadata['preprocessing'] as { tokenizer: string; specialTokens: Special };
  const { tokenizer: json, specialTokens } = preprocessing;
  const tokenizer = Tokenizer.fromJSON(json, specialTokens ? { specialTokens } : {});
  const { ids } = tokenizer.encode('mar');
  const gpt = new models.GPT(device, { ...config, seed: 0 });
  gpt.loadStateDict(loaded.model);
  gpt.eval();
  using input = device.tensor(Int32Array.from(ids), [1, ids.length]);
  using logits = gpt.forward(input); // [1, T, V]
  const all = await logits.read();
  const vocab = config.vocabSize;
  const result = {
    backend: device.backend,
    reason: device.reason,
    attention: attended,
    ids,
    decoded: tokenizer.decode(ids),
    lastLogits: Array.from(all.subarray(all.length - vocab)),
  };
  device.destroy();
  return result;
}
