/**
 * wasm attention vs the TypeScript reference (the oracle), forward and backward, 1 and 2 threads: every
 * option the kernels implement, shapes that cross the query tiles (32 rows) and key blocks (64 keys) with
 * odd remainders, dropout (the same hash, so the same dropped entries), and the fallbacks (scoreMod,
 * maskMod, weights) that run the reference.
 */
import { describe, expect, it } from 'vitest';
import { expectGradsClose, forwardBackward } from '../../../test/attention.js';
import { expectClose, randomData } from '../../../test/device.js';
import { wasmParityTests } from '../../../test/wasm.js';
import type { AttentionOptions, AttentionShape, Device } from '../../index.js';
import { hasNonFinite } from './attention.js';

interface Case extends AttentionShape {
  name: string;
  causal?: AttentionOptions['causal'];
  window?: [number, number];
  softcap?: number;
  scale?: number;
  maskShape?: number[];
  biasShape?: number[];
  kvLens?: number[];
  valueScale?: number;
  scoreMod?: boolean;
  dropout?: boolean;
  /** q, k, v as [B, N, H, D] data permuted to [B, H, N, D] (views, as a model's heads are) */
  permuted?: boolean;
}

const CASES: Case[] = [
  { name: 'odd N, one tile', B: 2, H: 2, Hkv: 2, Nq: 13, Nk: 13, D: 16, Dv: 16 },
  { name: 'cross, Dv != D, odd dims', B: 1, H: 2, Hkv: 2, Nq: 7, Nk: 19, D: 12, Dv: 21 },
  { name: 'many tiles and blocks, odd', B: 1, H: 2, Hkv: 2, Nq: 75, Nk: 139, D: 20, Dv: 9 },
  {
    name: 'causal top-left across blocks',
    B: 1,
    H: 3,
    Hkv: 3,
    Nq: 150,
    Nk: 150,
    D: 16,
    Dv: 16,
    causal: true,
  },
  { name: 'causal top-left, Nq > Nk', B: 1, H: 1, Hkv: 1, Nq: 90, Nk: 70, D: 8, Dv: 8, causal: true },
  {
    name: 'GQA causal bottom-right, Nq < Nk',
    B: 2,
    H: 4,
    Hkv: 2,
    Nq: 37,
    Nk: 140,
    D: 8,
    Dv: 12,
    causal: 'bottom-right',
  },
  { name: 'sliding window [20, 3]', B: 1, H: 2, Hkv: 1, Nq: 130, Nk: 130, D: 8, Dv: 8, window: [20, 3] },
  {
    name: 'mask [B, 1, 1, Nk] + kvLens',
    B: 2,
    H: 2,
    Hkv: 2,
    Nq: 40,
    Nk: 70,
    D: 8,
    Dv: 8,
    maskShape: [2, 1, 1, 70],
    kvLens: [70, 33],
  },
  {
    name: 'mask [Nq, Nk], fully masked rows',
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
    Nq: 36,
    Nk: 67,
    D: 8,
    Dv: 8,
    biasShape: [1, 2, 36, 67],
    scale: 0.3,
  },
  {
    name: 'softcap, large logits',
    B: 1,
    H: 2,
    Hkv: 2,
    Nq: 40,
    Nk: 40,
    D: 8,
    Dv: 8,
    softcap: 5,
    valueScale: 30,
  },
  { name: 'large logits stay exact', B: 1, H: 1, Hkv: 1, Nq: 6, Nk: 9, D: 8, Dv: 8, valueScale: 20 },
  {
    name: 'everything combined',
    B: 2,
    H: 4,
    Hkv: 2,
    Nq: 45,
    Nk: 77,
    D: 12,
    Dv: 8,
    causal: 'bottom-right',
    window: [40, 0],
    maskShape: [2, 1, 45, 77],
    biasShape: [4, 45, 77],
    kvLens: [77, 50],
    softcap: 4,
  },
  { name: 'kvLens 0 for one batch, D 80', B: 2, H: 1, Hkv: 1, Nq: 5, Nk: 6, D: 80, Dv: 80, kvLens: [6, 0] },
  { name: 'head dim 256, causal', B: 1, H: 1, Hkv: 1, Nq: 40, Nk: 40, D: 256, Dv: 256, causal: true },
  { name: 'decode Nq = 1', B: 2, H: 4, Hkv: 1, Nq: 1, Nk: 200, D: 16, Dv: 16, causal: 'bottom-right' },
  {
    name: 'permuted views (strided q, k, v)',
    B: 2,
    H: 3,
    Hkv: 3,
    Nq: 33,
    Nk: 33,
    D: 10,
    Dv: 10,
    causal: true,
    permuted: true,
  },
  { name: 'scoreMod falls back', B: 1, H: 2, Hkv: 2, Nq: 9, Nk: 9, D: 8, Dv: 8, scoreMod: true },
  { name: 'dropout', B: 1, H: 2, Hkv: 2, Nq: 9, Nk: 9, D: 8, Dv: 8, dropout: true },
  {
    name: 'dropout, GQA causal across tiles and blocks, bias, softcap',
    B: 2,
    H: 4,
    Hkv: 2,
    Nq: 70,
    Nk: 133,
    D: 12,
    Dv: 7,
    causal: 'bottom-right',
    biasShape: [2, 1, 70, 133],
    softcap: 5,
    dropout: true,
  },
  {
    name: 'dropout with a mask and kvLens (BERT key padding)',
    B: 2,
    H: 2,
    Hkv: 2,
    Nq: 40,
    Nk: 40,
    D: 16,
    Dv: 16,
    maskShape: [2, 1, 1, 40],
    kvLens: [40, 25],
    dropout: true,
  },
];

function options(c: Case, device: Device): AttentionOptions {
  const o: AttentionOptions = {};
  if (c.causal !== undefined) o.causal = c.causal;
  if (c.window) o.window = c.window;
  if (c.softcap) o.softcap = c.softcap;
  if (c.scale) o.scale = c.scale;
  if (c.kvLens) o.kvLens = c.kvLens;
  if (c.maskShape) {
    const n = c.maskShape.reduce((a, b) => a * b, 1);
    const m = Uint8Array.from(randomData(n, 4), (x) => (x > -0.4 ? 1 : 0));
    o.mask = device.tensor(m, c.maskShape, { dtype: 'bool' });
  }
  if (c.biasShape)
    o.bias = device.tensor(
      randomData(
        c.biasShape.reduce((a, b) => a * b, 1),
        5,
        2,
      ),
      c.biasShape,
    );
  if (c.scoreMod) o.scoreMod = { name: 'half', wgsl: 'score * 0.5', ts: (s) => s * 0.5, gradTs: () => 0.5 };
  if (c.dropout) o.dropout = { p: 0.25, seed: 7 };
  return o;
}

function run(c: Case, device: Device) {
  const make = (n: number, seed: number, shape: [number, number, number, number], scale = 1) =>
    c.permuted
      ? device
          .tensor(randomData(n, seed, scale), [shape[0], shape[2], shape[1], shape[3]])
          .permute([0, 2, 1, 3])
      : device.tensor(randomData(n, seed, scale), shape);
  const q = make(c.B * c.H * c.Nq * c.D, 1, [c.B, c.H, c.Nq, c.D], c.valueScale ?? 1);
  const k = make(c.B * c.Hkv * c.Nk * c.D, 2, [c.B, c.Hkv, c.Nk, c.D], c.valueScale ?? 1);
  const v = make(c.B * c.Hkv * c.Nk * c.Dv, 3, [c.B, c.Hkv, c.Nk, c.Dv]);
  const dout = device.tensor(randomData(c.B * c.H * c.Nq * c.Dv, 9), [c.B, c.H, c.Nq, c.Dv]);
  return forwardBackward(q, k, v, dout, options(c, device));
}

const KERNELS = ['attnForward', 'attnBackwardKV', 'attnBackwardQ'] as const;

describe('wasm attention matches the reference', () => {
  wasmParityTests(CASES, KERNELS, run, (c, got, ref, jobs, tag) => {
    // scoreMod / maskMod run the reference; everything else the wasm kernels
    const ran = jobs.map((n) => n > 0);
    expect(ran, tag).toEqual(new Array(3).fill(!c.scoreMod));
    expect(got.out.every(Number.isFinite)).toBe(true);
    expectClose(got.out, ref.out, 1e-5, 1e-5, `out ${tag}`);
    expectClose(got.lse, ref.lse, 1e-4, 1e-5, `lse ${tag}`);
    expectGradsClose(got, ref, tag);
  });
});

describe('hasNonFinite (the check that sends NaN / Inf inputs to the reference)', () => {
  it('finds one NaN, +Infinity or -Infinity at any position, and nothing in finite data', () => {
    for (const n of [1, 3, 4, 5, 8, 11]) {
      const finite = Float32Array.from({ length: n }, (_, i) => (i % 2 ? -3.4e38 : 3.4e38) / (i + 1));
      expect(hasNonFinite(finite), `finite, length ${n}`).toBe(false);
      for (let at = 0; at < n; at++) {
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
          const a = finite.slice();
          a[at] = bad;
          expect(hasNonFinite(a), `${bad} at ${at} of ${n}`).toBe(true);
        }
      }
    }
    // +Infinity and -Infinity in different running sums must not cancel into a finite total
    expect(hasNonFinite(Float32Array.from([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 0]))).toBe(
      true,
    );
    expect(hasNonFinite(new Float32Array(0))).toBe(false);
  });
});
