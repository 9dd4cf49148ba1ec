/**
 * Linear attention against a float64 reference written straight from Katharopoulos et al. (2020),
 * eq. 4-6, with the full Nq x Nk kernel matrix (the test may, the library may not); the backward
 * against central differences of that reference; WebGPU against the CPU backend.
 */
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices, onGpu, randomData } from '../../../test/device.js';
import { wgslSource } from '../../../test/wgsl.js';
import {
  linearApplySpec,
  linearFeatureSpec,
  linearReduceSpec,
  linearRowsSpec,
  linearScanSpec,
} from '../../backend/webgpu/attention/linear.js';
import {
  type AttentionShape,
  type Device,
  type LinearAttentionOptions,
  linearAttention,
  linearAttentionBackward,
  type Tensor,
} from '../../index.js';

const { dev, cpu } = await getDevices();

interface Case extends AttentionShape {
  name: string;
  featureMap: LinearAttentionOptions['featureMap'];
  causal?: LinearAttentionOptions['causal'];
  eps?: number;
  /** q and k as permuted views of [B, N, H, D] buffers (strided inputs) */
  strided?: boolean;
}

type Arr = ArrayLike<number> & { [i: number]: number };

/** out_i = Σ_j (φ(q_i)·φ(k_j)) v_j / (Σ_j φ(q_i)·φ(k_j) + eps) over visible j, in float64. */
function reference(c: Case, q: Arr, k: Arr, v: Arr): Float64Array {
  const { B, H, Hkv, Nq, Nk, D, Dv } = c;
  const eps = c.eps ?? 1e-6;
  const phi = (x: Arr) => {
    const out = Float64Array.from(x);
    for (let r = 0; r < x.length / D; r++) {
      let norm = 0;
      for (let d = 0; d < D; d++) norm += x[r * D + d]! ** 2;
      norm = Math.max(Math.sqrt(norm), 1e-12);
      for (let d = 0; d < D; d++) {
        const t = x[r * D + d]!;
        out[r * D + d] = c.featureMap === 'cosine' ? t / norm : t > 0 ? t + 1 : Math.exp(t);
      }
    }
    return out;
  };
  const [fq, fk] = [phi(q), phi(k)];
  const shift = c.causal === 'bottom-right' ? Nk - Nq : 0;
  const out = new Float64Array(B * H * Nq * Dv);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / (H / Hkv));
      for (let i = 0; i < Nq; i++) {
        const row = (b * H + h) * Nq + i;
        let den = 0;
        const num = new Float64Array(Dv);
        for (let j = 0; j < Nk; j++) {
          if (c.causal && j > i + shift) continue;
          const kv = (b * Hkv + hk) * Nk + j;
          let w = 0;
          for (let d = 0; d < D; d++) w += fq[row * D + d]! * fk[kv * D + d]!;
          den += w;
          for (let e = 0; e < Dv; e++) num[e]! += w * v[kv * Dv + e]!;
        }
        for (let e = 0; e < Dv; e++) out[row * Dv + e] = num[e]! / (den + eps);
      }
    }
  return out;
}

function inputs(c: Case) {
  // cosine: a shared positive offset keeps Σ_j cos(q_i, k_j) well away from 0 (see linear.ts on eps)
  const offset = c.featureMap === 'cosine' ? 0.5 : 0;
  const shift = (x: Float32Array) => x.map((t) => t + offset);
  return {
    q: shift(randomData(c.B * c.H * c.Nq * c.D, 11)),
    k: shift(randomData(c.B * c.Hkv * c.Nk * c.D, 12)),
    v: randomData(c.B * c.Hkv * c.Nk * c.Dv, 13),
    g: randomData(c.B * c.H * c.Nq * c.Dv, 14),
  };
}

/** [B, heads, N, W] on `device`, optionally as a permuted view of a [B, N, heads, W] buffer. */
function upload(device: Device, data: Float32Array, shape: number[], strided: boolean): Tensor {
  if (!strided) return device.tensor(data, shape);
  const [B, Hh, N, W] = shape as [number, number, number, number];
  const moved = new Float32Array(data.length);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hh; h++)
      for (let n = 0; n < N; n++)
        for (let w = 0; w < W; w++)
          moved[((b * N + n) * Hh + h) * W + w] = data[((b * Hh + h) * N + n) * W + w]!;
  return device.tensor(moved, [B, N, Hh, W]).permute([0, 2, 1, 3]);
}

function optionsOf(c: Case): LinearAttentionOptions {
  const o: LinearAttentionOptions = { featureMap: c.featureMap };
  if (c.causal !== undefined) o.causal = c.causal;
  if (c.eps !== undefined) o.eps = c.eps;
  return o;
}

function run(device: Device, c: Case, x: ReturnType<typeof inputs>) {
  const q = upload(device, x.q, [c.B, c.H, c.Nq, c.D], c.strided === true);
  const k = upload(device, x.k, [c.B, c.Hkv, c.Nk, c.D], c.strided === true);
  const v = device.tensor(x.v, [c.B, c.Hkv, c.Nk, c.Dv]);
  const g = device.tensor(x.g, [c.B, c.H, c.Nq, c.Dv]);
  return {
    out: linearAttention(q, k, v, optionsOf(c)),
    grads: () => linearAttentionBackward(q, k, v, g, optionsOf(c)),
  };
}

const base = { B: 2, H: 2, Hkv: 2, Nq: 13, Nk: 13, D: 12, Dv: 20 };
const CASES: Case[] = [
  { name: 'elu+1, non-causal, odd sizes', ...base, featureMap: 'elu+1' },
  { name: 'elu+1, causal (prefix sums)', ...base, featureMap: 'elu+1', causal: true },
  { name: 'cosine, non-causal', ...base, featureMap: 'cosine' },
  { name: 'cosine, causal, eps 0.1', ...base, featureMap: 'cosine', causal: 'top-left', eps: 0.1 },
  {
    name: 'GQA (H 4, Hkv 2), causal, strided q and k',
    B: 1,
    H: 4,
    Hkv: 2,
    Nq: 11,
    Nk: 11,
    D: 8,
    Dv: 6,
    featureMap: 'elu+1',
    causal: true,
    strided: true,
  },
  {
    name: 'MQA cross-attention (Nq 7, Nk 11), cosine',
    B: 1,
    H: 3,
    Hkv: 1,
    Nq: 7,
    Nk: 11,
    D: 12,
    Dv: 5,
    featureMap: 'cosine',
  },
  {
    name: 'causal bottom-right, Nq 5 < Nk 9, GQA',
    B: 2,
    H: 2,
    Hkv: 1,
    Nq: 5,
    Nk: 9,
    D: 4,
    Dv: 3,
    featureMap: 'elu+1',
    causal: 'bottom-right',
  },
  {
    name: 'causal top-left, Nq 9 > Nk 5',
    B: 1,
    H: 2,
    Hkv: 2,
    Nq: 9,
    Nk: 5,
    D: 5,
    Dv: 7,
    featureMap: 'cosine',
    causal: true,
  },
  {
    name: 'causal bottom-right, Nq 7 > Nk 4: early rows see no key',
    B: 1,
    H: 1,
    Hkv: 1,
    Nq: 7,
    Nk: 4,
    D: 3,
    Dv: 2,
    featureMap: 'elu+1',
    causal: 'bottom-right',
  },
  {
    name: 'head dims 256 x 256, causal',
    B: 1,
    H: 1,
    Hkv: 1,
    Nq: 3,
    Nk: 3,
    D: 256,
    Dv: 256,
    featureMap: 'elu+1',
    causal: true,
  },
];

describe('linearAttention vs the paper (float64)', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const x = inputs(c);
      const { out } = run(dev, c, x);
      const got = await out.read();
      expect(got.every(Number.isFinite)).toBe(true);
      expectClose(got, reference(c, x.q, x.k, x.v), 1e-5, 1e-5, 'out');
      if (onGpu) expectClose(got, await run(cpu, c, x).out.read(), 1e-5, 1e-5, 'out vs cpu');
    });
  }
});

/** d/dx of sum(out ∘ g) by central differences of the float64 reference, for every element. */
function numericGrads(c: Case, x: ReturnType<typeof inputs>) {
  const h = 1e-4;
  const inputs64 = { q: Float64Array.from(x.q), k: Float64Array.from(x.k), v: Float64Array.from(x.v) };
  const loss = () => reference(c, inputs64.q, inputs64.k, inputs64.v).reduce((s, o, n) => s + o * x.g[n]!, 0);
  const grad = (which: 'q' | 'k' | 'v') => {
    const arr = inputs64[which];
    return Float64Array.from(arr, (saved, idx) => {
      arr[idx] = saved + h;
      const up = loss();
      arr[idx] = saved - h;
      const down = loss();
      arr[idx] = saved;
      return (up - down) / (2 * h);
    });
  };
  return { dq: grad('q'), dk: grad('k'), dv: grad('v') };
}

describe('linearAttentionBackward vs finite differences', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const x = inputs(c);
      const g = run(dev, c, x).grads();
      const got = { dq: await g.dq.read(), dk: await g.dk.read(), dv: await g.dv.read() };
      expect(g.dq.shape).toEqual([c.B, c.H, c.Nq, c.D]);
      expect(g.dk.shape).toEqual([c.B, c.Hkv, c.Nk, c.D]);
      expect(g.dv.shape).toEqual([c.B, c.Hkv, c.Nk, c.Dv]);
      const num = numericGrads(c, x);
      for (const n of ['dq', 'dk', 'dv'] as const) expectClose(got[n], num[n], 2e-5, 1e-4, n);
      if (onGpu) {
        const r = run(cpu, c, x).grads();
        expectClose(got.dq, await r.dq.read(), 1e-5, 1e-5, 'dq vs cpu');
        expectClose(got.dk, await r.dk.read(), 1e-5, 1e-5, 'dk vs cpu');
        expectClose(got.dv, await r.dv.read(), 1e-5, 1e-5, 'dv vs cpu');
      }
    });
  }
});

describe('linearAttention edge cases', () => {
  it('a zero row under cosine maps to zero features: out is 0, gradients finite', async () => {
    const c: Case = { name: '', B: 1, H: 1, Hkv: 1, Nq: 3, Nk: 3, D: 4, Dv: 2, featureMap: 'cosine' };
    const x = inputs(c);
    x.q.fill(0, 4, 8); // query row 1 is zero
    const { out, grads } = run(dev, c, x);
    const o = await out.read();
    expect(Array.from(o.slice(2, 4))).toEqual([0, 0]);
    expectClose(o, reference(c, x.q, x.k, x.v), 1e-5, 1e-5, 'out');
    const g = grads();
    for (const t of [g.dq, g.dk, g.dv]) expect((await t.read()).every(Number.isFinite)).toBe(true);
  });

  it('frees every intermediate (no tensor or N x N buffer left behind)', () => {
    const c: Case = { ...base, name: '', featureMap: 'elu+1', causal: true };
    const x = inputs(c);
    const before = dev.memory().liveTensors;
    const { out, grads } = run(dev, c, x);
    const g = grads();
    // q, k, v, g inputs + out + dq, dk, dv
    expect(dev.memory().liveTensors - before).toBe(4 + 1 + 3);
    for (const t of [out, g.dq, g.dk, g.dv]) t.dispose();
  });

  it('rejects bad options and shapes, naming the argument', () => {
    const t = (shape: number[]) => dev.zeros(shape);
    const [q, k, v] = [t([1, 2, 4, 8]), t([1, 2, 4, 8]), t([1, 2, 4, 6])];
    expect(() => linearAttention(q, k, v, { featureMap: 'relu' as never })).toThrowError(
      /linearAttention: featureMap must be 'elu\+1' or 'cosine', got "relu"/,
    );
    expect(() => linearAttention(q, k, v, {} as never)).toThrowError(/featureMap must be/);
    expect(() => linearAttention(q, k, v, { featureMap: 'elu+1', eps: -1 })).toThrowError(
      /linearAttention: eps must be a finite number >= 0, got -1/,
    );
    expect(() => linearAttention(t([1, 3, 4, 8]), k, v, { featureMap: 'elu+1' })).toThrowError(
      /linearAttention: q heads H = 3 must be a multiple of k\/v heads Hkv = 2/,
    );
    expect(() => linearAttention(q, t([1, 2, 4, 5]), v, { featureMap: 'cosine' })).toThrowError(
      /q and k head dims differ \(8 vs 5\)/,
    );
    expect(() => linearAttention(q, k, v, { featureMap: 'elu+1', causal: 'diagonal' as never })).toThrowError(
      /causal must be true, false, 'top-left'/,
    );
    expect(() => linearAttentionBackward(q, k, v, t([1, 2, 4, 8]), { featureMap: 'elu+1' })).toThrowError(
      /linearAttentionBackward: dout has shape \[1, 2, 4, 8\]; expected \[B, H, Nq, Dv\] = \[1, 2, 4, 6\]/,
    );
  });
});

describe('linear attention WGSL', () => {
  it('five kernels, no shape baked in', () => {
    const specs = [
      linearFeatureSpec(),
      linearRowsSpec(),
      linearScanSpec(),
      linearReduceSpec(),
      linearApplySpec(),
    ];
    expect(new Set(specs.map((s) => s.key)).size).toBe(5);
    for (const s of specs) expect(wgslSource(s)).toMatchSnapshot(s.key);
  });
});
