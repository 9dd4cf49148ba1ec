/**
 * Sampling images from a pixel GPT, all samples in lockstep: one batched forward per pixel with a KV cache
 * per layer, so each new pixel costs one position. Yields every completed image row (of all samples), so
 * an app can draw rows as they come; returns every sample's tokens.
 */
import { models, noGrad, seededUniform, tidy } from '@multihead/core';

export interface PixelSampling {
  count: number;
  side: number;
  /** The begin-of-image token. */
  bos: number;
  /** Tokens given for every sample (raster order, e.g. the top half of an image): completion. */
  prompt?: Uint8Array;
  temperature?: number;
  topK?: number;
  seed: number;
  signal?: AbortSignal;
}

/** Yields `{ row, tokens: [count, side] }` per completed image row; returns `[count, side * side]`. */
export async function* samplePixels(
  gpt: models.GPT,
  opts: PixelSampling,
): AsyncGenerator<{ row: number; tokens: Uint8Array }, Uint8Array, undefined> {
  const { count, side, bos } = opts;
  const pixels = side * side;
  const prompt = opts.prompt ?? new Uint8Array(0);
  const out = new Uint8Array(count * pixels);
  for (let n = 0; n < count; n++) out.set(prompt, n * pixels);
  const uniform = seededUniform(opts.seed);
  const pick: models.GenerateOptions = {
    temperature: opts.temperature ?? 1,
    ...(opts.topK ? { topK: opts.topK } : {}),
    bannedTokens: [bos],
  };
  gpt.eval();
  const caches = gpt.createCaches(count, pixels);
  try {
    // the prompt's rows are complete already
    for (let row = 0; row < Math.floor(prompt.length / side); row++)
      yield { row, tokens: rowOf(out, count, side, row) };
    let feed = new Int32Array(count * (1 + prompt.length));
    for (let n = 0; n < count; n++) {
      feed[n * (1 + prompt.length)] = bos;
      feed.set(prompt, n * (1 + prompt.length) + 1);
    }
    for (let p = prompt.length; p < pixels; p++) {
      if (opts.signal?.aborted) break;
      const T = feed.length / count;
      const logits = noGrad(() =>
        tidy(() => {
          const all = gpt.forward(gpt.device.tensor(feed, [count, T], { dtype: 'i32' }), { caches }); // [count, T, V]
          return all.slice(1, T - 1, T).contiguous(); // [count, 1, V]
        }),
      );
      const values = (await logits.read()) as Float32Array;
      logits.dispose();
      const V = values.length / count;
      feed = new Int32Array(count);
      for (let n = 0; n < count; n++) {
        const token = models.pickToken(values.subarray(n * V, (n + 1) * V), [], pick, uniform);
        out[n * pixels + p] = token;
        feed[n] = token;
      }
      if ((p + 1) % side === 0)
        yield { row: (p + 1) / side - 1, tokens: rowOf(out, count, side, (p + 1) / side - 1) };
    }
    return out;
  } finally {
    for (const c of caches) c.dispose();
  }
}

function rowOf(all: Uint8Array, count: number, side: number, row: number): Uint8Array {
  const tokens = new Uint8Array(count * side);
  for (let n = 0; n < count; n++)
    tokens.set(all.subarray(n * side * side + row * side, n * side * side + (row + 1) * side), n * side);
  return tokens;
}
