/**
 * The convolutional stem beyond the torchvision fixture (vit.test.ts loads torchvision's conv-stem ViT):
 * sides the total stride does not divide, its checks, and that training reaches every stem weight.
 */
import { type Device, MultiheadError, nn, type Tensor, tidy } from '@multihead/core';
import { getDevices } from '@multihead/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { stemSide } from './conv-stem.js';
import { VisionTransformer } from './vit.js';
import type { ViTConfig } from './vit-config.js';

let dev: Device;
beforeAll(async () => {
  ({ dev } = await getDevices());
});

const stemmed: ViTConfig = {
  imageSize: 28,
  patchSize: 8,
  channels: 1,
  numLayers: 1,
  numHeads: 2,
  hiddenDim: 8,
  mlpDim: 16,
  numClasses: 3,
  convStem: [{ outChannels: 4 }, { outChannels: 6, activation: 'gelu' }, { outChannels: 8 }],
};

describe('VisionTransformer with a convolutional stem', () => {
  it('pads each 3 x 3 stride-2 layer, so 28 x 28 goes 14, 7, 4: a 4 x 4 grid and 17 tokens', () => {
    expect([28, 14, 7].map((n) => stemSide(n, 3, 2))).toEqual([14, 7, 4]);
    const model = new VisionTransformer(dev, stemmed);
    expect(model.grid).toEqual([4, 4]);
    expect(model.encoder.posEmbedding.shape).toEqual([1, 17, 8]);
    expect(Object.keys(model.stateDict()).filter((k) => k.startsWith('conv_proj'))).toEqual([
      'conv_proj.conv_bn_relu_0.0.weight',
      'conv_proj.conv_bn_relu_0.0.bias',
      'conv_proj.conv_bn_relu_1.0.weight',
      'conv_proj.conv_bn_relu_1.0.bias',
      'conv_proj.conv_bn_relu_2.0.weight',
      'conv_proj.conv_bn_relu_2.0.bias',
      'conv_proj.conv_last.weight',
      'conv_proj.conv_last.bias',
    ]);
    model.dispose();
  });

  it('sends a gradient to every stem weight', async () => {
    const model = new VisionTransformer(dev, { ...stemmed, seed: 3 });
    // torchvision zero-inits the head; give it values so the loss depends on the stem
    const head = model.heads.head.weight;
    model.loadStateDict(
      {
        'heads.head.weight': {
          dtype: 'F32',
          shape: [...head.shape],
          data: Float32Array.from({ length: head.size }, (_, i) => Math.sin(i + 1)),
        },
      },
      { strict: false },
    );
    const images = dev.tensor(
      Float32Array.from({ length: 2 * 784 }, (_, i) => Math.cos(i * 0.37)),
      [2, 1, 28, 28],
    );
    const labels = dev.tensor(new Int32Array([0, 2]), [2]);
    const loss = tidy(() => nn.crossEntropy(model.forward(images), labels));
    loss.backward();
    const stem = model.namedParameters().filter(([k]) => k.startsWith('conv_proj'));
    expect(stem).toHaveLength(8);
    for (const [name, p] of stem) {
      const g = (await (p.grad as Tensor).read()) as Float32Array;
      expect(
        g.some((v) => v !== 0),
        name,
      ).toBe(true);
      expect(g.every(Number.isFinite), name).toBe(true);
    }
    for (const t of [images, labels, loss]) t.dispose();
    model.dispose();
  });

  it('names what is wrong in a stem config', () => {
    const error = (config: Partial<ViTConfig>) => {
      try {
        new VisionTransformer(dev, { ...stemmed, ...config }).dispose();
      } catch (e) {
        expect(e).toBeInstanceOf(MultiheadError);
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(error({ patchSize: 4 })).toMatch(/strides multiply to 8; they must make patchSize 4/);
    expect(error({ convStem: [{ outChannels: 4, kernelSize: 2 }] })).toMatch(
      /config\.convStem\[0\].*an odd kernelSize/,
    );
    expect(error({ convStem: [{ outChannels: 0 }] })).toMatch(/convStem\[0\].*positive integer outChannels/);
    expect(error({ convStem: [{ outChannels: 4, activation: 'tanh' as 'relu' }], patchSize: 2 })).toMatch(
      /activation 'relu' or 'gelu'/,
    );
  });
});
