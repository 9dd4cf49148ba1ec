/** GPT: names, shapes, incremental decoding with the KV cache, and gradients. */
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices, onGpu } from '../../test/device.js';
import { type Device, models, noGrad, sum, tidy } from '../index.js';

const { dev, cpu } = await getDevices();

const config = { vocabSize: 11, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 8, seed: 5 };
const ids = (device: Device, rows: number[][]) =>
  device.tensor(Int32Array.from(rows.flat()), [rows.length, rows[0]!.length], { dtype: 'i32' });

describe('GPT', () => {
  it("has nanoGPT's parameter names, with lm_head tied to wte", () => {
    const gpt = new models.GPT(dev, config);
    const names = Object.keys(gpt.stateDict());
    expect(names).toContain('transformer.wte.weight');
    expect(names).toContain('transformer.wpe.weight');
    expect(names).toContain('transformer.h.1.attn.c_attn.weight');
    expect(names).toContain('transformer.h.0.mlp.c_proj.bias');
    expect(names).toContain('transformer.ln_f.weight');
    expect(names).toContain('lm_head.weight');
    expect(gpt.lm_head.weight).toBe(gpt.transformer.wte.weight);
    // GPT-2 count: wte + wpe + per layer (2 LN + qkv + proj + fc + proj) + ln_f, the head shared
    const C = 8;
    const layer = 2 * 2 * C + (3 * C * C + 3 * C) + (C * C + C) + (4 * C * C + 4 * C) + (4 * C * C + C);
    expect(gpt.numParameters()).toBe(11 * C + 16 * C + 2 * layer + 2 * C);
    gpt.dispose();
  });

  it('gives the same logits token by token with KV caches as for the whole sequence', async () => {
    for (const positions of ['learned', 'rope'] as const) {
      const gpt = new models.GPT(dev, { ...config, positions }).eval();
      const seq = [[1, 4, 2, 9, 3, 7]];
      const full = noGrad(() => tidy(() => gpt.forward(ids(dev, seq))));
      const caches = gpt.createCaches(1);
      const steps: Float32Array[] = [];
      for (let t = 0; t < 6; t++) {
        const logits = noGrad(() => tidy(() => gpt.forward(ids(dev, [[seq[0]![t]!]]), { caches })));
        steps.push((await logits.read()) as Float32Array);
        logits.dispose();
      }
      const joined = new Float32Array(steps.flatMap((s) => Array.from(s)));
      expectClose(joined, (await full.read()) as Float32Array, 2e-5, 1e-5, `cached vs full (${positions})`);
      for (const c of caches) c.dispose();
      full.dispose();
      gpt.dispose();
    }
  });

  it('returns attention weights from the same pass: causal rows summing to 1, the same with caches', async () => {
    const gpt = new models.GPT(dev, config).eval();
    const seq = [
      [1, 4, 2, 9, 3],
      [5, 5, 0, 8, 2],
    ];
    const T = 5;
    const plain = noGrad(() => tidy(() => gpt.forward(ids(dev, seq))));
    const out = noGrad(() => gpt.forwardDetailed(ids(dev, seq), { attentionWeights: [1] }));
    expect(out.attentions[0]).toBeNull();
    const w1 = out.attentions[1]!;
    expect(w1.shape).toEqual([2, 2, T, T]);
    expectClose(
      (await out.logits.read()) as Float32Array,
      (await plain.read()) as Float32Array,
      1e-6,
      0,
      'logits',
    );
    const w = (await w1.read()) as Float32Array;
    for (let row = 0; row < 2 * 2 * T; row++) {
      const i = row % T;
      const r = w.subarray(row * T, row * T + T);
      expect(r.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
      for (let j = i + 1; j < T; j++) expect(r[j]).toBe(0); // causal
    }
    // token by token with caches: the new query's row over all cached keys is the full pass's row
    const caches = gpt.createCaches(2);
    for (let t = 0; t < T; t++) {
      const step = noGrad(() =>
        gpt.forwardDetailed(
          ids(
            dev,
            seq.map((s) => [s[t]!]),
          ),
          { caches, attentionWeights: true },
        ),
      );
      expect(step.attentions.map((a) => a!.shape)).toEqual([
        [2, 2, 1, t + 1],
        [2, 2, 1, t + 1],
      ]);
      const got = (await step.attentions[1]!.read()) as Float32Array;
      const want = Float32Array.from({ length: 2 * 2 * (t + 1) }, (_, n) => {
        const [bh, j] = [Math.floor(n / (t + 1)), n % (t + 1)];
        return w[(bh * T + t) * T + j]!;
      });
      expectClose(got, want, 2e-5, 1e-5, `cached step ${t}`);
      for (const x of [step.logits, ...step.attentions]) x?.dispose();
    }
    expect(() => gpt.forwardDetailed(ids(dev, seq), { attentionWeights: [2] })).toThrowError(
      /attentionWeights must be a boolean or layer indices in \[0, 2\), got \[2\]/,
    );
    for (const x of [plain, out.logits, w1, ...caches]) x.dispose();
    gpt.dispose();
  });

  it('backward reaches every parameter, the same on the device as on the CPU', async () => {
    const grads = async (device: Device) => {
      const gpt = new models.GPT(device, config);
      const loss = tidy(() =>
        sum(
          gpt.forward(
            ids(device, [
              [1, 2, 3],
              [4, 5, 6],
            ]),
          ),
        ),
      );
      loss.backward();
      const out: Record<string, Float32Array> = {};
      for (const [name, p] of gpt.namedParameters()) {
        expect(p.grad, name).not.toBeNull();
        out[name] = (await p.grad!.read()) as Float32Array;
      }
      loss.dispose();
      gpt.dispose();
      return out;
    };
    const here = await grads(dev);
    if (onGpu) {
      const reference = await grads(cpu);
      for (const name of Object.keys(reference)) expectClose(here[name]!, reference[name]!, 1e-5, 1e-4, name);
    }
  });

  it('refuses bad ids and sequences beyond blockSize', () => {
    const gpt = new models.GPT(dev, config);
    expect(() => gpt.forward(dev.zeros([2, 3]))).toThrowError(/ids must be \[B, T\] i32, got \[2, 3\] f32/);
    const long = dev.tensor(new Int32Array(17), [1, 17], { dtype: 'i32' });
    expect(() => gpt.forward(long)).toThrowError(/positions 0..16 exceed blockSize 16/);
    expect(() => new models.GPT(dev, { ...config, nEmbd: 9 })).toThrowError(/multiple of nHead/);
    long.dispose();
    gpt.dispose();
  });
});
