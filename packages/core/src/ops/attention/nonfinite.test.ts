/**
 * The NaN / Inf policy of attention (docs/api.md "Attention") on every backend: the cpu project runs the
 * TypeScript reference and the wasm kernels, the gpu project the WebGPU kernels (the loop-based family
 * for D 1-2, registers and tiled for D 4, fused and split-K for single-query rows). The references are
 * float64, written by tools/fixtures/gen_attention_nonfinite.py from inputs with NaN / ±Inf placed by
 * hand (test/fixtures/attention-nonfinite.json); each case also states by hand which rows hold a NaN.
 *
 * Tolerance |got - want| <= 1e-4 + 1e-4·|want| on finite values (f32 against float64); NaN, +Inf and
 * -Inf must sit exactly where the reference has them.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyMismatches } from '../../../test/attention.js';
import { getDevices, onGpu } from '../../../test/device.js';
import {
  type AttentionOptions,
  attention,
  attentionBackward,
  createDevice,
  type Device,
  type Tensor,
} from '../../index.js';

type Num = number | 'NaN' | 'Infinity' | '-Infinity';
type Matrix = Num[][];
type Output = 'out' | 'lse' | 'weights' | 'dq' | 'dk' | 'dv' | 'dbias';
interface Case {
  name: string;
  note: string;
  nan_rows: number[];
  params: {
    q: Matrix;
    k: Matrix;
    v: Matrix;
    dout: Matrix;
    scale: number;
    softcap?: number;
    causal?: boolean | 'bottom-right';
    window?: [number, number];
    kv_lens?: number[];
    mask?: boolean[][];
    bias?: Matrix;
  };
  refs: Record<Exclude<Output, 'lse'>, Matrix> & { lse: Num[] };
}

const ATOL = 1e-4;
const RTOL = 1e-4;
const num = (x: Num): number => (typeof x === 'number' ? x : Number(x));
const cases = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/attention-nonfinite.json', import.meta.url), 'utf8'),
) as Case[];

/** Compares element by element: the same non-finite values in the same places, finite ones close. */
function expectPolicy(got: ArrayLike<number>, want: number[], label: string): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  const bad = policyMismatches(got, want, ATOL, RTOL);
  expect(bad, `${label}: ${bad.slice(0, 6).join('; ')}`).toEqual([]);
}

interface Backend {
  name: string;
  dev: Device;
  variants: (c: Case) => Partial<AttentionOptions & { decode: 'split-k' | 'fused' }>[];
}
const backends: Backend[] = [];
const own: Device[] = [];
beforeAll(async () => {
  if (onGpu) {
    const { dev } = await getDevices();
    backends.push({
      name: 'webgpu',
      dev,
      variants: (c) => {
        const D = c.params.q[0]!.length;
        const Nq = c.params.q.length;
        if (D % 4 === 0) return [{ kernel: 'registers' }, { kernel: 'tiled' }];
        if (Nq === 1) return [{ decode: 'fused' }, { decode: 'split-k' }];
        return [{}];
      },
    });
  } else {
    const reference = await createDevice({ backend: 'cpu', kernels: 'reference' });
    const wasm = await createDevice({ backend: 'cpu', kernels: 'wasm', threads: 1 });
    own.push(reference, wasm);
    backends.push({ name: 'reference', dev: reference, variants: () => [{}] });
    backends.push({ name: 'wasm', dev: wasm, variants: () => [{}] });
  }
});
afterAll(() => {
  for (const d of own) d.destroy();
});

const flat = (m: Matrix | Num[]): number[] => (m as unknown[]).flat().map((x) => num(x as Num));

async function runCase(b: Backend, c: Case): Promise<void> {
  const p = c.params;
  const [Nq, Nk, D, Dv] = [p.q.length, p.k.length, p.q[0]!.length, p.v[0]!.length];
  const dev = b.dev;
  const made: Tensor[] = [];
  const tensor = (m: Matrix, shape: number[]) => {
    const t = dev.tensor(Float32Array.from(flat(m)), shape);
    made.push(t);
    return t;
  };
  try {
    const q = tensor(p.q, [1, 1, Nq, D]);
    const k = tensor(p.k, [1, 1, Nk, D]);
    const v = tensor(p.v, [1, 1, Nk, Dv]);
    const dout = tensor(p.dout, [1, 1, Nq, Dv]);
    const base: AttentionOptions = { scale: p.scale };
    if (p.softcap !== undefined) base.softcap = p.softcap;
    if (p.causal !== undefined) base.causal = p.causal;
    if (p.window) base.window = p.window;
    if (p.kv_lens) base.kvLens = p.kv_lens;
    if (p.bias) base.bias = tensor(p.bias, [Nq, Nk]);
    if (p.mask) {
      const mask = dev.tensor(Uint8Array.from(p.mask.flat(), Number), [Nq, Nk], { dtype: 'bool' });
      made.push(mask);
      base.mask = mask;
    }
    for (const variant of b.variants(c)) {
      const opts = { ...base, ...variant };
      const label = `${b.name} ${c.name} ${JSON.stringify(variant)}`;
      // out and lse without weights (asking for weights sends the wasm backend to the reference)
      const fwd = attention.detailed(q, k, v, opts);
      made.push(fwd.out, fwd.lse);
      expectPolicy(await fwd.out.read(), flat(c.refs.out), `${label} out`);
      expectPolicy(await fwd.lse.read(), flat(c.refs.lse), `${label} lse`);
      const w = attention.detailed(q, k, v, { ...opts, weights: true });
      made.push(w.out, w.lse, w.weights!);
      expectPolicy(await w.weights!.read(), flat(c.refs.weights), `${label} weights`);
      const g = attentionBackward(q, k, v, fwd.out, fwd.lse, dout, opts);
      made.push(g.dq, g.dk, g.dv);
      expectPolicy(await g.dq.read(), flat(c.refs.dq), `${label} dq`);
      expectPolicy(await g.dk.read(), flat(c.refs.dk), `${label} dk`);
      expectPolicy(await g.dv.read(), flat(c.refs.dv), `${label} dv`);
      if (p.bias) {
        made.push(g.dbias!);
        expectPolicy(await g.dbias!.read(), flat(c.refs.dbias), `${label} dbias`);
      }
    }
  } finally {
    for (const t of made) t.dispose();
  }
}

describe('attention NaN / Inf policy (attention-nonfinite.json)', () => {
  it('states the NaN rows of every case by hand, and they are the reference NaN rows', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
    for (const c of cases) {
      const Dv = c.params.v[0]!.length;
      const out = flat(c.refs.out);
      const rows = [...new Array(c.params.q.length).keys()].filter((i) =>
        out.slice(i * Dv, i * Dv + Dv).some(Number.isNaN),
      );
      expect(rows, c.name).toEqual(c.nan_rows);
    }
  });

  for (const c of cases) {
    it(`${c.name} (${c.note})`, async () => {
      for (const b of backends) await runCase(b, c);
    });
  }
});
