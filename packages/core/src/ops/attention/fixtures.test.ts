/**
 * Attention against PyTorch: test/fixtures/attention.safetensors holds q, k, v, dout (and mask, bias,
 * kv_lens) with float64 references of out, lse, weights and the gradients dq, dk, dv (dbias), rounded to
 * f32, written by tools/fixtures/gen_attention.py; its __metadata__.cases drives the table. No Python is
 * needed here. Each case runs on the backend of the current vitest project (cpu or gpu).
 */
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices } from '../../../test/device.js';
import { loadFixture } from '../../../test/fixtures.js';
import {
  type AttentionOptions,
  type AttentionShape,
  attention,
  attentionBackward,
  type DType,
  type io,
  type MaskMod,
  nn,
  type Tensor,
} from '../../index.js';

/**
 * Tolerances: |got - want| <= atol + rtol * |want|; -inf (lse of a row with no visible key) must match
 * exactly. The references are float64 rounded to f32; the library computes in f32.
 */
const TOLERANCE = {
  out: { atol: 1e-5, rtol: 0 },
  weights: { atol: 1e-5, rtol: 0 },
  lse: { atol: 1e-5, rtol: 1e-6 },
  grad: { atol: 1e-4, rtol: 1e-4 }, // dq, dk, dv, dbias
} as const;
type Output = 'out' | 'lse' | 'weights' | 'dq' | 'dk' | 'dv' | 'dbias';
const toleranceOf = (o: Output) =>
  o === 'out' || o === 'weights' || o === 'lse' ? TOLERANCE[o] : TOLERANCE.grad;

interface Params extends AttentionShape {
  /** rows with no visible key in the reference */
  empty_rows: number;
  scale?: number;
  softcap?: number;
  causal?: boolean | 'top-left' | 'bottom-right';
  /** null = open side (Infinity) */
  window?: [number | null, number | null];
  /** ALiBi slopes per head: score - slopes[h] * |i - j| */
  slopes?: number[];
  /** document ids per position: visible iff docs[i] == docs[j] */
  docs?: number[];
}
interface Case {
  name: string;
  inputs: string[];
  outputs: Output[];
  params: Params;
}

const { cases, host } = loadFixture<Case>('attention.safetensors');

const DTYPE_OF: Partial<Record<io.SafetensorsDType, DType>> = { F32: 'f32', I32: 'i32', BOOL: 'bool' };

const documentMask = (docs: Tensor): MaskMod => ({
  name: 'document',
  wgsl: 'docs_ld(i) == docs_ld(j)',
  ts: (_b, _h, i, j, t) => t.docs![i] === t.docs![j],
  tensors: { docs },
});

/** The options of a case on `dev`; `made` collects the tensors created for them. */
function optionsOf(c: Case, inputs: Record<string, Tensor>, made: Tensor[]): AttentionOptions {
  const p = c.params;
  const opts: AttentionOptions = {};
  if (p.scale !== undefined) opts.scale = p.scale;
  if (p.softcap !== undefined) opts.softcap = p.softcap;
  if (p.causal !== undefined) opts.causal = p.causal;
  if (p.window !== undefined) {
    const side = (x: number | null) => x ?? Number.POSITIVE_INFINITY;
    opts.window = [side(p.window[0]), side(p.window[1])];
  }
  if (inputs.mask) opts.mask = inputs.mask;
  if (inputs.bias) opts.bias = inputs.bias;
  if (c.inputs.includes('kv_lens')) opts.kvLens = host(`${c.name}.kv_lens`).data as Int32Array;
  if (p.slopes) {
    const slopes = dev.tensor(Float32Array.from(p.slopes), [p.slopes.length]);
    made.push(slopes);
    opts.scoreMod = nn.alibiScoreMod(slopes);
  }
  if (p.docs) {
    const docs = dev.tensor(Float32Array.from(p.docs), [p.docs.length]);
    made.push(docs);
    opts.maskMod = documentMask(docs);
  }
  return opts;
}

const { dev } = await getDevices();

describe('PyTorch fixtures (attention.safetensors)', () => {
  it('holds a case table covering the contract', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    const names = cases.map((c) => c.name);
    for (const n of ['combined', 'fully_masked_rows', 'kv_lens', 'alibi_causal', 'document_causal'])
      expect(names).toContain(n);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const made: Tensor[] = [];
      const inputs: Record<string, Tensor> = {};
      for (const role of c.inputs) {
        if (role === 'kv_lens') continue; // an Int32Array option, not a tensor
        const name = `${c.name}.${role}`;
        const t = host(name);
        const dtype = DTYPE_OF[t.dtype];
        if (!dtype) throw new Error(`fixture tensor ${name} has dtype ${t.dtype}`);
        inputs[role] = dev.tensor(t.data as ArrayLike<number>, t.shape, { dtype });
        made.push(inputs[role]);
      }
      const { q, k, v, dout } = inputs as Record<'q' | 'k' | 'v' | 'dout', Tensor>;
      try {
        const opts = optionsOf(c, inputs, made);
        const fwd = attention.detailed(q, k, v, { ...opts, weights: true });
        made.push(fwd.out, fwd.lse);
        if (fwd.weights) made.push(fwd.weights);
        const grads = attentionBackward(q, k, v, fwd.out, fwd.lse, dout, opts);
        made.push(grads.dq, grads.dk, grads.dv);
        if (grads.dbias) made.push(grads.dbias);
        const got: Record<Output, Tensor | null> = { ...fwd, ...grads };
        for (const o of c.outputs) {
          const want = host(`${c.name}.${o}`);
          const t = got[o];
          if (!t) throw new Error(`${c.name}: ${o} was not returned`);
          expect(t.shape, `${c.name}.${o}: shape`).toEqual(want.shape);
          const { atol, rtol } = toleranceOf(o);
          expectClose(await t.read(), want.data as Float32Array, atol, rtol, `${c.name}.${o}`);
        }
        if (!c.outputs.includes('dbias')) expect(grads.dbias).toBeNull();
      } finally {
        for (const t of made) t.dispose();
      }
    });
  }
});
