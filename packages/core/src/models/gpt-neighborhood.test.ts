/**
 * GPT with causal 2-D neighbourhood attention (`attention: { neighborhood }`): a window as large as the
 * grid is full causal attention, the maps see only the causal window, the KV cache decodes the same
 * logits, and a grid smaller than blockSize is refused.
 */
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices } from '../../test/device.js';
import { models, noGrad, tidy } from '../index.js';

const { dev } = await getDevices();

const base = { vocabSize: 9, blockSize: 20, nLayer: 2, nHead: 2, nEmbd: 8, seed: 3 };
const seq = [
  [1, 4, 2, 8, 3, 7, 0, 5, 6, 2, 2, 1, 3, 4, 8, 7, 6, 0, 1, 5],
  [3, 3, 1, 0, 2, 6, 4, 4, 8, 5, 7, 1, 0, 2, 3, 6, 5, 8, 4, 1],
];
const ids = (rows: number[][]) =>
  dev.tensor(Int32Array.from(rows.flat()), [rows.length, rows[0]!.length], { dtype: 'i32' });

describe('GPT with neighbourhood attention', () => {
  it('equals full causal attention when the window is the whole grid', async () => {
    const full = new models.GPT(dev, base).eval();
    const local = new models.GPT(dev, {
      ...base,
      attention: { neighborhood: { grid: [4, 5], kernel: [4, 5] } },
    }).eval();
    const a = noGrad(() => full.forward(ids(seq)));
    const b = noGrad(() => local.forward(ids(seq)));
    expectClose((await b.read()) as Float32Array, (await a.read()) as Float32Array, 2e-5, 1e-5, 'logits');
  });

  it('attends only to the causal window, and decodes the same logits with KV caches', async () => {
    const gpt = new models.GPT(dev, {
      ...base,
      attention: { neighborhood: { grid: [4, 5], kernel: 3 } },
    }).eval();
    const { logits, attentions } = noGrad(() => gpt.forwardDetailed(ids(seq), { attentionWeights: [1] }));
    const w = (await attentions[1]!.read()) as Float32Array; // [B, H, T, T]
    const T = 20;
    for (let i = 0; i < T; i++) {
      const [y, x] = [Math.floor(i / 5), i % 5];
      const x0 = Math.min(Math.max(x - 1, 0), 2);
      for (let j = 0; j < T; j++) {
        const [ky, kx] = [Math.floor(j / 5), j % 5];
        const seen = ky <= y && ky >= y - 2 && kx >= x0 && kx < x0 + 3 && (ky < y || kx <= x);
        const p = w[(0 * 2 + 1) * T * T + i * T + j]!;
        if (seen) expect(p, `query ${i} key ${j}`).toBeGreaterThan(0);
        else expect(p, `query ${i} key ${j}`).toBe(0);
      }
    }
    const caches = gpt.createCaches(2);
    const steps: number[] = [];
    for (let t = 0; t < T; t++) {
      const step = noGrad(() => tidy(() => gpt.forward(ids(seq.map((r) => [r[t]!])), { caches })));
      steps.push(...((await step.read()) as Float32Array));
      step.dispose();
    }
    // steps are [t][b][V]; the full pass is [b][t][V]
    const full = (await logits.read()) as Float32Array;
    const V = base.vocabSize;
    const reordered = new Float32Array(full.length);
    for (let t = 0; t < T; t++)
      for (let b = 0; b < 2; b++)
        for (let v = 0; v < V; v++) reordered[(b * T + t) * V + v] = steps[(t * 2 + b) * V + v]!;
    expectClose(reordered, full, 2e-5, 1e-5, 'cached vs full');
    for (const c of caches) c.dispose();
  });

  it('refuses a grid with fewer cells than blockSize, or a window larger than the grid', () => {
    expect(
      () => new models.GPT(dev, { ...base, attention: { neighborhood: { grid: [4, 4], kernel: 3 } } }),
    ).toThrow(/GPT: attention: neighborhood.grid \[4, 4\] has 16 cells/);
    expect(
      () => new models.GPT(dev, { ...base, attention: { neighborhood: { grid: [4, 5], kernel: 6 } } }),
    ).toThrow(/kernel 6 x dilation 1 = 6 exceeds the grid's 4 rows/);
  });
});
