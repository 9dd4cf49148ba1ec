/** PatchEmbedding against torch.nn.Conv2d(C, D, p, stride=p) (tools/fixtures/gen_vision.py), forward and backward. */
import { readFileSync } from 'node:fs';
import { type Device, io, mul, sum, type Tensor, tidy } from '@multihead/core';
import { expectClose, getDevices } from '@multihead/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { PatchEmbedding } from './patch-embedding.js';

const file = io.parseSafetensors(
  readFileSync(new URL('../../test/fixtures/vit.safetensors', import.meta.url)),
);
const cases = (
  JSON.parse(file.metadata.cases!) as {
    name: string;
    kind: string;
    B: number;
    C: number;
    H: number;
    W: number;
    p: number;
    D: number;
  }[]
).filter((c) => c.kind === 'patch');

let dev: Device;
beforeAll(async () => {
  ({ dev } = await getDevices());
});

const host = (name: string) => file.tensors[name]!;
const values = (name: string) => host(name).data as Float32Array;
const upload = (name: string, requiresGrad = false) =>
  dev.tensor(values(name), host(name).shape, { requiresGrad });

describe('PatchEmbedding matches torch.nn.Conv2d(C, D, p, stride=p)', () => {
  it('covers square and non-square images with 1 and 3 channels', () => {
    expect(cases.map((c) => [c.C, c.H === c.W])).toEqual([
      [3, true],
      [1, false],
      [3, false],
    ]);
  });

  for (const c of cases) {
    it(`${c.name}: tokens and the gradients of x, weight and bias`, async () => {
      const embed = new PatchEmbedding(dev, { channels: c.C, hiddenDim: c.D, patchSize: c.p });
      expect(Object.fromEntries(Object.entries(embed.stateDict()).map(([k, t]) => [k, t.shape]))).toEqual({
        weight: [c.D, c.C, c.p, c.p],
        bias: [c.D],
      });
      embed.loadStateDict({ weight: host(`${c.name}.weight`), bias: host(`${c.name}.bias`) });
      const x = upload(`${c.name}.x`, true);
      const gout = upload(`${c.name}.gout`);
      const out = embed.forward(x);
      expect(out.shape).toEqual(host(`${c.name}.out`).shape);
      expectClose(await out.read(), values(`${c.name}.out`), 1e-5, 1e-5, 'out');
      tidy(() => sum(mul(out, gout))).backward();
      const grads: [string, Tensor][] = [
        ['x', x],
        ['weight', embed.weight],
        ['bias', embed.bias],
      ];
      for (const [role, t] of grads) {
        expect(t.grad?.shape).toEqual(host(`${c.name}.grad.${role}`).shape);
        expectClose(await t.grad!.read(), values(`${c.name}.grad.${role}`), 1e-5, 1e-5, `grad.${role}`);
      }
      for (const t of [x, gout, out]) t.dispose();
      embed.dispose();
    });
  }

  it('names the problem with bad images', () => {
    const embed = new PatchEmbedding(dev, { channels: 3, hiddenDim: 4, patchSize: 4 });
    const gray = dev.zeros([1, 1, 8, 8]);
    const odd = dev.zeros([1, 3, 8, 10]);
    const flat = dev.zeros([3, 8, 8]);
    expect(() => embed.forward(gray)).toThrow(/expected f32 \[B, 3, H, W\]/);
    expect(() => embed.forward(flat)).toThrow(/images are f32 \[3, 8, 8\]/);
    expect(() => embed.forward(odd)).toThrow(/8 × 10 is not divisible by patchSize 4/);
    expect(() => new PatchEmbedding(dev, { channels: 0, hiddenDim: 4, patchSize: 4 })).toThrow(
      /channels must be a positive integer, got 0/,
    );
    for (const t of [gray, odd, flat]) t.dispose();
    embed.dispose();
  });
});
