/**
 * The two models on tiny configurations: shapes, names, attention maps (rows are distributions; the
 * decoder's are causal), the decoder's KV-cache path against the full forward, causality, generation with
 * core's sampler with and without the cache (the same tokens within blockSize) and past blockSize, and the rollout used under the classifier's maps.
 */
import { type Device, models, noGrad, tidy } from '@multihead/core';
import { getDevices } from '@multihead/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { MusicTransformer, meanPoolRollout, SpectrogramTransformer } from '../src/index.js';

let device: Device;
beforeAll(async () => {
  device = (await getDevices()).dev;
});

const classifier = () =>
  new SpectrogramTransformer(device, {
    frameFeatures: 6,
    maxFrames: 12,
    frameStride: 3,
    dModel: 16,
    nHead: 2,
    nLayer: 2,
    dimFeedforward: 32,
    numClasses: 5,
    seed: 4,
  });

describe('SpectrogramTransformer', () => {
  it('reads [B, frames, features] in tokens of frameStride frames and gives logits and maps', async () => {
    const model = classifier();
    model.eval();
    const x = device.tensor(
      Float32Array.from({ length: 2 * 12 * 6 }, (_, i) => Math.sin(i)),
      [2, 12, 6],
    );
    const { logits, attentions } = noGrad(() => model.forwardDetailed(x, { attentionWeights: [1] }));
    expect(logits.shape).toEqual([2, 5]);
    expect(attentions[0]).toBeNull();
    expect(attentions[1]!.shape).toEqual([2, 2, 4, 4]);
    const maps = (await attentions[1]!.read()) as Float32Array;
    for (let row = 0; row < 2 * 2 * 4; row++) {
      expect(maps.subarray(row * 4, row * 4 + 4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    const twin = classifier();
    twin.eval();
    const again = noGrad(() => twin.forward(x));
    const plain = noGrad(() => model.forward(x));
    expect(await again.read()).toEqual(await plain.read()); // same seed, same weights
    const [a, b] = [(await plain.read()) as Float32Array, (await logits.read()) as Float32Array];
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5); // the maps' pass
    const shorter = noGrad(() => model.forward(x.slice(1, 0, 6))); // fewer frames: fewer positions
    expect(shorter.shape).toEqual([2, 5]);
    expect(() => model.forward(x.slice(1, 0, 5))).toThrow(
      /expected \[batch, frames, 6\] with frames a multiple of 3 up to 12/,
    );
    for (const t of [x, logits, again, plain, shorter, ...attentions]) t?.dispose();
    expect(Object.keys(model.stateDict())).toEqual(
      expect.arrayContaining([
        'frame_proj.weight',
        'pos_embedding',
        'encoder.layers.1.self_attn.in_proj_weight',
        'encoder.norm.weight',
        'head.bias',
      ]),
    );
    model.dispose();
  });

  it('refuses a config that cannot be built', () => {
    expect(
      () =>
        new SpectrogramTransformer(device, {
          frameFeatures: 6,
          maxFrames: 10,
          frameStride: 3,
          dModel: 16,
          nHead: 2,
          nLayer: 1,
          dimFeedforward: 8,
          numClasses: 2,
        }),
    ).toThrow(/maxFrames 10 is not a multiple of frameStride 3/);
    expect(
      () =>
        new SpectrogramTransformer(device, {
          frameFeatures: 6,
          maxFrames: 9,
          frameStride: 3,
          dModel: 15,
          nHead: 2,
          nLayer: 1,
          dimFeedforward: 8,
          numClasses: 2,
        }),
    ).toThrow(/dModel 15 is not a multiple of nHead 2/);
  });

  it('rollout through identity attention is uniform, and always sums to 1', () => {
    const T = 4;
    const identity = new Float32Array(2 * T * T);
    for (let h = 0; h < 2; h++) for (let i = 0; i < T; i++) identity[h * T * T + i * T + i] = 1;
    expect(Array.from(meanPoolRollout([identity, identity], 2, T))).toEqual([0.25, 0.25, 0.25, 0.25]);
    const toFirst = new Float32Array(T * T);
    for (let i = 0; i < T; i++) toFirst[i * T] = 1; // everyone reads token 0
    const rolled = meanPoolRollout([toFirst], 1, T);
    expect(rolled.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(rolled[0]).toBeCloseTo(0.5 + 0.5 / T, 6); // (A + I) / 2, mean over rows
  });
});

const decoder = () =>
  new MusicTransformer(device, {
    vocabSize: 11,
    blockSize: 12,
    nLayer: 2,
    nHead: 2,
    nEmbd: 16,
    dropout: 0,
    numBuckets: 6,
    maxDistance: 12,
    seed: 9,
  });

describe('MusicTransformer', () => {
  const ids = [3, 1, 4, 1, 5, 9, 2, 6];
  const forward = (model: MusicTransformer, tokens: number[]) =>
    noGrad(() =>
      tidy(() => model.forward(device.tensor(Int32Array.from(tokens), [1, tokens.length], { dtype: 'i32' }))),
    );

  it('names its parameters as nanoGPT plus a relative bias per layer, starting from zero bias', async () => {
    const model = decoder();
    const names = Object.keys(model.stateDict());
    expect(names).toEqual(
      expect.arrayContaining([
        'wte.weight',
        'lm_head.weight',
        'h.0.attn.c_attn.weight',
        'h.1.attn.relative_position.relative_attention_bias.weight',
        'ln_f.bias',
      ]),
    );
    const table = model.h.at(0).attn.relative_position.relativeAttentionBias.weight;
    expect(table.shape).toEqual([6, 2]);
    expect(Array.from((await table.read()) as Float32Array).every((v) => v === 0)).toBe(true);
    model.dispose();
  });

  it('is causal, and decoding with KV caches gives the full forward’s logits', async () => {
    const model = decoder();
    model.eval();
    const full = (await forward(model, ids).read()) as Float32Array; // [1, 8, 11]
    const changed = (await forward(model, [...ids.slice(0, 5), 0, 0, 0]).read()) as Float32Array;
    expect(Array.from(changed.subarray(0, 5 * 11))).toEqual(Array.from(full.subarray(0, 5 * 11)));
    const caches = model.createCaches(1);
    const steps: number[] = [];
    for (const [i, chunk] of [ids.slice(0, 3), ids.slice(3, 4), ids.slice(4)].entries()) {
      const out = noGrad(() =>
        tidy(() =>
          model.forward(device.tensor(Int32Array.from(chunk), [1, chunk.length], { dtype: 'i32' }), {
            caches,
          }),
        ),
      );
      steps.push(...((await out.read()) as Float32Array));
      out.dispose();
      expect(caches[0]!.length).toBe([3, 4, 8][i]);
    }
    for (let i = 0; i < full.length; i++) expect(Math.abs(steps[i]! - full[i]!)).toBeLessThan(2e-5);
    for (const c of caches) c.dispose();
    expect(() =>
      forward(
        model,
        Array.from({ length: 13 }, () => 1),
      ),
    ).toThrow(/13 new positions exceed blockSize 12/);
    model.dispose();
  });

  it('gives causal attention maps and generates the same tokens with and without the cache', async () => {
    const model = decoder();
    model.eval();
    const { attentions } = noGrad(() =>
      model.forwardDetailed(device.tensor(Int32Array.from(ids), [1, 8], { dtype: 'i32' }), {
        attentionWeights: [0],
      }),
    );
    const maps = (await attentions[0]!.read()) as Float32Array; // [1, 2, 8, 8]
    for (let h = 0; h < 2; h++)
      for (let i = 0; i < 8; i++) {
        const row = maps.subarray((h * 8 + i) * 8, (h * 8 + i + 1) * 8);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        for (let j = i + 1; j < 8; j++) expect(row[j]).toBe(0);
      }
    attentions[0]!.dispose();
    const options = { maxNewTokens: 10, temperature: 1, seed: 3 };
    const cached = await models.generate(model, [1, 2], options);
    expect(await models.generate(model, [1, 2], { ...options, useCache: false })).toEqual(cached);
    // past blockSize (12) the window slides: relative positions mean the same there
    expect(await models.generate(model, [1, 2], { ...options, maxNewTokens: 30 })).toHaveLength(30);
    model.dispose();
  });
});
