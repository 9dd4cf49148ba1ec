/**
 * Family 7 of the hardening suite: attention. Options of any type and value give a result or a typed
 * error, and a result means every option was what it must be (kvLens integers in [0, Nk], a finite
 * scale, ...). NaN / Inf follow docs/api.md "Attention" on every backend: with NaN placed at random in
 * q, k, v and bias, exactly the rows that attend to a NaN are NaN (lse only through q, k and bias), and
 * with NaN and ±Inf anywhere the backend under test (wasm in the cpu project, WebGPU in the gpu project)
 * puts non-finite values where the TypeScript reference does, and finite ones within 1e-4 of it.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type AttentionOptions, attention, createDevice, type Device, type Tensor } from '../../src/index.js';
import { forwardBackward, policyMismatches } from '../attention.js';
import { getDevices, onGpu } from '../device.js';
import { wasmDevice } from '../wasm.js';
import { anyNumber, checkAsyncProperty, checkProperty, typedError } from './property.js';

const FAMILY = 'attention';
const dev = onGpu ? (await getDevices()).dev : await wasmDevice(1);
const reference = await createDevice({ backend: 'cpu', kernels: 'reference' });
afterAll(() => {
  reference.destroy();
  if (!onGpu) dev.destroy();
});

/** An option value that may be right, wrong in kind, or wrong in range. */
const anyValue = fc.oneof(
  anyNumber,
  fc.constantFrom(undefined, null, 'x', '2', true, {}, [], [1], [0, 0], [1, Number.POSITIVE_INFINITY]),
);

describe('hardening: attention', () => {
  it('options give a result or a typed error, and a result means they were valid', () => {
    const B = 2;
    const N = 3;
    const q = reference.tensor(new Float32Array(B * N * 2).fill(0.5), [B, 1, N, 2]);
    try {
      checkProperty(
        FAMILY,
        'options',
        [
          fc.record(
            {
              scale: anyValue,
              softcap: anyValue,
              window: fc.oneof(anyValue, fc.tuple(anyNumber, anyNumber)),
              kvLens: fc.oneof(anyValue, fc.array(anyNumber, { minLength: 0, maxLength: 3 })),
              dropout: fc.oneof(anyValue, fc.record({ p: anyNumber, seed: anyNumber }, { requiredKeys: [] })),
              causal: fc.constantFrom(true, false, 'top-left', 'bottom-right', 'x', 1, null),
              decode: fc.constantFrom('auto', 'split-k', 'fused', 'x', 3),
            },
            { requiredKeys: [] },
          ),
        ],
        (raw) => {
          const opts = raw as AttentionOptions & { decode?: 'auto' };
          let outs: Tensor[] = [];
          const error = typedError(() => {
            const r = attention.detailed(q, q, q, opts);
            outs = [r.out, r.lse];
          }, ['INVALID_ARGUMENT', 'INDEX_OUT_OF_RANGE', 'SHAPE_MISMATCH']);
          for (const t of outs) t.dispose();
          if (error) return;
          // accepted: each option present was a value of its kind and range
          const o = raw as Record<string, unknown>;
          const isInt = (x: unknown) => typeof x === 'number' && Number.isInteger(x);
          if (o.scale !== undefined) expect(Number.isFinite(o.scale)).toBe(true);
          if (o.softcap !== undefined)
            expect(Number.isFinite(o.softcap) && (o.softcap as number) >= 0).toBe(true);
          if (o.kvLens !== undefined) {
            const lens = o.kvLens as unknown[];
            expect(lens.length).toBe(B);
            for (const n of lens) expect(isInt(n) && (n as number) >= 0 && (n as number) <= N).toBe(true);
          }
          if (o.window !== undefined) {
            const w = o.window as unknown[];
            expect(w.length).toBe(2);
            for (const x of w)
              expect(x === Number.POSITIVE_INFINITY || (isInt(x) && (x as number) >= 0)).toBe(true);
          }
          if (o.dropout !== undefined) {
            const d = o.dropout as { p: number; seed: number };
            expect(d.p >= 0 && d.p < 1 && Number.isSafeInteger(d.seed)).toBe(true);
          }
        },
        300,
      );
    } finally {
      q.dispose();
    }
  });

  it('inputs of any shape and dtype give a result of the documented shape or a typed error', () => {
    const dim = fc.integer({ min: 0, max: 3 });
    const input = fc.record({
      shape: fc.array(dim, { minLength: 3, maxLength: 5 }),
      dtype: fc.constantFrom('f32', 'f32', 'f32', 'i32', 'bool'),
    });
    checkProperty(
      FAMILY,
      'input shapes and dtypes',
      [input, input, input, fc.boolean()],
      (qi, ki, vi, causal) => {
        const made: Tensor[] = [];
        const tensor = (x: { shape: number[]; dtype: string }) => {
          const t = dev.zeros(x.shape, x.dtype as 'f32');
          made.push(t);
          return t;
        };
        try {
          const [q, k, v] = [tensor(qi), tensor(ki), tensor(vi)];
          let out: Tensor | null = null;
          typedError(() => {
            out = attention(q, k, v, { causal });
            made.push(out);
          }, ['SHAPE_MISMATCH', 'DTYPE_MISMATCH', 'INVALID_ARGUMENT']);
          if (out) {
            // accepted: [B, H, Nq, D] x [B, Hkv, Nk, D] x [B, Hkv, Nk, Dv] -> [B, H, Nq, Dv], f32
            const [B, H, Nq] = qi.shape as [number, number, number];
            expect((out as Tensor).shape).toEqual([B, H, Nq, vi.shape[3]]);
            expect([qi.dtype, ki.dtype, vi.dtype]).toEqual(['f32', 'f32', 'f32']);
          }
        } finally {
          for (const t of made) t.dispose();
        }
      },
      onGpu ? 60 : 300,
    );
  });

  it('a NaN reaches exactly the rows that attend to it', async () => {
    await checkAsyncProperty(
      FAMILY,
      'NaN placement',
      [placement(false)],
      async (c) => {
        const got = await run(dev, c);
        const B = 1;
        const { Nq, Nk, D, Dv } = c;
        const isNaN3 = (a: Float32Array, n: number, w: number) =>
          a.subarray(n * w, n * w + w).some(Number.isNaN);
        for (let b = 0; b < B; b++) {
          for (let i = 0; i < Nq; i++) {
            const keys = visibleKeys(c, i);
            const scoreNaN =
              keys.length > 0 &&
              (isNaN3(c.q, i, D) ||
                keys.some((j) => isNaN3(c.k, j, D) || (c.bias && Number.isNaN(c.bias[i * Nk + j]!))));
            for (let d = 0; d < Dv; d++) {
              const want = scoreNaN || keys.some((j) => Number.isNaN(c.v[j * Dv + d]!));
              expect(Number.isNaN(got.out[i * Dv + d]!), `out[${i}, ${d}] in ${describeCase(c)}`).toBe(want);
            }
            expect(Number.isNaN(got.lse[i]!), `lse[${i}] in ${describeCase(c)}`).toBe(scoreNaN);
            if (keys.length === 0) expect(got.lse[i]).toBe(Number.NEGATIVE_INFINITY);
          }
        }
      },
      onGpu ? 25 : 150,
    );
  });

  it('NaN and ±Inf anywhere: the backend matches the reference', async () => {
    await checkAsyncProperty(
      FAMILY,
      'NaN/Inf vs reference',
      [fc.oneof(placement(true), neighborhoodPlacement)],
      async (c) => {
        const want = await run(reference, c);
        const got = await run(dev, c);
        for (const k of ['out', 'lse', 'dq', 'dk', 'dv', 'dbias'] as const) {
          const g = got[k];
          const w = want[k];
          if (!w || !g) continue;
          expect(policyMismatches(g, w, 1e-4, 1e-4), `${k} in ${describeCase(c)}`).toEqual([]);
        }
      },
      onGpu ? 60 : 150,
    );
  });
});

interface Placed {
  Nq: number;
  Nk: number;
  D: number;
  Dv: number;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  dout: Float32Array;
  bias: Float32Array | null;
  causal: boolean;
  window: [number, number] | null;
  kvLens: number | null;
  /** 2-D neighbourhood attention instead of causal / window (Nq = Nk = rows · cols) */
  neighborhood?: { grid: [number, number]; kernel: [number, number]; causal: boolean };
}

const describeCase = (c: Placed) =>
  JSON.stringify({
    ...c,
    q: [...c.q],
    k: [...c.k],
    v: [...c.v],
    bias: c.bias && [...c.bias],
    dout: undefined,
  });

/** Small finite values with a few NaN (and, with `inf`, ±Infinity) placed at random. */
function placement(inf: boolean): fc.Arbitrary<Placed> {
  const special = inf
    ? fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY)
    : fc.constant(Number.NaN);
  const value = fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: -8, max: 8 }).map((x) => x / 4) },
    { weight: 1, arbitrary: special },
  );
  // D 4 reaches the vec4 kernels on WebGPU (each feature set compiles its own pipelines: kept few there)
  const dims = onGpu ? fc.constantFrom(1, 2) : fc.constantFrom(1, 2, 3, 4);
  return fc
    .record({
      Nq: fc.integer({ min: 1, max: 5 }),
      Nk: fc.integer({ min: 1, max: 5 }),
      D: dims,
      Dv: dims,
      bias: fc.boolean(),
      causal: fc.boolean(),
      window: fc.option(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))),
      lens: fc.option(fc.nat()),
      seed: fc.nat(),
    })
    .chain((s) =>
      fc
        .record({
          q: fc.array(value, { minLength: s.Nq * s.D, maxLength: s.Nq * s.D }),
          k: fc.array(value, { minLength: s.Nk * s.D, maxLength: s.Nk * s.D }),
          v: fc.array(value, { minLength: s.Nk * s.Dv, maxLength: s.Nk * s.Dv }),
          bias: fc.array(value, { minLength: s.Nq * s.Nk, maxLength: s.Nq * s.Nk }),
          dout: fc.array(
            fc.integer({ min: -4, max: 4 }).map((x) => x / 4),
            {
              minLength: s.Nq * s.Dv,
              maxLength: s.Nq * s.Dv,
            },
          ),
        })
        .map(
          (x): Placed => ({
            Nq: s.Nq,
            Nk: s.Nk,
            D: s.D,
            Dv: s.Dv,
            q: Float32Array.from(x.q),
            k: Float32Array.from(x.k),
            v: Float32Array.from(x.v),
            dout: Float32Array.from(x.dout),
            bias: s.bias ? Float32Array.from(x.bias) : null,
            causal: s.causal,
            window: s.window,
            kvLens: s.lens === null ? null : s.lens % (s.Nk + 1),
          }),
        ),
    );
}

/** placement(true) on a 2-D grid with neighbourhood attention (its own kernels on every backend). */
const neighborhoodPlacement: fc.Arbitrary<Placed> = fc
  .record({
    rows: fc.integer({ min: 1, max: 3 }),
    cols: fc.integer({ min: 1, max: 3 }),
    causal: fc.boolean(),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
  })
  .chain((g) =>
    placement(true).map((c): Placed => {
      const N = g.rows * g.cols;
      const cut = (a: Float32Array, n: number, w: number) => {
        const out = new Float32Array(n * w);
        for (let i = 0; i < out.length; i++) out[i] = a[i % a.length]!;
        return out;
      };
      return {
        ...c,
        Nq: N,
        Nk: N,
        q: cut(c.q, N, c.D),
        k: cut(c.k, N, c.D),
        v: cut(c.v, N, c.Dv),
        dout: cut(c.dout, N, c.Dv),
        bias: c.bias && cut(c.bias, N, N),
        kvLens: c.kvLens === null ? null : c.kvLens % (N + 1),
        neighborhood: {
          grid: [g.rows, g.cols],
          kernel: [Math.min(g.kh, g.rows), Math.min(g.kw, g.cols)],
          causal: g.causal,
        },
      };
    }),
  );

/** The keys row i sees (causal top-left, window, kvLens), as docs/api.md "Attention" defines them. */
function visibleKeys(c: Placed, i: number): number[] {
  const keys: number[] = [];
  for (let j = 0; j < (c.kvLens ?? c.Nk); j++) {
    if (c.causal && j > i) continue;
    if (c.window && (j < i - c.window[0] || j > i + c.window[1])) continue;
    keys.push(j);
  }
  return keys;
}

async function run(device: Device, c: Placed) {
  const made: Tensor[] = [];
  const t = (a: Float32Array, shape: number[]) => {
    const x = device.tensor(a, shape);
    made.push(x);
    return x;
  };
  try {
    const q = t(c.q, [1, 1, c.Nq, c.D]);
    const k = t(c.k, [1, 1, c.Nk, c.D]);
    const v = t(c.v, [1, 1, c.Nk, c.Dv]);
    const opts: AttentionOptions = c.neighborhood ? { neighborhood: c.neighborhood } : { causal: c.causal };
    if (c.window && !c.neighborhood) opts.window = c.window;
    if (c.kvLens !== null) opts.kvLens = [c.kvLens];
    if (c.bias) opts.bias = t(c.bias, [c.Nq, c.Nk]);
    return await forwardBackward(q, k, v, t(c.dout, [1, 1, c.Nq, c.Dv]), opts);
  } finally {
    for (const x of made) x.dispose();
  }
}
