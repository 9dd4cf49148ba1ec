/**
 * VisionTransformer against torchvision 0.14's VisionTransformer (tools/fixtures/gen_vision.py): the state-dict
 * names and shapes, logits in eval mode, per-layer attention maps and their rollout; then the round trip
 * through safetensors, dropout and training mode, and bad input.
 */
import { readFileSync } from 'node:fs';
import { type Device, io, nn, noGrad, optim, type Tensor, tidy } from '@multihead/core';
import { expectClose, getDevices } from '@multihead/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { VisionTransformer } from './vit.js';
import type { ViTConfig } from './vit-config.js';

const file = io.parseSafetensors(
  readFileSync(new URL('../../test/fixtures/vit.safetensors', import.meta.url)),
);
const cases = (
  JSON.parse(file.metadata.cases!) as {
    name: string;
    kind: string;
    config: ViTConfig & { imageSize: [number, number] };
    state_dict: [string, number[]][];
  }[]
).filter((c) => c.kind === 'vit');

let dev: Device;
beforeAll(async () => {
  ({ dev } = await getDevices());
});

const host = (name: string) => file.tensors[name]!;
const values = (name: string) => host(name).data as Float32Array;
const read = async (t: Tensor) => (await t.read()) as Float32Array;
const stateOf = (c: (typeof cases)[number]) =>
  Object.fromEntries(c.state_dict.map(([k]) => [k, host(`${c.name}.sd.${k}`)]));
const shapes = (m: nn.Module) => Object.entries(m.stateDict()).map(([k, t]) => [k, t.shape]);

describe('VisionTransformer matches torchvision', () => {
  it('covers torchvision as it is, a 1-channel non-square sin-cos model, global average pooling and a conv stem', () => {
    expect(cases.map((c) => [c.name, c.config.channels, c.config.positions, c.config.classToken])).toEqual([
      ['vit_torchvision', 3, 'learned', true],
      ['vit_nonsquare_c1_sincos', 1, 'sincos2d', true],
      ['vit_gap', 3, 'learned', false],
      ['vit_conv_stem', 3, 'learned', true],
    ]);
    expect(cases[3]!.config.convStem?.map((l) => l.activation)).toEqual(['relu', 'gelu']);
  });

  for (const c of cases) {
    it(`${c.name}: state-dict names and shapes, logits, attention maps, rollout`, async () => {
      const model = new VisionTransformer(dev, c.config);
      // torchvision's order; the sin-cos table is a buffer, listed after the parameters
      const expected = c.state_dict;
      const ours = shapes(model);
      if (c.config.positions === 'learned') expect(ours).toEqual(expected);
      else expect([...ours].sort()).toEqual([...expected].sort());
      if (c.config.positions === 'sincos2d') {
        // core's sinCos2d against MAE's get_2d_sincos_pos_embed computed by the generator in float64
        expectClose(
          await read(model.encoder.posEmbedding),
          values(`${c.name}.sd.encoder.pos_embedding`),
          1e-6,
        );
      }
      model.loadStateDict(stateOf(c));
      model.eval();
      const images = dev.tensor(values(`${c.name}.images`), host(`${c.name}.images`).shape);
      const { logits, attentions } = noGrad(() => model.forwardDetailed(images, { attentionWeights: true }));
      expect(logits.shape).toEqual(host(`${c.name}.logits`).shape);
      expectClose(await read(logits), values(`${c.name}.logits`), 1e-5, 0, 'logits');
      expect(attentions).toHaveLength(c.config.numLayers);
      for (const [i, a] of attentions.entries()) {
        expect(a!.shape).toEqual(host(`${c.name}.attn.${i}`).shape);
        expectClose(await read(a!), values(`${c.name}.attn.${i}`), 1e-5, 0, `attn.${i}`);
      }
      const plain = noGrad(() => model.forward(images));
      expectClose(await read(plain), values(`${c.name}.logits`), 1e-5, 0, 'forward');
      const rollout = await model.attentionRollout(images);
      expect(rollout.shape).toEqual(host(`${c.name}.rollout`).shape);
      expectClose(rollout.data, values(`${c.name}.rollout`), 1e-6, 0, 'rollout');
      for (const t of [images, logits, plain, ...attentions]) t!.dispose();
      model.dispose();
    });
  }
});

describe('VisionTransformer', () => {
  const small: ViTConfig = {
    imageSize: [8, 4],
    patchSize: 2,
    channels: 1,
    numLayers: 2,
    numHeads: 2,
    hiddenDim: 8,
    mlpDim: 16,
    numClasses: 3,
    seed: 5,
  };

  /** torchvision zero-inits the head: values for it, so the logits depend on the rest of the model. */
  const giveHeadValues = (model: VisionTransformer) => {
    const [K, D] = model.heads.head.weight.shape as [number, number];
    const data = Float32Array.from({ length: K * D }, (_, i) => Math.sin(1 + i * 0.7));
    model.loadStateDict({ 'heads.head.weight': { dtype: 'F32', shape: [K, D], data } }, { strict: false });
  };

  it('round-trips its state dict through safetensors into a fresh model', async () => {
    const a = new VisionTransformer(dev, { ...small, seed: 1 });
    const b = new VisionTransformer(dev, { ...small, seed: 2 });
    giveHeadValues(a);
    const tensors: Record<string, io.WritableTensor> = {};
    for (const [name, t] of Object.entries(a.stateDict()))
      tensors[name] = { dtype: 'F32', shape: t.shape, data: await read(t) };
    b.loadStateDict(io.parseSafetensors(io.writeSafetensors(tensors)).tensors);
    const images = dev.tensor(
      Float32Array.from({ length: 2 * 32 }, (_, i) => Math.sin(i)),
      [2, 1, 8, 4],
    );
    const [la, lb] = noGrad(() => [a.eval().forward(images), b.eval().forward(images)]);
    const va = await read(la!);
    expect(va.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    expect(Array.from(await read(lb!))).toEqual(Array.from(va));
    for (const t of [images, la!, lb!]) t.dispose();
    a.dispose();
    b.dispose();
  });

  it('returns the maps of the layers asked for only, rejects other indices, and leaks nothing', async () => {
    const model = new VisionTransformer(dev, small).eval();
    const images = dev.zeros([1, 1, 8, 4]);
    const { logits, attentions } = noGrad(() => model.forwardDetailed(images, { attentionWeights: [1] }));
    expect(attentions[0]).toBeNull();
    expect(attentions[1]!.shape).toEqual([1, 2, 9, 9]);
    expect(() => model.forwardDetailed(images, { attentionWeights: [2] })).toThrow(
      /layer indices in \[0, 2\), got \[2\]/,
    );
    for (const t of [images, logits, attentions[1]!]) t.dispose();
    // a forward and a rollout leave no tensor behind
    const live = dev.memory().liveTensors;
    const batch = dev.zeros([2, 1, 8, 4]);
    noGrad(() => model.forward(batch)).dispose();
    await model.attentionRollout(batch);
    batch.dispose();
    expect(dev.memory().liveTensors).toBe(live);
    model.dispose();
  });

  it('applies dropout in training mode only, and learns: loss falls and every parameter gets a gradient', async () => {
    const model = new VisionTransformer(dev, { ...small, dropout: 0.1, attentionDropout: 0.1 });
    // two classes: vertical stripes (class 0) and horizontal stripes (class 1), with a little noise
    const B = 8;
    const data = new Float32Array(B * 32);
    const labels = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      labels[b] = b % 2;
      for (let i = 0; i < 32; i++) {
        const [row, col] = [Math.floor(i / 4), i % 4];
        const stripe = (b % 2 === 0 ? col : row) % 2 === 0 ? 1 : -1;
        data[b * 32 + i] = stripe + 0.2 * Math.cos(b * 7 + i);
      }
    }
    const images = dev.tensor(data, [B, 1, 8, 4]);
    const targets = dev.tensor(labels, [B]);
    giveHeadValues(model);
    const [t1, t2] = noGrad(() => [model.train().forward(images), model.forward(images)]);
    expect(Array.from(await read(t1!))).not.toEqual(Array.from(await read(t2!)));
    const evalLoss = async () => {
      const loss = noGrad(() => tidy(() => nn.crossEntropy(model.eval().forward(images), targets)));
      const v = (await read(loss))[0]!;
      loss.dispose();
      model.train();
      return v;
    };
    const before = await evalLoss();
    const opt = new optim.AdamW(model.parameters(), { lr: 1e-2, weightDecay: 0 });
    for (let step = 0; step < 12; step++) {
      const loss = tidy(() => nn.crossEntropy(model.forward(images), targets));
      loss.backward();
      if (step === 0) {
        for (const [name, p] of model.namedParameters()) expect(p.grad, name).not.toBeNull();
      }
      opt.step();
      model.zeroGrad();
      loss.dispose();
    }
    const after = await evalLoss();
    expect(after).toBeLessThan(before * 0.25);
    const [e1, e2] = noGrad(() => [model.eval().forward(images), model.forward(images)]);
    expect(Array.from(await read(e1!))).toEqual(Array.from(await read(e2!)));
    for (const t of [images, targets, t1!, t2!, e1!, e2!]) t.dispose();
    model.dispose();
  });

  it('names the problem with bad configs and images', () => {
    expect(() => new VisionTransformer(dev, { ...small, imageSize: [8, 5] })).toThrow(
      /imageSize \[8,5\] must be positive multiples of patchSize 2/,
    );
    expect(() => new VisionTransformer(dev, { ...small, hiddenDim: 9 })).toThrow(
      /hiddenDim 9 must be a multiple of numHeads 2/,
    );
    expect(() => new VisionTransformer(dev, { ...small, hiddenDim: 6, positions: 'sincos2d' })).toThrow(
      /multiple of 4 for 'sincos2d'/,
    );
    expect(() => new VisionTransformer(dev, { ...small, numLayers: 0 })).toThrow(
      /numLayers must be a positive integer, got 0/,
    );
    expect(() => new VisionTransformer(dev, { ...small, dropout: 1 })).toThrow(
      /dropout must be in \[0, 1\), got 1/,
    );
    const model = new VisionTransformer(dev, small);
    const wrong = dev.zeros([1, 1, 4, 8]);
    expect(() => model.forward(wrong)).toThrow(/images are \[1, 1, 4, 8\]; expected \[B, 1, 8, 4\]/);
    wrong.dispose();
    model.dispose();
  });
});
