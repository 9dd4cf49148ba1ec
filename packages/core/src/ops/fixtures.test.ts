/**
 * Every op against PyTorch: test/fixtures/core-ops.safetensors holds inputs and float64 references
 * (rounded to f32) written by tools/fixtures/gen_core_ops.py; its __metadata__.cases drives the table.
 * No Python is needed here. Each case runs on the backend of the current vitest project (cpu or gpu).
 */
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices } from '../../test/device.js';
import { loadFixture } from '../../test/fixtures.js';
import {
  abs,
  argmax,
  argmin,
  BINARY,
  type BinaryName,
  binary,
  cast,
  concat,
  type DType,
  embedding,
  erf,
  exp,
  gelu,
  indexSelect,
  type io,
  layerNorm,
  log,
  logSoftmax,
  logsumexp,
  matmul,
  max,
  mean,
  min,
  neg,
  pad,
  relu,
  rmsNorm,
  rsqrt,
  sigmoid,
  silu,
  softmax,
  sqrt,
  sum,
  type Tensor,
  tanh,
  UNARY,
  type UnaryName,
  unary,
  where,
} from '../index.js';

/** Tolerances: |got - want| <= atol + rtol * |want|. Integer and bool results must match exactly. */
const TOLERANCE = {
  elementwise: { atol: 1e-5, rtol: 1e-5 },
  reduction: { atol: 1e-5, rtol: 1e-5 }, // sum/mean/max/min/logsumexp, softmax/logSoftmax
  norm: { atol: 1e-5, rtol: 1e-5 },
  matmul: { atol: 1e-4, rtol: 1e-5 },
  gather: { atol: 0, rtol: 0 }, // indexSelect, embedding, concat, pad only move values
} as const;
type Category = keyof typeof TOLERANCE;

interface Case {
  name: string;
  op: string;
  inputs: string[];
  params: Record<string, unknown>;
}
type Params = Case['params'];
type OpFn = (x: Tensor[], p: Params) => Tensor;

const { cases, host } = loadFixture<Case>('core-ops.safetensors');

const DTYPE_OF: Partial<Record<io.SafetensorsDType, DType>> = {
  F32: 'f32',
  I32: 'i32',
  BOOL: 'bool',
  U8: 'bool',
};
function dtypeOf(t: io.HostTensor, name: string): DType {
  const d = DTYPE_OF[t.dtype];
  if (!d) throw new Error(`fixture tensor ${name} has dtype ${t.dtype}; expected F32, I32 or BOOL`);
  return d;
}

// ---- ops by fixture name ------------------------------------------------------------------------
const first = (x: Tensor[]): Tensor => x[0]!;
const second = (x: Tensor[]): Tensor => x[1]!;
const axisParam = (p: Params): number | number[] | undefined =>
  p.axis === null ? undefined : (p.axis as number | number[]);
const keep = (p: Params) => ({ keepdim: p.keepdim === true });
const normOpts = (x: Tensor[], p: Params) => ({
  ...(x[1] ? { weight: x[1] } : {}),
  ...(x[2] ? { bias: x[2] } : {}),
  eps: p.eps as number,
});

/** Named public wrappers where they exist; the rest of the UNARY/BINARY tables go through unary()/binary(). */
const NAMED_UNARY: Partial<Record<UnaryName, (x: Tensor) => Tensor>> = {
  neg,
  abs,
  exp,
  log,
  sqrt,
  rsqrt,
  tanh,
  erf,
  relu,
  sigmoid,
  silu,
  gelu: (x) => gelu(x),
  gelu_tanh: (x) => gelu(x, { approximate: 'tanh' }),
};

const OPS: Record<string, { fn: OpFn; category: Category }> = {
  where: { fn: (x) => where(x[0]!, x[1]!, x[2]!), category: 'elementwise' },
  cast: { fn: (x, p) => cast(first(x), p.dtype as DType), category: 'elementwise' },
  sum: { fn: (x, p) => sum(first(x), axisParam(p), keep(p)), category: 'reduction' },
  mean: { fn: (x, p) => mean(first(x), axisParam(p), keep(p)), category: 'reduction' },
  max: { fn: (x, p) => max(first(x), axisParam(p), keep(p)), category: 'reduction' },
  min: { fn: (x, p) => min(first(x), axisParam(p), keep(p)), category: 'reduction' },
  logsumexp: { fn: (x, p) => logsumexp(first(x), axisParam(p), keep(p)), category: 'reduction' },
  argmax: {
    fn: (x, p) => argmax(first(x), axisParam(p) as number | undefined, keep(p)),
    category: 'reduction',
  },
  argmin: {
    fn: (x, p) => argmin(first(x), axisParam(p) as number | undefined, keep(p)),
    category: 'reduction',
  },
  softmax: { fn: (x, p) => softmax(first(x), p.axis as number), category: 'reduction' },
  log_softmax: { fn: (x, p) => logSoftmax(first(x), p.axis as number), category: 'reduction' },
  layer_norm: {
    fn: (x, p) => layerNorm(first(x), p.normalized_shape as number[], normOpts(x, p)),
    category: 'norm',
  },
  rms_norm: {
    fn: (x, p) => rmsNorm(first(x), p.normalized_shape as number[], normOpts(x, p)),
    category: 'norm',
  },
  matmul: {
    // the file holds A^T / B^T when a_transposed / b_transposed: pass the transposed view, as users would
    fn: (x, p) => matmul(p.a_transposed ? first(x).mT : first(x), p.b_transposed ? second(x).mT : second(x)),
    category: 'matmul',
  },
  embedding: { fn: (x) => embedding(first(x), second(x)), category: 'gather' },
  index_select: { fn: (x, p) => indexSelect(first(x), p.axis as number, second(x)), category: 'gather' },
  cat: { fn: (x, p) => concat(x, p.axis as number), category: 'gather' },
  pad: { fn: (x, p) => pad(first(x), p.pads as number[], p.value as number), category: 'gather' },
};
for (const name of Object.keys(UNARY) as UnaryName[]) {
  const named = NAMED_UNARY[name];
  OPS[name] = { fn: (x) => (named ? named(first(x)) : unary(name, first(x))), category: 'elementwise' };
}
for (const name of Object.keys(BINARY) as BinaryName[]) {
  OPS[name] = { fn: (x) => binary(name, first(x), second(x)), category: 'elementwise' };
}

// ---- the table ----------------------------------------------------------------------------------
const { dev } = await getDevices();

describe('PyTorch fixtures (core-ops.safetensors)', () => {
  it('holds a case table, and every op of the table has a runner', () => {
    expect(cases.length).toBeGreaterThan(100);
    const unknown = cases.filter((c) => !OPS[c.op]).map((c) => `${c.name} (${c.op})`);
    expect(unknown).toEqual([]);
  });

  for (const c of cases) {
    it(`${c.name}: ${c.op}`, async () => {
      const op = OPS[c.op];
      if (!op) throw new Error(`no runner for op ${c.op}`);
      const inputs = c.inputs.map((role) => {
        const name = `${c.name}.${role}`;
        const t = host(name);
        return dev.tensor(t.data as ArrayLike<number>, t.shape, { dtype: dtypeOf(t, name) });
      });
      const want = host(`${c.name}.out`);
      const wantDtype = dtypeOf(want, `${c.name}.out`);
      const out = op.fn(inputs, c.params);
      try {
        expect(out.shape, `${c.name}: shape`).toEqual(want.shape);
        expect(out.dtype, `${c.name}: dtype`).toBe(wantDtype);
        const got = await out.read();
        if (wantDtype === 'f32') {
          const { atol, rtol } = TOLERANCE[op.category];
          expectClose(got, want.data as Float32Array, atol, rtol, c.name);
        } else {
          expect(Array.from(got), c.name).toEqual(Array.from(want.data as ArrayLike<number>));
        }
      } finally {
        out.dispose();
        for (const t of inputs) t.dispose();
      }
    });
  }
});
