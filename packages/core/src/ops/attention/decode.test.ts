/** Decode: the KV cache and the split-K kernel for single-query rows, exact versus the full kernels. */
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices, randomData } from '../../../test/device.js';
import { attention, KVCache } from '../../index.js';

const { dev } = await getDevices();

describe('split-K decode', () => {
  it('equals the fused kernel for one query row, with kvLens, window and GQA', async () => {
    const [B, H, Hkv, Nk, D] = [2, 4, 2, 300, 16];
    const q = dev.tensor(randomData(B * H * D, 1), [B, H, 1, D]);
    const k = dev.tensor(randomData(B * Hkv * Nk * D, 2), [B, Hkv, Nk, D]);
    const v = dev.tensor(randomData(B * Hkv * Nk * D, 3), [B, Hkv, Nk, D]);
    for (const opts of [
      {},
      { kvLens: [300, 131] },
      { causal: 'bottom-right' as const, window: [70, 0] as [number, number] },
    ]) {
      const split = attention.detailed(q, k, v, { ...opts, decode: 'split-k' });
      const fused = attention.detailed(q, k, v, { ...opts, decode: 'fused' });
      expectClose(await split.out.read(), await fused.out.read(), 1e-6, 1e-5, `out ${JSON.stringify(opts)}`);
      expectClose(await split.lse.read(), await fused.lse.read(), 1e-5, 1e-6, `lse ${JSON.stringify(opts)}`);
    }
  });
});

describe('KVCache', () => {
  const [B, Hkv, D] = [1, 2, 8];
  const rows = (n: number, seed: number) => dev.tensor(randomData(B * Hkv * n * D, seed), [B, Hkv, n, D]);

  it('appends a prompt then tokens; decoding from the cache equals full causal attention', async () => {
    const total = 11;
    const kAll = randomData(B * Hkv * total * D, 5);
    const vAll = randomData(B * Hkv * total * D, 6);
    const qAll = randomData(B * Hkv * total * D, 7);
    const full = attention(
      dev.tensor(qAll, [B, Hkv, total, D]),
      dev.tensor(kAll, [B, Hkv, total, D]),
      dev.tensor(vAll, [B, Hkv, total, D]),
      { causal: true },
    );
    const expected = (await full.read()) as Float32Array;
    const cache = new KVCache(dev, { batch: B, kvHeads: Hkv, headDim: D, maxLength: 16 });
    const slice = (data: Float32Array, from: number, to: number) => {
      const out: number[] = [];
      for (let h = 0; h < Hkv; h++) out.push(...data.subarray((h * total + from) * D, (h * total + to) * D));
      return dev.tensor(Float32Array.from(out), [B, Hkv, to - from, D]);
    };
    cache.append(slice(kAll, 0, 7), slice(vAll, 0, 7)); // prompt
    for (let t = 7; t < total; t++) {
      cache.append(slice(kAll, t, t + 1), slice(vAll, t, t + 1));
      const { k, v } = cache.view();
      expect(k.shape).toEqual([B, Hkv, t + 1, D]);
      const out = (await attention(slice(qAll, t, t + 1), k, v, {
        causal: 'bottom-right',
      }).read()) as Float32Array;
      for (let h = 0; h < Hkv; h++) {
        expectClose(
          out.subarray(h * D, (h + 1) * D),
          expected.subarray((h * total + t) * D, (h * total + t + 1) * D),
          1e-6,
          1e-5,
          `token ${t}`,
        );
      }
    }
    expect(cache.position).toBe(total);
    expect(() => cache.append(rows(6, 1), rows(6, 2))).toThrowError(/exceed maxLength 16/);
    cache.dispose();
  });

  it('window eviction keeps the last `window` positions in order', async () => {
    const cache = new KVCache(dev, { batch: B, kvHeads: Hkv, headDim: 1, window: 3 });
    const tok = (x: number) => dev.tensor(new Float32Array([x, 100 + x]), [1, 2, 1, 1]);
    for (let t = 0; t < 10; t++) {
      cache.append(tok(t), tok(-t));
      const { k, v } = cache.view();
      const want = [];
      for (let p = Math.max(0, t - 2); p <= t; p++) want.push(p);
      expect(Array.from((await k.read()) as Float32Array)).toEqual([...want, ...want.map((p) => 100 + p)]);
      expect(Array.from((await v.read()) as Float32Array)).toEqual([
        ...want.map((p) => -p),
        ...want.map((p) => 100 - p),
      ]);
      k.dispose();
      v.dispose();
    }
    expect(cache.length).toBe(3);
    expect(cache.position).toBe(10);
    expect(() => cache.append(rows(1, 1), rows(2, 2))).toThrowError(/KVCache.append: k \[1, 2, 1, 8\]/);
  });
});
