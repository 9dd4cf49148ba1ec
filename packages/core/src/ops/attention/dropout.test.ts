/** Attention dropout: seeded, identical on both backends, consistent between forward and backward. */
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices, onGpu, randomData } from '../../../test/device.js';
import { type AttentionKernel, attention, attentionBackward, type Device } from '../../index.js';

const { dev, cpu } = await getDevices();

const [B, H, N, D] = [1, 2, 9, 8];
const data = {
  q: randomData(B * H * N * D, 1),
  k: randomData(B * H * N * D, 2),
  v: randomData(B * H * N * D, 3),
};
const inputs = (device: Device, d = data) =>
  [d.q, d.k, d.v].map((x) => device.tensor(x, [B, H, N, D])) as [never, never, never];

describe('attention dropout', () => {
  it('the same seed drops the same entries; another seed others; p = 0 is no dropout', async () => {
    const [q, k, v] = inputs(dev);
    const a = await attention(q, k, v, { causal: true, dropout: { p: 0.3, seed: 5 } }).read();
    expect(await attention(q, k, v, { causal: true, dropout: { p: 0.3, seed: 5 } }).read()).toEqual(a);
    expect(await attention(q, k, v, { causal: true, dropout: { p: 0.3, seed: 6 } }).read()).not.toEqual(a);
    const plain = await attention(q, k, v, { causal: true }).read();
    expectClose(
      await attention(q, k, v, { causal: true, dropout: { p: 0, seed: 5 } }).read(),
      plain,
      0,
      0,
      'p = 0',
    );
  });

  it('is unbiased: the mean over many seeds approaches the undropped output', async () => {
    const [q, k, v] = inputs(dev);
    const plain = (await attention(q, k, v).read()) as Float32Array;
    const sum = new Float64Array(plain.length);
    const seeds = 300;
    for (let s = 0; s < seeds; s++) {
      const o = (await attention(q, k, v, { dropout: { p: 0.25, seed: s } }).read()) as Float32Array;
      o.forEach((x, n) => {
        sum[n]! += x / seeds;
      });
    }
    // each output is a mean of ~9 terms kept with p 0.75: the seed-average's standard error is ~0.02
    expectClose(sum, plain, 0.08, 0, 'mean over seeds');
  });

  it('backward regenerates the forward mask (finite differences through dropout)', async () => {
    const opts = { causal: true as const, dropout: { p: 0.4, seed: 11 } };
    const G = randomData(B * H * N * D, 9);
    const loss = async (d: typeof data) => {
      const [q, k, v] = inputs(cpu, d);
      const o = (await attention(q, k, v, opts).read()) as Float32Array;
      return o.reduce((s, x, n) => s + x * G[n]!, 0);
    };
    const [q, k, v] = inputs(dev);
    const { out, lse } = attention.detailed(q, k, v, opts);
    const g = attentionBackward(q, k, v, out, lse, dev.tensor(G, [B, H, N, D]), opts);
    const grads = { q: await g.dq.read(), k: await g.dk.read(), v: await g.dv.read() } as Record<
      'q' | 'k' | 'v',
      Float32Array
    >;
    const h = 1e-2;
    for (const which of ['q', 'k', 'v'] as const) {
      for (const idx of [3, 40, 100]) {
        const up = { ...data, [which]: data[which].slice() };
        const down = { ...data, [which]: data[which].slice() };
        up[which][idx]! += h;
        down[which][idx]! -= h;
        const numeric = ((await loss(up)) - (await loss(down))) / (2 * h);
        expect(
          Math.abs(grads[which][idx]! - numeric),
          `${which}[${idx}] ${grads[which][idx]} vs ${numeric}`,
        ).toBeLessThan(2e-3);
      }
    }
  });

  if (onGpu) {
    /** out, dq, dk, dv of a dropout case on `device`. */
    const outAndGrads = async (device: Device, kernel: AttentionKernel = 'auto') => {
      const opts = { causal: 'bottom-right' as const, dropout: { p: 0.2, seed: 77 }, kernel };
      const [q, k, v] = inputs(device);
      const { out, lse } = attention.detailed(q, k, v, opts);
      const dout = device.tensor(randomData(B * H * N * D, 4), [B, H, N, D]);
      const g = attentionBackward(q, k, v, out, lse, dout, opts);
      return [await out.read(), await g.dq.read(), await g.dk.read(), await g.dv.read()];
    };
    const expectSameAsCpu = async (kernel: AttentionKernel) => {
      const [gpu, ref] = [await outAndGrads(dev, kernel), await outAndGrads(cpu)];
      for (const [n, x] of gpu.entries()) expectClose(x, ref[n]!, 2e-5, 1e-4, ['out', 'dq', 'dk', 'dv'][n]!);
    };

    it('GPU and CPU drop the same entries (forward and backward)', () => expectSameAsCpu('auto'));
    it('so do the tiled kernels (hardware adapters)', () => expectSameAsCpu('tiled'));
  }

  it('validates p and seed', () => {
    const [q, k, v] = inputs(dev);
    expect(() => attention(q, k, v, { dropout: { p: 1, seed: 0 } })).toThrowError(
      /dropout must be \{ p in \[0, 1\), seed: integer \}/,
    );
  });
});
