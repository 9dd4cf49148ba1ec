/**
 * wasm neighbourhood attention vs the TypeScript reference (the oracle, itself proven equal to dense
 * masked attention in ops/attention/neighborhood.test.ts), forward and backward, on 1 and 2 threads:
 * grids with several strips per row and odd remainders, dilation, causal, GQA, decode-style partial
 * grids, every option the kernels implement; `device.cpu.jobs` shows the wasm kernels ran, and
 * scoreMod / weights take the reference.
 */
import { describe, expect, it } from 'vitest';
import { forwardBackward } from '../../../test/attention.js';
import { expectClose, randomData } from '../../../test/device.js';
import { wasmDevice, wasmParityTests } from '../../../test/wasm.js';
import {
  type AttentionOptions,
  type AttentionShape,
  attention,
  createDevice,
  type Device,
  type NeighborhoodOptions,
} from '../../index.js';

interface Case extends Omit<AttentionShape, 'Nq' | 'Nk'> {
  name: string;
  nb: NeighborhoodOptions;
  Nq?: number;
  Nk?: number;
  softcap?: number;
  biasShape?: number[];
  kvLens?: number[];
  maskShape?: number[];
  dropout?: number;
  permuted?: boolean;
}

const CASES: Case[] = [
  {
    name: '9 x 31, k 7 (3 strips a row)',
    B: 1,
    H: 2,
    Hkv: 2,
    D: 16,
    Dv: 16,
    nb: { grid: [9, 31], kernel: 7 },
  },
  {
    name: 'odd dims, kernel [3, 5]',
    B: 2,
    H: 1,
    Hkv: 1,
    D: 13,
    Dv: 7,
    nb: { grid: [7, 26], kernel: [3, 5] },
  },
  {
    name: 'causal 10 x 30, k 5',
    B: 1,
    H: 2,
    Hkv: 1,
    D: 8,
    Dv: 8,
    nb: { grid: [10, 30], kernel: 5, causal: true },
  },
  {
    name: 'dilation [2, 3], kernel 4, 12 x 40',
    B: 1,
    H: 2,
    Hkv: 2,
    D: 8,
    Dv: 12,
    nb: { grid: [12, 40], kernel: 4, dilation: [2, 3] },
  },
  {
    name: 'GQA 4/2, causal, dilation 2, 11 x 27',
    B: 1,
    H: 4,
    Hkv: 2,
    D: 12,
    Dv: 8,
    nb: { grid: [11, 27], kernel: 3, dilation: 2, causal: true },
  },
  {
    name: 'decode-style: last 30 of 200 cells of 10 x 25',
    B: 1,
    H: 2,
    Hkv: 1,
    D: 8,
    Dv: 8,
    Nq: 30,
    Nk: 200,
    nb: { grid: [10, 25], kernel: 5, causal: true },
  },
  {
    name: 'bias, softcap, kvLens, mask [B, 1, 1, Nk], dropout',
    B: 2,
    H: 2,
    Hkv: 2,
    D: 8,
    Dv: 8,
    nb: { grid: [8, 20], kernel: 5 },
    biasShape: [2, 160, 160],
    softcap: 4,
    kvLens: [160, 97],
    maskShape: [2, 1, 1, 160],
    dropout: 0.15,
  },
  {
    name: 'q, k, v permuted views [B, N, H, D]',
    B: 1,
    H: 2,
    Hkv: 2,
    D: 16,
    Dv: 16,
    nb: { grid: [6, 30], kernel: [5, 7], dilation: [1, 2] },
    permuted: true,
  },
];

function run(c: Case, device: Device) {
  const cells = c.nb.grid[0] * c.nb.grid[1];
  const Nk = c.Nk ?? cells;
  const Nq = c.Nq ?? Nk;
  const make = (n: number, seed: number, heads: number, N: number, d: number) => {
    const data = randomData(n, seed, 1.5);
    if (!c.permuted) return device.tensor(data, [c.B, heads, N, d]);
    return device.tensor(data, [c.B, N, heads, d]).permute([0, 2, 1, 3]);
  };
  const q = make(c.B * c.H * Nq * c.D, 1, c.H, Nq, c.D);
  const k = make(c.B * c.Hkv * Nk * c.D, 2, c.Hkv, Nk, c.D);
  const v = make(c.B * c.Hkv * Nk * c.Dv, 3, c.Hkv, Nk, c.Dv);
  const opts: AttentionOptions = { neighborhood: c.nb };
  if (c.softcap) opts.softcap = c.softcap;
  if (c.kvLens) opts.kvLens = c.kvLens;
  if (c.dropout) opts.dropout = { p: c.dropout, seed: 11 };
  if (c.biasShape)
    opts.bias = device.tensor(
      randomData(
        c.biasShape.reduce((a, b) => a * b),
        5,
        2,
      ),
      c.biasShape,
    );
  if (c.maskShape) {
    const n = c.maskShape.reduce((a, b) => a * b);
    const bits = Uint8Array.from(randomData(n, 6), (x) => (x > -0.5 ? 1 : 0));
    opts.mask = device.tensor(bits, c.maskShape, { dtype: 'bool' });
  }
  const dout = device.tensor(randomData(c.B * c.H * Nq * c.Dv, 9), [c.B, c.H, Nq, c.Dv]);
  return forwardBackward(q, k, v, dout, opts);
}

const NAMES = ['out', 'lse', 'dq', 'dk', 'dv', 'dbias'] as const;
const KERNELS = ['nbForward', 'nbBackwardQ', 'nbBackwardKV'] as const;

describe('wasm neighborhood attention vs the reference', () => {
  wasmParityTests(CASES, KERNELS, run, (_c, got, want, jobs, tag) => {
    expect(jobs, 'each wasm kernel ran once').toEqual([1, 1, 1]);
    NAMES.forEach((name, n) => {
      const [atol, rtol] = n < 2 ? [n === 1 ? 1e-4 : 1e-5, 1e-5] : [2e-5, 1e-4];
      const a = got[name];
      if (a) expectClose(a, want[name]!, atol, rtol, `${name} ${tag}`);
    });
  });

  it('scoreMod and weights run the reference, with the same results', async () => {
    const dev = await wasmDevice(1);
    const ref = await createDevice({ backend: 'cpu', kernels: 'reference' });
    const go = async (device: Device) => {
      const q = device.tensor(randomData(2 * 60 * 8, 1), [1, 2, 60, 8]);
      const k = device.tensor(randomData(2 * 60 * 8, 2), [1, 2, 60, 8]);
      const scoreMod = { name: 'halve', wgsl: 'score * 0.5', ts: (s: number) => s * 0.5, gradTs: () => 0.5 };
      const nb: NeighborhoodOptions = { grid: [6, 10], kernel: 3 };
      const a = attention(q, k, k, { neighborhood: nb, scoreMod });
      const w = attention.detailed(q, k, k, { neighborhood: nb, weights: true }).weights!;
      return [await a.read(), await w.read()];
    };
    const before = dev.cpu!.jobs.get('nbForward') ?? 0;
    const [got, want] = [await go(dev), await go(ref)];
    expect(dev.cpu!.jobs.get('nbForward') ?? 0).toBe(before);
    expectClose(got[0]!, want[0]!, 1e-6, 1e-6, 'scoreMod out');
    expectClose(got[1]!, want[1]!, 1e-7, 1e-6, 'weights');
  });
});
