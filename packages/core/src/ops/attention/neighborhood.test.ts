/**
 * Neighbourhood attention proven equal to dense attention with the equivalent boolean mask, built here
 * by a plain loop over (query, key) from the definition (docs/api.md "Attention"): forward (out, lse,
 * weights) and backward (dq, dk, dv, dbias) on the device under test (cpu project: the wasm kernels;
 * gpu project: WebGPU) and on the TypeScript reference; non-square grids, even and odd kernels, k = 1,
 * k = grid (dense), causal, dilation, GQA, odd head dims, decode-style partial grids, composed options.
 * The geometry is checked against NATTEN's window formula and a brute-force inverse.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { expectGradsClose } from '../../../test/attention.js';
import { expectClose, getDevices, randomData } from '../../../test/device.js';
import { wgslSource } from '../../../test/wgsl.js';
import { featuresOf } from '../../backend/webgpu/attention/features.js';
import {
  neighborhoodDkvSpec,
  neighborhoodDqSpec,
} from '../../backend/webgpu/attention/neighborhood-backward.js';
import {
  neighborhoodForwardSpec,
  neighborhoodWeightsSpec,
} from '../../backend/webgpu/attention/neighborhood-forward.js';
import {
  type AttentionOptions,
  type AttentionShape,
  attention,
  attentionBackward,
  createDevice,
  type Device,
  type NeighborhoodOptions,
  nn,
  type Tensor,
} from '../../index.js';
import { inverseRange, subLength, windowEnd, windowStart } from '../../kernels/neighborhood.js';
import { resolveAttention } from './options.js';

let dev: Device;
let ref: Device;
beforeAll(async () => {
  ({ dev } = await getDevices());
  ref = await createDevice({ backend: 'cpu', kernels: 'reference' });
});

/** Positions an axis position p sees: the k same-residue positions centred on p, shifted inward. */
function axisWindow(L: number, k: number, d: number, p: number, causal: boolean): number[] {
  const same: number[] = [];
  for (let x = p % d; x < L; x += d) same.push(x);
  const at = same.indexOf(p);
  if (causal) return same.slice(Math.max(0, at - k + 1), at + 1);
  const start = Math.min(Math.max(at - Math.floor(k / 2), 0), same.length - k);
  return same.slice(start, start + k);
}

/** The boolean mask [Nq, Nk] (true = attend) of a neighbourhood, by a plain loop over every pair. */
function denseMask(nb: NeighborhoodOptions, Nq: number, Nk: number): Uint8Array {
  const [rows, cols] = nb.grid;
  const [kh, kw] = typeof nb.kernel === 'number' ? [nb.kernel, nb.kernel] : nb.kernel;
  const [dh, dw] = typeof nb.dilation === 'number' ? [nb.dilation, nb.dilation] : (nb.dilation ?? [1, 1]);
  const mask = new Uint8Array(Nq * Nk);
  for (let i = 0; i < Nq; i++) {
    const cell = i + Nk - Nq;
    const [y, x] = [Math.floor(cell / cols), cell % cols];
    const ys = axisWindow(rows, kh, dh, y, nb.causal === true);
    const xs = axisWindow(cols, kw, dw, x, false);
    for (let j = 0; j < Nk; j++) {
      const [ky, kx] = [Math.floor(j / cols), j % cols];
      const before = !nb.causal || ky < y || (ky === y && kx <= x);
      mask[i * Nk + j] = ys.includes(ky) && xs.includes(kx) && before ? 1 : 0;
    }
  }
  return mask;
}

interface Case extends Omit<AttentionShape, 'Nq' | 'Nk'> {
  name: string;
  nb: NeighborhoodOptions;
  /** defaults: Nk = Nq = rows·cols */
  Nq?: number;
  Nk?: number;
  softcap?: number;
  scale?: number;
  biasShape?: number[];
  kvLens?: number[];
  /** an extra random boolean mask [B, 1, Nq, Nk] */
  mask?: boolean;
  dropout?: number;
  alibi?: boolean;
}

const CASES: Case[] = [
  { name: 'non-square 5 x 7, k 3', B: 2, H: 2, Hkv: 2, D: 12, Dv: 12, nb: { grid: [5, 7], kernel: 3 } },
  {
    name: 'even kernel [4, 2] on 6 x 8',
    B: 1,
    H: 2,
    Hkv: 2,
    D: 8,
    Dv: 8,
    nb: { grid: [6, 8], kernel: [4, 2] },
  },
  { name: 'k = 1 (each cell sees itself)', B: 1, H: 1, Hkv: 1, D: 5, Dv: 7, nb: { grid: [3, 4], kernel: 1 } },
  { name: 'k = grid size (dense)', B: 1, H: 2, Hkv: 1, D: 8, Dv: 8, nb: { grid: [4, 5], kernel: [4, 5] } },
  {
    name: 'causal 6 x 7, k 3',
    B: 1,
    H: 2,
    Hkv: 2,
    D: 8,
    Dv: 8,
    nb: { grid: [6, 7], kernel: 3, causal: true },
  },
  {
    name: 'causal, even kernel 4, 7 x 6',
    B: 1,
    H: 1,
    Hkv: 1,
    D: 6,
    Dv: 6,
    nb: { grid: [7, 6], kernel: 4, causal: true },
  },
  {
    name: 'dilation [2, 3] on 9 x 10, k 3',
    B: 1,
    H: 2,
    Hkv: 2,
    D: 8,
    Dv: 8,
    nb: { grid: [9, 10], kernel: 3, dilation: [2, 3] },
  },
  {
    name: 'dilation 2, causal, kernel [3, 4] on 8 x 11',
    B: 1,
    H: 1,
    Hkv: 1,
    D: 8,
    Dv: 8,
    nb: { grid: [8, 11], kernel: [3, 4], dilation: 2, causal: true },
  },
  {
    name: 'GQA H 4 / Hkv 2, D 20, Dv 9, 6 x 21 k 5 (several query tiles per row)',
    B: 1,
    H: 4,
    Hkv: 2,
    D: 20,
    Dv: 9,
    nb: { grid: [6, 21], kernel: 5 },
  },
  {
    name: 'decode-style: the last 5 of 30 cells of 6 x 6, causal',
    B: 1,
    H: 2,
    Hkv: 1,
    D: 8,
    Dv: 8,
    Nq: 5,
    Nk: 30,
    nb: { grid: [6, 6], kernel: 3, causal: true },
  },
  {
    name: 'partial grid: 33 of 36 cells, non-causal',
    B: 1,
    H: 1,
    Hkv: 1,
    D: 8,
    Dv: 8,
    Nq: 33,
    Nk: 33,
    nb: { grid: [6, 6], kernel: 3 },
  },
  {
    name: 'bias [H, N, N], softcap, scale, kvLens',
    B: 2,
    H: 2,
    Hkv: 2,
    D: 8,
    Dv: 8,
    nb: { grid: [5, 6], kernel: 3 },
    biasShape: [2, 30, 30],
    softcap: 3,
    scale: 0.4,
    kvLens: [30, 17],
  },
  {
    name: 'extra mask, dropout, ALiBi scoreMod, causal',
    B: 2,
    H: 2,
    Hkv: 1,
    D: 8,
    Dv: 8,
    nb: { grid: [5, 5], kernel: 3, causal: true },
    mask: true,
    dropout: 0.2,
    alibi: true,
  },
];

function sizes(c: Case) {
  const cells = c.nb.grid[0] * c.nb.grid[1];
  return { Nq: c.Nq ?? c.Nk ?? cells, Nk: c.Nk ?? cells };
}

function data(c: Case) {
  const { Nq, Nk } = sizes(c);
  const extra = c.mask ? Uint8Array.from(randomData(c.B * Nq * Nk, 4), (x) => (x > -0.6 ? 1 : 0)) : null;
  const nbMask = denseMask(c.nb, Nq, Nk);
  // the equivalent dense mask [B, 1, Nq, Nk]: the neighbourhood and the extra mask
  const full = new Uint8Array(c.B * Nq * Nk);
  for (let n = 0; n < full.length; n++) full[n] = nbMask[n % (Nq * Nk)]! & (extra ? extra[n]! : 1);
  const biasN = c.biasShape?.reduce((a, b) => a * b, 1) ?? 0;
  return {
    q: randomData(c.B * c.H * Nq * c.D, 1, 1.5),
    k: randomData(c.B * c.Hkv * Nk * c.D, 2, 1.5),
    v: randomData(c.B * c.Hkv * Nk * c.Dv, 3),
    g: randomData(c.B * c.H * Nq * c.Dv, 9),
    bias: c.biasShape ? randomData(biasN, 5, 2) : null,
    extra,
    full,
    slopes: Float32Array.from({ length: c.H }, (_, h) => 2 ** -(h + 1)),
  };
}

type Data = ReturnType<typeof data>;

/** Forward and backward with the neighbourhood option, or dense with the equivalent mask. */
async function run(c: Case, x: Data, device: Device, dense: boolean) {
  const { Nq, Nk } = sizes(c);
  const q = device.tensor(x.q, [c.B, c.H, Nq, c.D]);
  const k = device.tensor(x.k, [c.B, c.Hkv, Nk, c.D]);
  const v = device.tensor(x.v, [c.B, c.Hkv, Nk, c.Dv]);
  const opts: AttentionOptions = {};
  if (c.softcap) opts.softcap = c.softcap;
  if (c.scale) opts.scale = c.scale;
  if (c.kvLens) opts.kvLens = c.kvLens;
  if (x.bias) opts.bias = device.tensor(x.bias, c.biasShape!);
  if (c.dropout) opts.dropout = { p: c.dropout, seed: 7 };
  if (c.alibi) opts.scoreMod = nn.alibiScoreMod(device.tensor(x.slopes, [c.H]));
  if (dense) opts.mask = device.tensor(x.full, [c.B, 1, Nq, Nk], { dtype: 'bool' });
  else {
    opts.neighborhood = c.nb;
    if (x.extra) opts.mask = device.tensor(x.extra, [c.B, 1, Nq, Nk], { dtype: 'bool' });
  }
  const { out, lse, weights } = attention.detailed(q, k, v, { ...opts, weights: true });
  const { out: o2, lse: l2 } = attention.detailed(q, k, v, opts);
  const dout = device.tensor(x.g, [c.B, c.H, Nq, c.Dv]);
  const g = attentionBackward(q, k, v, o2, l2, dout, opts);
  const read = (t: Tensor | null) => (t ? t.read() : Promise.resolve(null));
  return {
    out: await out.read(),
    lse: await lse.read(),
    weights: (await weights!.read()) as Float32Array,
    out2: await o2.read(),
    dq: await g.dq.read(),
    dk: await g.dk.read(),
    dv: await g.dv.read(),
    dbias: await read(g.dbias),
  };
}

type Result = Awaited<ReturnType<typeof run>>;

function compare(got: Result, want: Result, tag: string) {
  expect(got.out.every(Number.isFinite), `${tag}: finite out`).toBe(true);
  expectClose(got.out, want.out, 1e-5, 1e-5, `out ${tag}`);
  expectClose(got.out2, want.out, 1e-5, 1e-5, `out without weights ${tag}`);
  expectClose(got.lse, want.lse, 1e-4, 1e-5, `lse ${tag}`);
  expectClose(got.weights, want.weights, 1e-6, 1e-5, `weights ${tag}`);
  expectGradsClose(got, want, tag);
}

describe('neighborhood attention equals dense attention with the equivalent mask', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const x = data(c);
      const want = await run(c, x, ref, true);
      compare(await run(c, x, dev, false), want, 'device under test');
      compare(await run(c, x, ref, false), want, 'reference');
      if (!c.kvLens && !c.mask && !c.Nk) {
        // every query sees exactly kh·kw keys (causal: at most), never the whole grid
        const [kh, kw] = typeof c.nb.kernel === 'number' ? [c.nb.kernel, c.nb.kernel] : c.nb.kernel;
        const { Nq, Nk } = sizes(c);
        for (let i = 0; i < Nq; i++) {
          const seen = x.full.subarray(i * Nk, (i + 1) * Nk).reduce((a, m) => a + m, 0);
          if (c.nb.causal) expect(seen).toBeLessThanOrEqual(kh * kw);
          else expect(seen).toBe(kh * kw);
        }
      }
    });
  }

  it('k = grid size gives unmasked attention', async () => {
    const c = CASES[3]!;
    const x = data(c);
    const got = await run(c, x, dev, false);
    const q = dev.tensor(x.q, [1, 2, 20, 8]);
    const k = dev.tensor(x.k, [1, 1, 20, 8]);
    const v = dev.tensor(x.v, [1, 1, 20, 8]);
    expectClose(got.out, await attention(q, k, v).read(), 1e-5, 1e-5, 'out vs plain attention');
  });

  it('trains through autograd: gradients equal the dense masked ones', async () => {
    const c = CASES[4]!;
    const x = data(c);
    const grads = async (dense: boolean) => {
      const q = dev.tensor(x.q, [1, 2, 42, 8], { requiresGrad: true });
      const k = dev.tensor(x.k, [1, 2, 42, 8], { requiresGrad: true });
      const v = dev.tensor(x.v, [1, 2, 42, 8], { requiresGrad: true });
      const opts: AttentionOptions = dense
        ? { mask: dev.tensor(x.full, [1, 1, 42, 42], { dtype: 'bool' }) }
        : { neighborhood: c.nb };
      const out = attention(q, k, v, opts);
      out.backward(dev.tensor(x.g, [1, 2, 42, 8]));
      return [await q.grad!.read(), await k.grad!.read(), await v.grad!.read()];
    };
    const [a, b] = [await grads(false), await grads(true)];
    for (let n = 0; n < 3; n++) expectClose(a[n]!, b[n]!, 2e-5, 1e-4, `grad ${n}`);
  });
});

describe('neighborhood geometry', () => {
  it("window starts equal NATTEN's get_window_start for odd kernels, every dilation", () => {
    // natten/functional.py (NATTEN 0.14), kernel k = 2·NS + 1
    const natten = (index: number, length: number, k: number, d: number) => {
      const ns = k >> 1;
      if (d <= 1) return Math.max(index - ns, 0) + (index + ns >= length ? length - index - ns - 1 : 0);
      const ni = index - ns * d;
      if (ni < 0) return index % d;
      if (index + ns * d >= length) {
        const imodd = index % d;
        const a = Math.floor(length / d) * d;
        const b = length - a;
        if (imodd < b) return length - b + imodd - 2 * ns * d;
        return a + imodd - k * d;
      }
      return ni;
    };
    let checked = 0;
    for (let L = 1; L <= 24; L++)
      for (let d = 1; d <= 4; d++)
        for (let k = 1; k * d <= L; k += 2)
          for (let p = 0; p < L; p++) {
            const r = p % d;
            const ws = windowStart(Math.floor(p / d), subLength(L, d, r), k, false);
            expect(r + ws * d, `L ${L} d ${d} k ${k} p ${p}`).toBe(natten(p, L, k, d));
            checked++;
          }
    expect(checked).toBeGreaterThan(1000);
  });

  it('inverse ranges hold exactly the queries whose windows meet a key range', () => {
    for (let Ls = 1; Ls <= 14; Ls++)
      for (let k = 1; k <= Ls; k++)
        for (const causal of [false, true])
          for (let u0 = 0; u0 < Ls; u0++)
            for (let u1 = u0 + 1; u1 <= Ls; u1++) {
              const seeing: number[] = [];
              for (let s = 0; s < Ls; s++) {
                const [a, b] = [windowStart(s, Ls, k, causal), windowEnd(s, Ls, k, causal)];
                if (a < u1 && b > u0) seeing.push(s);
              }
              const [lo, hi] = inverseRange(u0, u1, Ls, k, causal);
              const range = Array.from({ length: Math.max(0, hi - lo) }, (_, t) => lo + t);
              expect(range, `Ls ${Ls} k ${k} causal ${causal} [${u0}, ${u1})`).toEqual(seeing);
            }
  });
});

describe('neighborhood errors name the option', () => {
  const attempt =
    (nb: unknown, extra: AttentionOptions = {}, N = 20) =>
    () => {
      const q = dev.tensor(randomData(N * 4), [1, 1, N, 4]);
      attention(q, q, q, { ...extra, neighborhood: nb as NeighborhoodOptions });
    };
  it('rejects bad options', () => {
    expect(attempt({ grid: [4, 4], kernel: 3 })).toThrow(/grid \[4, 4\] has 16 cells.*Nq = 20, Nk = 20/);
    expect(attempt({ grid: [4, 5], kernel: 5 })).toThrow(
      /kernel 5 x dilation 1 = 5 exceeds the grid's 4 rows/,
    );
    expect(attempt({ grid: [4, 5], kernel: [1, 3], dilation: 2 })).toThrow(/exceeds the grid's 5 columns/);
    expect(attempt({ grid: [4, 5], kernel: 2.5 })).toThrow(/neighborhood.kernel must be a positive integer/);
    expect(attempt({ grid: [4, 5], kernel: 0 })).toThrow(/neighborhood.kernel/);
    expect(attempt({ grid: [4, 5] })).toThrow(/neighborhood.kernel/);
    expect(attempt({ grid: [4, 5], kernel: 3, dilation: [1] })).toThrow(/neighborhood.dilation/);
    expect(attempt({ grid: [4, 5], kernel: 3, causal: 'yes' })).toThrow(
      /neighborhood.causal must be a boolean/,
    );
    expect(attempt({ grid: [4, 5], kernel: 3, size: 3 })).toThrow(/unknown field\(s\) size/);
    expect(attempt({ grid: [4, 5], kernel: 3 }, { causal: true })).toThrow(/use neighborhood.causal/);
    expect(attempt({ grid: [4, 5], kernel: 3 }, { window: [1, 1] })).toThrow(/window cannot be combined/);
    expect(attempt(null)).not.toThrow(); // absent: dense attention
  });
});

describe('neighborhood WGSL', () => {
  it('generated kernels (snapshot: a change to the shader text shows up in review)', () => {
    const q = dev.tensor(new Float32Array(2 * 12 * 8), [1, 2, 12, 8]);
    const bias = dev.tensor(new Float32Array(12 * 12), [12, 12]);
    const r = resolveAttention('test', q, q, q, {
      neighborhood: { grid: [3, 4], kernel: 3 },
      bias,
      softcap: 2,
    });
    const f = featuresOf(r);
    for (const spec of [
      neighborhoodForwardSpec(f, 4),
      neighborhoodWeightsSpec(f),
      neighborhoodDqSpec(f, 4),
      neighborhoodDkvSpec(f, 4),
    ])
      expect(wgslSource(spec)).toMatchSnapshot(spec.key);
  });
});
