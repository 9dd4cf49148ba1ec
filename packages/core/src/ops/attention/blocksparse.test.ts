/**
 * Block-sparse attention against a float64 reference written from the definition (softmax over the
 * keys of the allowed blocks, full score rows), against dense `attention` with the expanded boolean
 * mask on the same device (a strong cross-check: two independent kernels), and WebGPU against CPU.
 */
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices, onGpu, randomData } from '../../../test/device.js';
import { wgslSource } from '../../../test/wgsl.js';
import { blockSparseSpec } from '../../backend/webgpu/attention/block-sparse.js';
import {
  type AttentionShape,
  attention,
  type BlockLayout,
  type BlockSparseOptions,
  blockLayouts,
  blockSparseAttention,
  type Device,
} from '../../index.js';

const { dev, cpu } = await getDevices();

interface Case extends AttentionShape {
  name: string;
  bs: number;
  layout: BlockLayout;
  causal?: BlockSparseOptions['causal'];
  scale?: number;
}

/** The layout as a [nqb, nkb] 0/1 grid. */
function grid(c: Case): Uint8Array {
  const nkb = c.Nk / c.bs;
  if (c.layout instanceof Uint8Array) return c.layout;
  const g = new Uint8Array((c.Nq / c.bs) * nkb);
  for (const [qb, kb] of c.layout) g[qb * nkb + kb] = 1;
  return g;
}

/** Boolean [Nq, Nk] mask: true = attend (block allowed and, with `withCausal`, j <= i + shift). */
function denseMask(c: Case, withCausal: boolean): Uint8Array {
  const g = grid(c);
  const nkb = c.Nk / c.bs;
  const shift = c.causal === 'bottom-right' ? c.Nk - c.Nq : 0;
  const mask = new Uint8Array(c.Nq * c.Nk);
  for (let i = 0; i < c.Nq; i++)
    for (let j = 0; j < c.Nk; j++) {
      const inBlock = g[Math.floor(i / c.bs) * nkb + Math.floor(j / c.bs)] === 1;
      mask[i * c.Nk + j] = inBlock && (!withCausal || !c.causal || j <= i + shift) ? 1 : 0;
    }
  return mask;
}

function reference(c: Case, q: Float32Array, k: Float32Array, v: Float32Array) {
  const { B, H, Hkv, Nq, Nk, D, Dv } = c;
  const scale = c.scale ?? 1 / Math.sqrt(D);
  const mask = denseMask(c, true);
  const out = new Float64Array(B * H * Nq * Dv);
  const lse = new Float64Array(B * H * Nq);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < Nq; i++) {
        const hk = Math.floor(h / (H / Hkv));
        const row = (b * H + h) * Nq + i;
        const s = Array.from({ length: Nk }, (_, j) => {
          if (!mask[i * Nk + j]) return Number.NEGATIVE_INFINITY;
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[row * D + d]! * k[((b * Hkv + hk) * Nk + j) * D + d]!;
          return dot * scale;
        });
        const m = Math.max(...s);
        if (m === Number.NEGATIVE_INFINITY) {
          lse[row] = m;
          continue;
        }
        lse[row] = m + Math.log(s.reduce((a, x) => a + Math.exp(x - m), 0));
        s.forEach((x, j) => {
          const p = Math.exp(x - lse[row]!);
          for (let e = 0; e < Dv; e++) out[row * Dv + e]! += p * v[((b * Hkv + hk) * Nk + j) * Dv + e]!;
        });
      }
  return { out, lse };
}

/** Odd sizes: N 15 in blocks of 5, D 12, Dv 20. */
const odd = { B: 2, H: 2, Hkv: 2, Nq: 15, Nk: 15, D: 12, Dv: 20, bs: 5 };

const CASES: Case[] = [
  {
    name: 'pairs, odd sizes (N 15, block 5, D 12, Dv 20)',
    ...odd,
    layout: [
      [0, 0],
      [0, 2],
      [1, 1],
      [2, 0],
      [2, 2],
      [2, 2], // duplicates are fine
    ],
  },
  { name: 'local layout, causal top-left', ...odd, layout: blockLayouts.local(3, 1), causal: true },
  {
    name: 'GQA (H 4, Hkv 2), strided layout, causal',
    B: 1,
    H: 4,
    Hkv: 2,
    Nq: 16,
    Nk: 16,
    D: 8,
    Dv: 8,
    bs: 2,
    layout: blockLayouts.strided(8, 3),
    causal: 'top-left',
  },
  {
    name: 'cross-attention Nq 8 < Nk 12, bottom-right, a query block with no key block',
    B: 2,
    H: 1,
    Hkv: 1,
    Nq: 8,
    Nk: 12,
    D: 8,
    Dv: 8,
    bs: 4,
    layout: Uint8Array.from([1, 0, 1, 0, 0, 0]),
    causal: 'bottom-right',
  },
  {
    name: 'BigBird layout, scale 0.3, MQA',
    B: 1,
    H: 3,
    Hkv: 1,
    Nq: 12,
    Nk: 12,
    D: 8,
    Dv: 8,
    bs: 2,
    layout: blockLayouts.bigBird(6, { window: 1, global: 1, random: 1, seed: 3 }),
    scale: 0.3,
  },
  {
    name: 'head dims 96 x 112',
    B: 1,
    H: 1,
    Hkv: 1,
    Nq: 8,
    Nk: 8,
    D: 96,
    Dv: 112,
    bs: 4,
    layout: [
      [0, 1],
      [1, 0],
      [1, 1],
    ],
  },
  {
    name: 'head dim 256, block size 1',
    B: 1,
    H: 1,
    Hkv: 1,
    Nq: 3,
    Nk: 3,
    D: 256,
    Dv: 256,
    bs: 1,
    layout: blockLayouts.local(3, 2),
    causal: true,
  },
];

function inputs(c: Case) {
  return {
    q: randomData(c.B * c.H * c.Nq * c.D, 21, 2),
    k: randomData(c.B * c.Hkv * c.Nk * c.D, 22, 2),
    v: randomData(c.B * c.Hkv * c.Nk * c.Dv, 23),
  };
}

/** q [B, H, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv] of the case on `device`. */
function tensors(device: Device, c: Case, x: ReturnType<typeof inputs>) {
  const q = device.tensor(x.q, [c.B, c.H, c.Nq, c.D]);
  const k = device.tensor(x.k, [c.B, c.Hkv, c.Nk, c.D]);
  const v = device.tensor(x.v, [c.B, c.Hkv, c.Nk, c.Dv]);
  return { q, k, v };
}

/** The options block-sparse and dense attention share: causal and scale, where the case sets them. */
function causalAndScale(c: Case) {
  return {
    ...(c.causal !== undefined ? { causal: c.causal } : {}),
    ...(c.scale !== undefined ? { scale: c.scale } : {}),
  };
}

function run(device: Device, c: Case, x: ReturnType<typeof inputs>) {
  const { q, k, v } = tensors(device, c, x);
  const opts: BlockSparseOptions = { blockSize: c.bs, layout: c.layout, ...causalAndScale(c) };
  return { q, k, v, ...blockSparseAttention.detailed(q, k, v, opts) };
}

describe('blockSparseAttention vs the definition (float64) and dense attention with the mask', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const x = inputs(c);
      const { q, k, v, out, lse } = run(dev, c, x);
      const o = await out.read();
      const l = await lse.read();
      const ref = reference(c, x.q, x.k, x.v);
      expect(o.every(Number.isFinite)).toBe(true); // rows with no key give zeros, never NaN
      expectClose(o, ref.out, 1e-5, 1e-5, 'out');
      expectClose(l, ref.lse, 1e-5, 1e-5, 'lse');
      // dense attention on the same device: the block mask expanded (true = attend), its own causal
      const mask = dev.tensor(denseMask(c, false), [c.Nq, c.Nk], { dtype: 'bool' });
      const dense = attention.detailed(q, k, v, { mask, ...causalAndScale(c) });
      expectClose(o, await dense.out.read(), 1e-5, 1e-5, 'out vs dense attention');
      expectClose(l, await dense.lse.read(), 1e-5, 1e-5, 'lse vs dense attention');
      if (onGpu) {
        const r = run(cpu, c, x);
        expectClose(o, await r.out.read(), 1e-5, 1e-5, 'out vs cpu');
        expectClose(l, await r.lse.read(), 1e-5, 1e-5, 'lse vs cpu');
      }
    });
  }

  it('the same layout as pairs and as a block mask gives the same output', async () => {
    const c = CASES[0]!;
    const x = inputs(c);
    const a = await run(dev, c, x).out.read();
    const b = await run(dev, { ...c, layout: grid(c) }, x).out.read();
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('an empty layout gives zeros and lse = -inf', async () => {
    const c: Case = { ...CASES[2]!, layout: [] };
    const { out, lse } = run(dev, c, inputs(c));
    expect((await out.read()).every((t) => t === 0)).toBe(true);
    expect((await lse.read()).every((t) => t === Number.NEGATIVE_INFINITY)).toBe(true);
  });
});

describe('blockSparseAttention backward', () => {
  // through autograd: the gradients equal dense attention's with the expanded mask (dq, dk, dv)
  for (const c of CASES.slice(0, 3)) {
    it(c.name, async () => {
      const x = inputs(c);
      const gout = randomData(c.B * c.H * c.Nq * c.Dv, 24);
      const grads = async (sparse: boolean) => {
        const { q, k, v } = tensors(dev, c, x);
        for (const t of [q, k, v]) t.requiresGrad_();
        const common = causalAndScale(c);
        const mask = dev.tensor(denseMask(c, false), [c.Nq, c.Nk], { dtype: 'bool' });
        const out = sparse
          ? blockSparseAttention(q, k, v, { blockSize: c.bs, layout: c.layout, ...common })
          : attention(q, k, v, { mask, ...common });
        out.backward(dev.tensor(gout, out.shape));
        const g = [await q.grad!.read(), await k.grad!.read(), await v.grad!.read()];
        for (const t of [q, k, v, out, mask]) t.dispose();
        return g;
      };
      const [sparse, dense] = [await grads(true), await grads(false)];
      ['dq', 'dk', 'dv'].forEach((name, i) => {
        expect(sparse[i]!.every(Number.isFinite)).toBe(true);
        expectClose(sparse[i]!, dense[i]!, 1e-5, 1e-5, `${name} vs dense attention`);
      });
    });
  }
});

describe('blockLayouts', () => {
  const rows = (m: Uint8Array, n: number) =>
    Array.from({ length: n }, (_, r) => Array.from(m.slice(r * n, (r + 1) * n)).join(''));
  it('local: a band of width blocks on each side', () => {
    expect(rows(blockLayouts.local(5, 1), 5)).toEqual(['11000', '11100', '01110', '00111', '00011']);
  });
  it('strided: neighbours closer than the stride and every stride-th block (Child et al. 2019)', () => {
    expect(rows(blockLayouts.strided(7, 3), 7)).toEqual([
      '1111001',
      '1111100',
      '1111110',
      '1111111',
      '0111111',
      '0011111',
      '1001111',
    ]);
  });
  it('bigBird: window, global rows and columns, and `random` extra blocks per row from the seed', () => {
    const n = 8;
    const base = blockLayouts.bigBird(n, { window: 1, global: 1, random: 0 });
    expect(rows(base, n)).toEqual([
      '11111111',
      '11100000',
      '11110000',
      '10111000',
      '10011100',
      '10001110',
      '10000111',
      '10000011',
    ]);
    const withRandom = blockLayouts.bigBird(n, { window: 1, global: 1, random: 2, seed: 7 });
    for (let qb = 0; qb < n; qb++) {
      const extra = withRandom
        .slice(qb * n, (qb + 1) * n)
        .reduce((s, t, kb) => s + t - base[qb * n + kb]!, 0);
      expect(extra).toBe(qb === 0 ? 0 : 2); // row 0 is global: nothing left to draw
    }
    expect(Array.from(blockLayouts.bigBird(n, { random: 2, seed: 7 }))).toEqual(Array.from(withRandom));
    expect(Array.from(blockLayouts.bigBird(n, { random: 2, seed: 8 }))).not.toEqual(Array.from(withRandom));
  });
  it('rejects bad arguments', () => {
    expect(() => blockLayouts.local(0, 1)).toThrowError(
      /blockLayouts.local: nBlocks must be an integer >= 1, got 0/,
    );
    expect(() => blockLayouts.strided(4, 0)).toThrowError(/stride must be an integer >= 1, got 0/);
    expect(() => blockLayouts.bigBird(4, { window: -1 })).toThrowError(
      /window must be an integer >= 0, got -1/,
    );
  });
});

describe('blockSparseAttention errors name the argument, what came and what was expected', () => {
  const t = (shape: number[]) => dev.zeros(shape);
  const qkv = (Nq: number, Nk: number) => [t([1, 2, Nq, 8]), t([1, 2, Nk, 8]), t([1, 2, Nk, 8])] as const;
  it('shapes and blockSize', () => {
    const [q, k, v] = qkv(10, 12);
    expect(() => blockSparseAttention(q, k, v, { blockSize: 4, layout: [] })).toThrowError(
      /blockSparseAttention: Nq = 10 is not divisible by blockSize = 4; pad the sequence to a multiple of 4/,
    );
    const [q2, k2, v2] = qkv(12, 10);
    expect(() => blockSparseAttention(q2, k2, v2, { blockSize: 4, layout: [] })).toThrowError(
      /Nk = 10 is not divisible by blockSize = 4/,
    );
    expect(() => blockSparseAttention(q2, k2, v2, { blockSize: 2.5, layout: [] })).toThrowError(
      /blockSize must be a positive integer, got 2.5/,
    );
    expect(() => blockSparseAttention(t([1, 3, 4, 8]), k, v, { blockSize: 2, layout: [] })).toThrowError(
      /blockSparseAttention: q heads H = 3 must be a multiple of k\/v heads Hkv = 2/,
    );
  });
  it('layout entries', () => {
    const [q, k, v] = qkv(12, 8);
    const bs = { blockSize: 4 };
    expect(() =>
      blockSparseAttention(q, k, v, {
        ...bs,
        layout: [
          [0, 0],
          [3, 1],
        ],
      }),
    ).toThrowError(
      /layout\[1\] = \[3, 1\]: query block 3 is out of range \[0, 3\) \(Nq = 12, blockSize = 4\)/,
    );
    expect(() => blockSparseAttention(q, k, v, { ...bs, layout: [[1, -1]] })).toThrowError(
      /layout\[0\] = \[1, -1\]: key block -1 is out of range \[0, 2\) \(Nk = 8, blockSize = 4\)/,
    );
    expect(() => blockSparseAttention(q, k, v, { ...bs, layout: [[1]] as never })).toThrowError(
      /layout\[0\] = \[1\]; expected a pair of integers \[qBlock, kBlock\]/,
    );
    expect(() => blockSparseAttention(q, k, v, { ...bs, layout: new Uint8Array(5) })).toThrowError(
      /layout has 5 entries; expected a Uint8Array block mask of Nq \/ blockSize x Nk \/ blockSize = 3 x 2 entries/,
    );
    expect(() =>
      blockSparseAttention(q, k, v, { ...bs, layout: Uint8Array.from([1, 0, 2, 0, 0, 0]) }),
    ).toThrowError(/layout\[2\] = 2; expected 0 or 1/);
    expect(() => blockSparseAttention(q, k, v, { ...bs, layout: new Int32Array(6) as never })).toThrowError(
      /layout must be a Uint8Array block mask .* or an array of \[qBlock, kBlock\] pairs, got Int32Array/,
    );
  });
});

describe('block-sparse WGSL', () => {
  it('head dims are uniforms; only the register bucket is baked', () => {
    const spec = blockSparseSpec(64);
    expect(wgslSource(spec)).toMatchSnapshot();
  });
});
