/** Positional encodings: sinusoidal, 2-D sin-cos, learned, RoPE, ALiBi, T5 relative buckets. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices, randomData } from '../../test/device.js';
import { gradcheck } from '../../test/gradcheck.js';
import { attention, io, matmul, mul, nn, sum, type Tensor, tidy } from '../index.js';

const { dev, cpu } = await getDevices();

const read = async (t: Tensor) => Array.from(await t.read());

describe('absolute positions', () => {
  it('sinusoidalPositions follows Vaswani et al.: sin on even, cos on odd columns', async () => {
    const [n, d] = [7, 6];
    const pe = nn.sinusoidalPositions(dev, n, d);
    expect(pe.shape).toEqual([n, d]);
    const want = new Float64Array(n * d);
    for (let p = 0; p < n; p++) {
      for (let i = 0; i < d / 2; i++) {
        want[p * d + 2 * i] = Math.sin(p / 10000 ** ((2 * i) / d));
        want[p * d + 2 * i + 1] = Math.cos(p / 10000 ** ((2 * i) / d));
      }
    }
    expectClose(await pe.read(), want, 1e-7, 1e-6, 'pe');
    pe.dispose();
  });

  it('sinCos2d follows MAE get_2d_sincos_pos_embed (w coordinate first), with a zero cls row', async () => {
    const [gh, gw, d] = [2, 3, 8];
    const pe = nn.sinCos2d(dev, gh, gw, d, { clsToken: true });
    expect(pe.shape).toEqual([1 + gh * gw, d]);
    // MAE: omega = 1 / 10000 ** (arange(D/4) / (D/4)); emb = [sin(w·ω), cos(w·ω), sin(h·ω), cos(h·ω)]
    const omega = Array.from({ length: d / 4 }, (_, k) => 1 / 10000 ** (k / (d / 4)));
    const want: number[] = new Array(d).fill(0);
    for (let h = 0; h < gh; h++) {
      for (let w = 0; w < gw; w++) {
        want.push(
          ...omega.map((o) => Math.sin(w * o)),
          ...omega.map((o) => Math.cos(w * o)),
          ...omega.map((o) => Math.sin(h * o)),
          ...omega.map((o) => Math.cos(h * o)),
        );
      }
    }
    expectClose(await pe.read(), want, 1e-7, 1e-6, 'sincos2d');
    expect(() => nn.sinCos2d(dev, 2, 2, 6)).toThrowError(/dim must be a positive multiple of 4, got 6/);
    pe.dispose();
  });

  it('LearnedPositionalEmbedding returns rows offset..offset+n-1 and trains them', async () => {
    const pos = new nn.LearnedPositionalEmbedding(dev, 6, 3, { seed: 2 });
    expect(Object.keys(pos.stateDict())).toEqual(['weight']);
    const w = await read(pos.weight);
    const y = pos.forward(2, { offset: 3 });
    expect(await read(y)).toEqual(w.slice(9, 15));
    const loss = sum(y);
    loss.backward();
    expect(await read(pos.weight.grad!)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
    expect(() => pos.forward(4, { offset: 3 })).toThrowError(/positions 3..6 exceed maxPositions 6/);
    for (const t of [y, loss]) t.dispose();
    pos.dispose();
  });
});

describe('RoPE (rotate-half, HF Llama / GPT-NeoX layout)', () => {
  it('rotates pairs (c, c + D/2) by position · base^(-2c/D)', async () => {
    const [N, D] = [3, 4];
    const xs = randomData(N * D, 3);
    const y = nn.applyRope(dev.tensor(xs, [1, 1, N, D]), { base: 100, offset: 2 });
    const want: number[] = [];
    for (let i = 0; i < N; i++) {
      const row = xs.subarray(i * D, (i + 1) * D);
      const out = new Array(D);
      for (let c = 0; c < D / 2; c++) {
        const a = (i + 2) * 100 ** (-(2 * c) / D);
        out[c] = row[c]! * Math.cos(a) - row[c + D / 2]! * Math.sin(a);
        out[c + D / 2] = row[c + D / 2]! * Math.cos(a) + row[c]! * Math.sin(a);
      }
      want.push(...out);
    }
    expectClose(await y.read(), want, 1e-6, 1e-6, 'rope');
  });

  it('q·k after RoPE depends only on i - j', async () => {
    const [N, D] = [6, 8];
    const q = randomData(D, 1);
    const k = randomData(D, 2);
    // the same q and k vector at every position
    const rep = (v: Float32Array) => Float32Array.from({ length: N * D }, (_, i) => v[i % D]!);
    const scores = tidy(() => {
      const rq = nn.applyRope(dev.tensor(rep(q), [1, 1, N, D]));
      const rk = nn.applyRope(dev.tensor(rep(k), [1, 1, N, D]));
      return matmul(rq, rk.mT); // [1, 1, N, N]
    });
    const s = await read(scores);
    for (let i = 0; i + 1 < N; i++) {
      for (let j = 0; j + 1 < N; j++) expect(s[(i + 1) * N + j + 1]).toBeCloseTo(s[i * N + j]!, 5);
    }
    // and differs across distances (it is not trivially constant)
    expect(Math.abs(s[0]! - s[1]!)).toBeGreaterThan(1e-3);
    scores.dispose();
  });

  it('gradcheck, with partial rotation (rotaryDim) and explicit positions', async () => {
    await gradcheck(cpu, dev, (x) => nn.applyRope(x, { offset: 3 }), [{ shape: [1, 2, 3, 4] }]);
    await gradcheck(cpu, dev, (x) => nn.applyRope(x, { rotaryDim: 4, positions: [5, 0, 2] }), [
      { shape: [2, 3, 6] },
    ]);
  });

  it('rotaryDim leaves the tail untouched; bad options are named', async () => {
    const xs = randomData(2 * 6, 4);
    const y = await read(nn.applyRope(dev.tensor(xs, [2, 6]), { rotaryDim: 2, offset: 1 }));
    expect(y.slice(8)).toEqual(Array.from(xs.slice(8)));
    const x = dev.zeros([2, 6]);
    expect(() => nn.applyRope(x, { rotaryDim: 3 })).toThrowError(
      /rotaryDim must be a positive even integer, got 3/,
    );
    expect(() => nn.applyRope(x, { rotaryDim: 8 })).toThrowError(/rotaryDim 8 exceeds the head dim D = 6/);
    expect(() => nn.applyRope(x, { positions: [1] })).toThrowError(
      /positions has 1 entries; expected one per row \(N = 2\)/,
    );
    x.dispose();
  });
});

describe('ALiBi', () => {
  it('slopes: geometric for powers of two, the paper interleaving otherwise', () => {
    expect(Array.from(nn.alibiSlopes(8))).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((h) => 2 ** -h));
    expect(Array.from(nn.alibiSlopes(6))).toEqual([2 ** -2, 2 ** -4, 2 ** -6, 2 ** -8, 2 ** -1, 2 ** -3]);
  });

  it('alibiBias equals the ALiBi scoreMod of the attention tests (values and attention output)', async () => {
    const [B, H, N, D] = [1, 4, 9, 8];
    const bias = nn.alibiBias(dev, H, N, N);
    const slopes = dev.tensor(nn.alibiSlopes(H), [H]);
    const mod = nn.alibiScoreMod(slopes);
    const b = await read(bias);
    const s = Array.from(nn.alibiSlopes(H));
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < N; i++) {
        for (let j = 0; j < N; j++)
          expect(b[(h * N + i) * N + j]).toBeCloseTo(
            mod.ts(0, 0, h, i, j, { slopes: Float32Array.from(s) }),
            6,
          );
      }
    }
    const [q, k, v] = [1, 2, 3].map((seed) => dev.tensor(randomData(B * H * N * D, seed), [B, H, N, D])) as [
      Tensor,
      Tensor,
      Tensor,
    ];
    const viaBias = attention(q, k, v, { causal: true, bias });
    const viaMod = attention(q, k, v, { causal: true, scoreMod: mod });
    expectClose(await viaBias.read(), await viaMod.read(), 1e-6, 1e-5, 'bias vs scoreMod');
    for (const t of [bias, slopes, q, k, v, viaBias, viaMod]) t.dispose();
  });

  it('offset aligns the last query with the last key (decoding with a cache)', async () => {
    const bias = await read(nn.alibiBias(dev, 1, 1, 4, { offset: 3 }));
    expect(bias).toEqual([3, 2, 1, 0].map((d) => -d * 2 ** -8)); // one head: slope 2^-8
  });
});

describe('T5 relative position buckets', () => {
  const rps = [
    -200, -128, -127, -91, -64, -45, -33, -32, -23, -22, -16, -15, -12, -11, -8, -7, -1, 0, 1, 7, 8, 11, 12,
    16, 22, 23, 32, 45, 64, 91, 127, 128, 200,
  ];
  it('t5RelativeBucket equals HF T5Attention._relative_position_bucket (torch 1.13)', () => {
    // expected values printed by the HF function in PyTorch (float32 logarithm)
    const bidirectional = [
      15, 15, 15, 15, 14, 12, 12, 12, 11, 10, 10, 9, 9, 8, 8, 7, 1, 0, 17, 23, 24, 24, 25, 26, 26, 27, 28, 28,
      30, 31, 31, 31, 31,
    ];
    const causal = [
      31, 31, 31, 29, 26, 23, 21, 21, 18, 18, 16, 15, 12, 11, 8, 7, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 0,
    ];
    expect(rps.map((r) => nn.t5RelativeBucket(r))).toEqual(bidirectional);
    expect(rps.map((r) => nn.t5RelativeBucket(r, { bidirectional: false }))).toEqual(causal);
  });

  it('RelativePositionBias reproduces the t5_relative_bias attention fixture from its table', async () => {
    const file = io.parseSafetensors(
      readFileSync(new URL('../../test/fixtures/attention.safetensors', import.meta.url)),
    );
    const fixture = file.tensors['t5_relative_bias.bias']!; // [H, Nq, Nk] = table[bucket(j - i), h]
    const [H, N] = [fixture.shape[0]!, fixture.shape[1]!];
    const want = fixture.data as Float32Array;
    const rpb = new nn.RelativePositionBias(dev, { numHeads: H });
    expect(Object.keys(rpb.stateDict())).toEqual(['relative_attention_bias.weight']);
    const table = new Float32Array(32 * H);
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < N; i++)
        for (let j = 0; j < N; j++) table[nn.t5RelativeBucket(j - i) * H + h] = want[(h * N + i) * N + j]!;
    }
    rpb.loadStateDict({ 'relative_attention_bias.weight': { dtype: 'F32', shape: [32, H], data: table } });
    const bias = rpb.forward(N, N);
    expect(bias.shape).toEqual([1, H, N, N]);
    expect(await read(bias)).toEqual(Array.from(want));
    bias.dispose();
    rpb.dispose();
  });

  it('its table gets the gradient of every (i, j) in each bucket', async () => {
    const [H, Nq, Nk] = [2, 3, 5];
    const rpb = new nn.RelativePositionBias(dev, { numHeads: H, numBuckets: 8, maxDistance: 16, seed: 1 });
    const g = randomData(H * Nq * Nk, 6);
    const gy = dev.tensor(g, [1, H, Nq, Nk]);
    const loss = tidy(() => sum(mul(rpb.forward(Nq, Nk, { offset: 2 }), gy)));
    loss.backward();
    const ids = rpb.buckets(Nq, Nk, { offset: 2 });
    const want = new Float64Array(8 * H);
    for (let h = 0; h < H; h++) {
      for (let p = 0; p < Nq * Nk; p++) want[ids[p]! * H + h]! += g[h * Nq * Nk + p]!;
    }
    expectClose(await rpb.relativeAttentionBias.weight.grad!.read(), want, 1e-6, 1e-6, 'd/dtable');
    for (const t of [gy, loss]) t.dispose();
    rpb.dispose();
  });
});
