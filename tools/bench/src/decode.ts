/**
 * Autoregressive decoding speed: `models.generate` producing N tokens after a one-token prompt, with the
 * KV cache (the prompt once, then one position per token, attention on the split-K decode path) and
 * without it (every token re-runs the whole window), on our WebGPU device and our CPU backend. Two
 * models: the text/names GPT (its block is 16 positions, so N past 15 slides the window) and the
 * text/moby GPT (block 128), both with seeded random weights (speed does not depend on training).
 */
import { type Device, models } from '@multihead/core';
import { MOBY_GPT, NAMES_GPT } from '@multihead/text';
import { type BenchEnv, round, timeIt } from './env.js';
import type { BenchRow } from './types.js';

/** The tasks' models; vocabularies as their tokenizers build them (27 + 2 characters, 89 + 1). */
export const DECODE_MODELS = {
  names: { ...NAMES_GPT, vocabSize: 29, dropout: 0 },
  moby: { ...MOBY_GPT, vocabSize: 90, dropout: 0 },
} as const;

async function decode(
  device: Device,
  model: keyof typeof DECODE_MODELS,
  n: number,
  useCache: boolean,
  reps: number,
) {
  const gpt = new models.GPT(device, { ...DECODE_MODELS[model], seed: 1 });
  try {
    // greedy: the same tokens every run, so every timed run does the same work
    const t = await timeIt(
      async () => {
        const out = await models.generate(gpt, [0], { maxNewTokens: n, temperature: 0, useCache });
        if (out.length !== n) throw new Error(`generated ${out.length} tokens, expected ${n}`);
      },
      reps,
      0,
    );
    return { ...t, params: gpt.numParameters() };
  } finally {
    gpt.dispose();
  }
}

export async function benchDecode(
  env: BenchEnv,
  sizes: readonly number[],
  reps: number,
  progress: () => void,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const n of sizes) {
    for (const model of Object.keys(DECODE_MODELS) as (keyof typeof DECODE_MODELS)[]) {
      const base = { bench: 'decode' as const, size: `${model} N${n}` };
      const pair: BenchRow[] = [];
      for (const [impl, device, where] of [
        ['multihead-webgpu', env.gpu, env.adapter],
        ['multihead-cpu', env.cpu, env.cpu.describe()],
      ] as const) {
        for (const useCache of [true, false]) {
          const name = `${impl}${useCache ? '-kvcache' : '-nocache'}`;
          let row: BenchRow;
          try {
            const r = await decode(device, model, n, useCache, reps);
            row = {
              ...base,
              impl: name,
              ms: round(r.ms, 4),
              tokensPerSecond: round((n * 1000) / r.ms),
              params: r.params,
              device: where,
              reps: r.reps,
              iters: r.iters,
            };
          } catch (error) {
            row = {
              ...base,
              impl: name,
              ms: Number.NaN,
              error: String((error as Error)?.message ?? error).slice(0, 300),
              device: where,
              reps: 0,
              iters: 0,
            };
          }
          pair.push(row);
          progress();
        }
        const [cached, uncached] = pair.slice(-2) as [BenchRow, BenchRow];
        if (!cached.error && !uncached.error) cached.cacheSpeedup = round(uncached.ms / cached.ms);
      }
      rows.push(...pair);
    }
  }
  return rows;
}
