/**
 * Attention against a float64 reference written straight from the contract (full score matrices: the
 * test may use N x N memory, the library may not), on both backends; backward against finite
 * differences of the reference; GPU against the CPU backend.
 */
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices, onGpu, randomData } from '../../../test/device.js';
import {
  type AttentionKernel,
  type AttentionOptions,
  type AttentionShape,
  attention,
  attentionBackward,
  type Device,
  nn,
  type Tensor,
} from '../../index.js';

const { dev, cpu } = await getDevices();

interface Case extends AttentionShape {
  name: string;
  /** host-side description of the options, turned into tensors per device */
  causal?: AttentionOptions['causal'];
  window?: [number, number];
  softcap?: number;
  scale?: number;
  maskShape?: number[];
  biasShape?: number[];
  kvLens?: number[];
  alibi?: boolean;
  docMask?: boolean;
  valueScale?: number;
  kernel?: AttentionKernel;
}

/** Contract-level float64 reference. */
function reference(
  c: Case,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  mask: Uint8Array | null,
  bias: Float32Array | null,
  slopes: Float32Array,
  docs: Int32Array,
) {
  const { B, H, Hkv, Nq, Nk, D, Dv } = c;
  const scale = c.scale ?? 1 / Math.sqrt(D);
  const at = (shape: number[] | undefined, b: number, h: number, i: number, j: number) => {
    const s = [...new Array(4 - shape!.length).fill(1), ...shape!];
    const idx = [b, h, i, j].map((x, d) => (s[d] === 1 ? 0 : x));
    return ((idx[0]! * s[1]! + idx[1]!) * s[2]! + idx[2]!) * s[3]! + idx[3]!;
  };
  const out = new Float64Array(B * H * Nq * Dv);
  const lse = new Float64Array(B * H * Nq);
  const P = new Float64Array(B * H * Nq * Nk);
  const shift = c.causal === 'bottom-right' ? Nk - Nq : 0;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < Nq; i++) {
        const hk = Math.floor(h / (H / Hkv));
        const scores: number[] = [];
        for (let j = 0; j < Nk; j++) {
          let ok = true;
          if (c.causal) ok &&= j <= i + shift;
          if (c.window) ok &&= i + shift - c.window[0] <= j && j <= i + shift + c.window[1];
          if (mask) ok &&= mask[at(c.maskShape, b, h, i, j)] === 1;
          if (c.kvLens) ok &&= j < c.kvLens[b]!;
          if (c.docMask) ok &&= docs[i] === docs[j];
          if (!ok) {
            scores.push(Number.NEGATIVE_INFINITY);
            continue;
          }
          let dot = 0;
          for (let d = 0; d < D; d++)
            dot += q[((b * H + h) * Nq + i) * D + d]! * k[((b * Hkv + hk) * Nk + j) * D + d]!;
          let s = dot * scale;
          if (c.softcap) s = c.softcap * Math.tanh(s / c.softcap);
          if (bias) s += bias[at(c.biasShape, b, h, i, j)]!;
          if (c.alibi) s -= slopes[h]! * Math.abs(i - j);
          scores.push(s);
        }
        const m = Math.max(...scores);
        const row = (b * H + h) * Nq + i;
        if (m === Number.NEGATIVE_INFINITY) {
          lse[row] = Number.NEGATIVE_INFINITY;
          continue;
        }
        const z = scores.reduce((a, s) => a + Math.exp(s - m), 0);
        lse[row] = m + Math.log(z);
        scores.forEach((s, j) => {
          const p = Math.exp(s - lse[row]!);
          P[row * Nk + j] = p;
          for (let d = 0; d < Dv; d++) out[row * Dv + d]! += p * v[((b * Hkv + hk) * Nk + j) * Dv + d]!;
        });
      }
  return { out, lse, P };
}

function inputs(c: Case) {
  const q = randomData(c.B * c.H * c.Nq * c.D, 1, c.valueScale ?? 1);
  const k = randomData(c.B * c.Hkv * c.Nk * c.D, 2, c.valueScale ?? 1);
  const v = randomData(c.B * c.Hkv * c.Nk * c.Dv, 3);
  const maskN = c.maskShape?.reduce((a, b) => a * b, 1) ?? 0;
  const mask = c.maskShape ? Uint8Array.from(randomData(maskN, 4), (x) => (x > -0.4 ? 1 : 0)) : null;
  const bias = c.biasShape
    ? randomData(
        c.biasShape.reduce((a, b) => a * b, 1),
        5,
        2,
      )
    : null;
  const slopes = Float32Array.from({ length: c.H }, (_, h) => 2 ** ((-8 * (h + 1)) / c.H));
  const docs = Int32Array.from({ length: Math.max(c.Nq, c.Nk) }, (_, i) => Math.floor(i / 5));
  return { q, k, v, mask, bias, slopes, docs };
}

function options(c: Case, device: Device, x: ReturnType<typeof inputs>): AttentionOptions {
  const o: AttentionOptions = {};
  if (c.causal !== undefined) o.causal = c.causal;
  if (c.window) o.window = c.window;
  if (c.softcap) o.softcap = c.softcap;
  if (c.scale) o.scale = c.scale;
  if (x.mask) o.mask = device.tensor(x.mask, c.maskShape!, { dtype: 'bool' });
  if (x.bias) o.bias = device.tensor(x.bias, c.biasShape!);
  if (c.kvLens) o.kvLens = c.kvLens;
  if (c.kernel) o.kernel = c.kernel;
  if (c.alibi) o.scoreMod = nn.alibiScoreMod(device.tensor(x.slopes, [c.H]));
  if (c.docMask) {
    o.maskMod = {
      name: 'document',
      wgsl: 'docs_ld(i) == docs_ld(j)',
      ts: (_b, _h, i, j, t) => t.docs![i] === t.docs![j],
      tensors: { docs: device.tensor(Float32Array.from(x.docs), [x.docs.length]) },
    };
  }
  return o;
}

const CASES: Case[] = [
  { name: 'self-attention, odd N', B: 2, H: 2, Hkv: 2, Nq: 13, Nk: 13, D: 16, Dv: 16 },
  { name: 'cross-attention, Dv != D, odd dims', B: 1, H: 2, Hkv: 2, Nq: 7, Nk: 19, D: 12, Dv: 20 },
  {
    name: 'GQA (H 4, Hkv 2), causal top-left',
    B: 1,
    H: 4,
    Hkv: 2,
    Nq: 11,
    Nk: 11,
    D: 8,
    Dv: 8,
    causal: true,
  },
  {
    name: 'MQA, causal bottom-right (decode-style Nq < Nk)',
    B: 2,
    H: 3,
    Hkv: 1,
    Nq: 5,
    Nk: 12,
    D: 8,
    Dv: 8,
    causal: 'bottom-right',
  },
  { name: 'sliding window [3, 1]', B: 1, H: 2, Hkv: 2, Nq: 17, Nk: 17, D: 8, Dv: 8, window: [3, 1] },
  {
    name: 'boolean mask [B, 1, 1, Nk] and kvLens',
    B: 2,
    H: 2,
    Hkv: 2,
    Nq: 9,
    Nk: 10,
    D: 8,
    Dv: 8,
    maskShape: [2, 1, 1, 10],
    kvLens: [10, 6],
  },
  {
    name: 'boolean mask [Nq, Nk] with fully masked rows',
    B: 1,
    H: 2,
    Hkv: 2,
    Nq: 9,
    Nk: 4,
    D: 8,
    Dv: 8,
    maskShape: [9, 4],
  },
  {
    name: 'bias [1, H, Nq, Nk] and scale',
    B: 2,
    H: 2,
    Hkv: 2,
    Nq: 6,
    Nk: 7,
    D: 8,
    Dv: 8,
    biasShape: [1, 2, 6, 7],
    scale: 0.3,
  },
  {
    name: 'softcap with large logits',
    B: 1,
    H: 2,
    Hkv: 2,
    Nq: 8,
    Nk: 8,
    D: 8,
    Dv: 8,
    softcap: 5,
    valueScale: 30,
  },
  { name: 'logits beyond 80 stay exact', B: 1, H: 1, Hkv: 1, Nq: 6, Nk: 9, D: 8, Dv: 8, valueScale: 20 },
  {
    name: 'ALiBi scoreMod + document maskMod + causal',
    B: 1,
    H: 4,
    Hkv: 2,
    Nq: 12,
    Nk: 12,
    D: 8,
    Dv: 8,
    causal: true,
    alibi: true,
    docMask: true,
  },
  {
    name: 'everything combined',
    B: 2,
    H: 4,
    Hkv: 2,
    Nq: 10,
    Nk: 14,
    D: 12,
    Dv: 8,
    causal: 'bottom-right',
    window: [6, 0],
    maskShape: [2, 1, 10, 14],
    biasShape: [4, 10, 14],
    kvLens: [14, 11],
    softcap: 4,
    alibi: true,
  },
  {
    name: 'head dim 80, kvLens 0 for one batch',
    B: 2,
    H: 1,
    Hkv: 1,
    Nq: 5,
    Nk: 6,
    D: 80,
    Dv: 80,
    kvLens: [6, 0],
  },
  { name: 'head dim 96 x Dv 112', B: 1, H: 1, Hkv: 1, Nq: 5, Nk: 6, D: 96, Dv: 112 },
  { name: 'head dim 256', B: 1, H: 1, Hkv: 1, Nq: 3, Nk: 5, D: 256, Dv: 256, causal: true },
];

/** One forward case against the float64 contract: out, lse and the weights recomputed from lse. */
async function checkForward(c: Case) {
  const x = inputs(c);
  const q = dev.tensor(x.q, [c.B, c.H, c.Nq, c.D]);
  const k = dev.tensor(x.k, [c.B, c.Hkv, c.Nk, c.D]);
  const v = dev.tensor(x.v, [c.B, c.Hkv, c.Nk, c.Dv]);
  const { out, lse, weights } = attention.detailed(q, k, v, { ...options(c, dev, x), weights: true });
  const ref = reference(c, x.q, x.k, x.v, x.mask, x.bias, x.slopes, x.docs);
  const o = await out.read();
  expect(o.every(Number.isFinite)).toBe(true); // never NaN, even for fully masked rows
  expectClose(o, ref.out, 1e-5, 1e-5, 'out');
  expectClose(await lse.read(), ref.lse, 1e-4, 1e-5, 'lse');
  expectClose(await weights!.read(), ref.P, 1e-6, 1e-5, 'weights');
}

describe('attention forward vs the contract (float64)', () => {
  for (const c of CASES) it(c.name, () => checkForward(c));
});

// SwiftShader runs the register kernel; hardware adapters the workgroup-tiled one, checked here too
if (onGpu)
  describe('attention forward, tiled kernel (hardware adapters) vs the contract', () => {
    const tiledCases: Case[] = [
      ...CASES.filter((c) => c.D % 4 === 0 && c.Dv % 4 === 0),
      // more rows than one workgroup (64) and keys than one tile, causal: skipped and partial tiles
      { name: 'Nq 150, Nk 150, causal', B: 1, H: 2, Hkv: 1, Nq: 150, Nk: 150, D: 16, Dv: 16, causal: true },
      {
        name: 'Nq 70, Nk 200, window [40, 3]',
        B: 1,
        H: 1,
        Hkv: 1,
        Nq: 70,
        Nk: 200,
        D: 32,
        Dv: 32,
        window: [40, 3],
        causal: 'bottom-right',
      },
    ];
    for (const c of tiledCases) it(c.name, () => checkForward({ ...c, kernel: 'tiled' }));
  });

/** Gradients of sum(out ∘ G) by central differences of the float64 reference. */
function numericGrad(
  c: Case,
  x: ReturnType<typeof inputs>,
  G: Float32Array,
  which: 'q' | 'k' | 'v' | 'bias',
  idx: number,
) {
  const h = 1e-3;
  const arr = x[which]!;
  const f = () => {
    const r = reference(c, x.q, x.k, x.v, x.mask, x.bias, x.slopes, x.docs);
    return r.out.reduce((s, o, n) => s + o * G[n]!, 0);
  };
  const saved = arr[idx]!;
  arr[idx] = saved + h;
  const up = f();
  arr[idx] = saved - h;
  const down = f();
  arr[idx] = saved;
  return (up - down) / (2 * h);
}

/** One backward case: dq, dk, dv (and dbias) against the CPU backend and finite differences. */
async function checkBackward(c: Case) {
  const x = inputs(c);
  const G = randomData(c.B * c.H * c.Nq * c.Dv, 9);
  const run = (device: Device) => {
    const q = device.tensor(x.q, [c.B, c.H, c.Nq, c.D]);
    const k = device.tensor(x.k, [c.B, c.Hkv, c.Nk, c.D]);
    const v = device.tensor(x.v, [c.B, c.Hkv, c.Nk, c.Dv]);
    const opts = options(c, device, x);
    const { out, lse } = attention.detailed(q, k, v, opts);
    const dout = device.tensor(G, [c.B, c.H, c.Nq, c.Dv]);
    return attentionBackward(q, k, v, out, lse, dout, opts);
  };
  const g = run(dev);
  const got = {
    q: await g.dq.read(),
    k: await g.dk.read(),
    v: await g.dv.read(),
    bias: g.dbias ? await g.dbias.read() : null,
  } as Record<string, Float32Array | null>;
  if (onGpu) {
    const r = run(cpu);
    expectClose(got.q!, await r.dq.read(), 2e-5, 1e-4, 'dq vs cpu');
    expectClose(got.k!, await r.dk.read(), 2e-5, 1e-4, 'dk vs cpu');
    expectClose(got.v!, await r.dv.read(), 2e-5, 1e-4, 'dv vs cpu');
    if (r.dbias) expectClose(got.bias!, await r.dbias.read(), 2e-5, 1e-4, 'dbias vs cpu');
  }
  // spot-check against finite differences (float64 reference; h = 1e-3)
  const targets: ('q' | 'k' | 'v' | 'bias')[] = ['q', 'k', 'v', ...(c.biasShape ? (['bias'] as const) : [])];
  for (const which of targets) {
    const n = x[which]!.length;
    for (const idx of [0, Math.floor(n / 3), n - 1]) {
      const num = numericGrad(c, x, G, which, idx);
      expect(
        Math.abs(got[which]![idx]! - num),
        `${which}[${idx}] analytic ${got[which]![idx]} numeric ${num}`,
      ).toBeLessThan(1e-3);
    }
  }
}

const GRAD_CASES = CASES.filter((c) => c.D <= 16 && !c.valueScale);
const gradName = (c: Case) => `${c.name}: dq, dk, dv${c.biasShape ? ', dbias' : ''}`;

describe('attention backward', () => {
  for (const c of GRAD_CASES) it(gradName(c), () => checkBackward(c));
});

if (onGpu)
  describe('attention backward, tiled kernels (hardware adapters)', () => {
    const tiledCases: Case[] = [
      ...GRAD_CASES.filter((c) => c.D % 4 === 0 && c.Dv % 4 === 0),
      // more key rows than one workgroup (64) and queries than one tile
      {
        name: 'Nq 90, Nk 80, causal bottom-right, GQA',
        B: 1,
        H: 2,
        Hkv: 1,
        Nq: 90,
        Nk: 80,
        D: 8,
        Dv: 8,
        causal: 'bottom-right',
      },
    ];
    for (const c of tiledCases) it(gradName(c), () => checkBackward({ ...c, kernel: 'tiled' }));
  });

describe('attention errors name the argument and the shapes', () => {
  const t = (shape: number[], device = () => dev) => device().zeros(shape);
  it('rejects bad shapes and options', () => {
    expect(() => attention(t([1, 3, 4, 8]), t([1, 2, 4, 8]), t([1, 2, 4, 8]))).toThrowError(
      /H = 3 must be a multiple of k\/v heads Hkv = 2/,
    );
    expect(() => attention(t([1, 2, 4, 8]), t([1, 2, 4, 6]), t([1, 2, 4, 8]))).toThrowError(
      /q and k head dims differ \(8 vs 6\)/,
    );
    expect(() => attention(t([1, 1, 4, 300]), t([1, 1, 4, 300]), t([1, 1, 4, 8]))).toThrowError(
      /head dims must be in \[1, 256\]/,
    );
    expect(() =>
      attention(t([1, 2, 4, 8]), t([1, 2, 5, 8]), t([1, 2, 5, 8]), { mask: dev.zeros([4, 4], 'bool') }),
    ).toThrowError(/mask \[4, 4\] does not broadcast to \[B, H, Nq, Nk\] = \[1, 2, 4, 5\]/);
    expect(() => attention(t([2, 2, 4, 8]), t([2, 2, 5, 8]), t([2, 2, 5, 8]), { kvLens: [5] })).toThrowError(
      /kvLens has 1 entries; expected one per batch \(B = 2\)/,
    );
    expect(() =>
      attention(t([2, 2, 4, 8]), t([2, 2, 5, 8]), t([2, 2, 5, 8]), { kvLens: [5, 6] }),
    ).toThrowError(/kvLens\[1\] = 6 is outside \[0, Nk = 5\]/);
    // checked before conversion: Int32Array.from would make these 0, 2 and 1 (docs/api.md "Attention")
    for (const [bad, shown] of [
      [Number.NaN, 'NaN'],
      [2.5, '2.5'],
      [2 ** 32 + 1, '4294967297'],
    ] as const) {
      expect(() =>
        attention(t([2, 2, 4, 8]), t([2, 2, 5, 8]), t([2, 2, 5, 8]), { kvLens: [5, bad] }),
      ).toThrowError(new RegExp(`kvLens\\[1\\] = ${shown}(; expected an integer| is outside) .*Nk = 5`));
    }
    expect(() =>
      attention(t([1, 2, 4, 8]), t([1, 2, 4, 8]), t([1, 2, 4, 8]), { dropout: 0.1 as never }),
    ).toThrowError(/dropout must be \{ p in \[0, 1\), seed: integer \}.*got 0\.1/);
    expect(() =>
      attention(t([1, 2, 4, 8]), t([1, 2, 4, 8]), t([1, 2, 4, 8]), { causal: 'diagonal' as never }),
    ).toThrowError(/'top-left' \(PyTorch is_causal\)/);
    expect(() =>
      attention(t([1, 2, 4, 8]), t([1, 2, 4, 8]), t([1, 2, 4, 8]), { mask: dev.zeros([4, 4]) }),
    ).toThrowError(/mask has dtype f32; expected bool/);
    expect(() =>
      attention(t([1, 2, 4, 8]), t([1, 2, 4, 8]), t([1, 2, 4, 8]), { kernel: 'flash' as never }),
    ).toThrowError(/kernel must be one of auto, registers, tiled, got "flash"/);
  });
  if (onGpu) {
    it('rejects tensors on different devices', () => {
      expect(() =>
        attention(
          t([1, 1, 4, 8]),
          t([1, 1, 4, 8], () => cpu),
          t([1, 1, 4, 8]),
        ),
      ).toThrowError(/k is on cpu/);
    });
  }
});

export type { Tensor };
