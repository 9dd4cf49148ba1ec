/** Generation: cache and no cache agree, the sampler's filters, stop tokens, streaming, errors. */
import { describe, expect, it } from 'vitest';
import { getDevices } from '../../test/device.js';
import { models } from '../index.js';

const { dev } = await getDevices();

const config = { vocabSize: 13, blockSize: 24, nLayer: 2, nHead: 2, nEmbd: 16, seed: 9 };

describe('generate', () => {
  it('gives the same tokens with and without the KV cache (greedy and seeded sampling)', async () => {
    const gpt = new models.GPT(dev, config);
    const before = dev.memory().liveTensors;
    const prompt = [1, 5, 2];
    for (const opts of [{ temperature: 0 }, { temperature: 1.3, topK: 6, seed: 4 }, { topP: 0.8, seed: 2 }]) {
      const cached = await models.generate(gpt, prompt, { ...opts, maxNewTokens: 12 });
      const plain = await models.generate(gpt, prompt, { ...opts, maxNewTokens: 12, useCache: false });
      expect(cached).toHaveLength(12);
      expect(cached).toEqual(plain);
    }
    expect(dev.memory().liveTensors).toBe(before); // caches and logits freed
    gpt.dispose();
  });

  it('streams the same tokens, stops after a stop token, and honours an abort signal', async () => {
    const gpt = new models.GPT(dev, config);
    const all = await models.generate(gpt, [3], { maxNewTokens: 10, seed: 7 });
    const streamed: number[] = [];
    for await (const t of models.stream(gpt, [3], { maxNewTokens: 10, seed: 7 })) streamed.push(t);
    expect(streamed).toEqual(all);
    const stopAt = all[4]!;
    const first = all.indexOf(stopAt);
    expect(await models.generate(gpt, [3], { maxNewTokens: 10, seed: 7, stopTokens: [stopAt] })).toEqual(
      all.slice(0, first + 1),
    );
    const controller = new AbortController();
    const got: number[] = [];
    for await (const t of models.stream(gpt, [3], { maxNewTokens: 10, seed: 7, signal: controller.signal })) {
      got.push(t);
      if (got.length === 2) controller.abort();
    }
    expect(got).toEqual(all.slice(0, 2));
    gpt.dispose();
  });

  it('keeps going past blockSize by sliding the window', async () => {
    const gpt = new models.GPT(dev, { ...config, blockSize: 8 });
    const before = dev.memory().liveTensors;
    const out = await models.generate(gpt, [1, 2, 3], { maxNewTokens: 20, temperature: 0 });
    expect(out).toHaveLength(20);
    expect(dev.memory().liveTensors).toBe(before); // caches and logits freed
    gpt.dispose();
  });

  it('refuses bad prompts and options with clear errors', async () => {
    const gpt = new models.GPT(dev, config);
    const run = (prompt: number[], opts = {}) => models.generate(gpt, prompt, opts);
    await expect(run([])).rejects.toThrow(/prompt is empty/);
    await expect(run([1, 13])).rejects.toThrow(/prompt\[1\] = 13 is not a token id in \[0, 13\)/);
    await expect(run([1], { topP: 0 })).rejects.toThrow(/topP 0 must be in \(0, 1\]/);
    await expect(run([1], { temperature: -1 })).rejects.toThrow(/temperature -1 must be >= 0/);
    await expect(run([1], { bannedTokens: [13] })).rejects.toThrow(
      /bannedTokens has 13; expected token ids in \[0, 13\)/,
    );
    await expect(run([1], { logitBias: { 2: Number.NaN } })).rejects.toThrow(/logitBias\[2\] = NaN/);
    await expect(run([1], { logitBias: { '-1': 1 } })).rejects.toThrow(/logitBias has token -1/);
    const all = Array.from({ length: 13 }, (_, i) => i);
    await expect(run([1], { bannedTokens: all.slice(1), logitBias: { 0: -Infinity } })).rejects.toThrow(
      /ban all 13 tokens/,
    );
    gpt.dispose();
  });

  it('never produces banned tokens, with and without the cache', async () => {
    const gpt = new models.GPT(dev, config);
    const free = await models.generate(gpt, [1], { maxNewTokens: 16, temperature: 0 });
    const banned = [...new Set(free)].slice(0, 2); // the greedy path's favourite tokens
    for (const useCache of [true, false]) {
      const out = await models.generate(gpt, [1], {
        maxNewTokens: 16,
        temperature: 0,
        bannedTokens: banned,
        useCache,
      });
      expect(out.some((t) => banned.includes(t))).toBe(false);
      const sampled = await models.generate(gpt, [1], {
        maxNewTokens: 16,
        seed: 3,
        logitBias: new Map(banned.map((t) => [t, -Infinity])),
        useCache,
      });
      expect(sampled.some((t) => banned.includes(t))).toBe(false);
    }
    gpt.dispose();
  });
});

describe('pickToken', () => {
  const logits = Float32Array.from([2, 1, 0.5, 3, -1]);
  const draws = (opts: models.GenerateOptions, n = 4000, context: number[] = []) => {
    let s = 1;
    const uniform = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 4294967296;
    };
    const counts = new Array(5).fill(0);
    for (let i = 0; i < n; i++) counts[models.pickToken(logits, context, opts, uniform)]++;
    return counts.map((c) => c / n);
  };
  const softmax = (x: number[]) => {
    const m = Math.max(...x);
    const e = x.map((v) => Math.exp(v - m));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / z);
  };

  it('greedy takes the argmax; topK 1 and a tiny topP do too', () => {
    expect(draws({ temperature: 0 }, 10)).toEqual([0, 0, 0, 1, 0]);
    expect(draws({ topK: 1 }, 10)).toEqual([0, 0, 0, 1, 0]);
    expect(draws({ topP: 1e-6 }, 10)).toEqual([0, 0, 0, 1, 0]);
  });

  it('samples softmax(logits / T) restricted by top-k and renormalized', () => {
    const full = softmax([2, 1, 0.5, 3, -1].map((v) => v / 0.7));
    draws({ temperature: 0.7 }).forEach((f, i) => {
      expect(Math.abs(f - full[i]!)).toBeLessThan(0.03);
    });
    const top2 = softmax([2, 3]);
    const f = draws({ topK: 2 });
    expect(f[1]! + f[2]! + f[4]!).toBe(0);
    expect(Math.abs(f[0]! - top2[0]!)).toBeLessThan(0.03);
  });

  it('top-p keeps the smallest set reaching p', () => {
    const p = softmax([2, 1, 0.5, 3, -1]); // token 3 ≈ 0.61, token 0 ≈ 0.23: 0.7 needs both
    expect(p[3]!).toBeLessThan(0.7);
    const f = draws({ topP: 0.7 });
    expect(f[1]! + f[2]! + f[4]!).toBe(0);
    expect(Math.abs(f[3]! - p[3]! / (p[3]! + p[0]!))).toBeLessThan(0.03);
  });

  it('logit bias shifts the distribution; bannedTokens and a -Infinity bias remove tokens', () => {
    // +1 on token 2 multiplies its odds by e against the rest
    const biased = softmax([2, 1, 1.5, 3, -1]);
    draws({ logitBias: { 2: 1 } }).forEach((f, i) => {
      expect(Math.abs(f - biased[i]!)).toBeLessThan(0.03);
    });
    expect(draws({ temperature: 0, logitBias: { 4: 10 } }, 5)).toEqual([0, 0, 0, 0, 1]);
    expect(draws({ temperature: 0, bannedTokens: [3] }, 5)).toEqual([1, 0, 0, 0, 0]);
    const f = draws({ bannedTokens: [3], logitBias: new Map([[0, -Infinity]]) });
    expect(f[0]! + f[3]!).toBe(0);
    const rest = softmax([1, 0.5, -1]);
    expect(Math.abs(f[1]! - rest[0]!)).toBeLessThan(0.03);
  });

  it("repetition penalty follows Hugging Face's rule (positive / p, negative · p)", () => {
    // token 3 (logit 3) seen: 3 / 4 = 0.75 < 2, so greedy now picks token 0
    expect(draws({ temperature: 0, repetitionPenalty: 4 }, 5, [3])).toEqual([1, 0, 0, 0, 0]);
    // a negative logit gets more negative: token 4 never wins even with everything else seen
    expect(draws({ temperature: 0, repetitionPenalty: 100 }, 5, [0, 1, 2, 3, 4])[4]).toBe(0);
  });
});
