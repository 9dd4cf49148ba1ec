/**
 * Gradient checks for tests: analytic gradients from `backward` against central finite differences
 * on the CPU backend, and the same gradients computed on the device under test.
 *
 * The CPU backend computes in f32, so differences use a step of 1e-2 on smooth functions, and
 * the check asks |analytic - numeric| <= 1e-3 + 1e-2·|numeric| (the truncation and rounding error of
 * f32 central differences at that step). Exact references come from the PyTorch fixtures; this check
 * catches wrong formulas, which are off by far more.
 */
import { expect } from 'vitest';
import { type Device, noGrad, type Tensor, tidy } from '../src/index.js';
import { expectClose, randomData } from './device.js';

export interface GradInput {
  shape: number[];
  /** Values (default: random in [-1, 1)). */
  data?: Float32Array;
  /** false for inputs the check does not differentiate (e.g. a mask operand given as f32). */
  grad?: boolean;
}

/** sum(f(inputs) * gy) evaluated on the host, in f64 over f32 outputs. */
async function objective(out: Tensor, gy: Float32Array): Promise<number> {
  const y = (await out.read()) as Float32Array;
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]! * gy[i]!;
  return s;
}

/** Values of every input, and the gradients `backward` gives on `device` for upstream gradient gy. */
export async function analyticGrads(
  device: Device,
  fn: (...xs: Tensor[]) => Tensor,
  inputs: readonly GradInput[],
  values: readonly Float32Array[],
  seed = 99,
): Promise<{ grads: (Float32Array | null)[]; out: Float32Array }> {
  const xs = inputs.map((inp, i) =>
    device.tensor(values[i]!, inp.shape, { dtype: 'f32' }).requiresGrad_(inp.grad !== false),
  );
  const out = fn(...xs);
  const gy = device.tensor(randomData(out.size, seed), out.shape);
  out.backward(gy);
  const result = {
    grads: await Promise.all(xs.map(async (x) => (x.grad ? ((await x.grad.read()) as Float32Array) : null))),
    out: (await out.read()) as Float32Array,
  };
  for (const t of [...xs, out, gy]) t.dispose();
  return result;
}

/**
 * Checks the gradients of `fn` on the CPU backend against central differences, and, when `dev` is
 * another device, its gradients against the CPU ones (atol `parity`).
 */
export async function gradcheck(
  cpu: Device,
  dev: Device,
  fn: (...xs: Tensor[]) => Tensor,
  inputs: readonly GradInput[],
  opts: { step?: number; parity?: number; seed?: number } = {},
): Promise<void> {
  const step = opts.step ?? 1e-2;
  const seed = opts.seed ?? 99;
  const values = inputs.map(
    (inp, i) =>
      inp.data ??
      randomData(
        inp.shape.reduce((a, b) => a * b, 1),
        7 + i,
      ),
  );
  const { grads, out } = await analyticGrads(cpu, fn, inputs, values, seed);
  const gy = randomData(out.length, seed);
  const at = (vals: readonly Float32Array[]) =>
    noGrad(() =>
      tidy(() => {
        const xs = inputs.map((inp, i) => cpu.tensor(vals[i]!, inp.shape, { dtype: 'f32' }));
        return fn(...xs);
      }),
    );
  for (let i = 0; i < inputs.length; i++) {
    if (inputs[i]!.grad === false) continue;
    const analytic = grads[i];
    expect(analytic, `input ${i} has a gradient`).not.toBeNull();
    const numeric = new Float32Array(values[i]!.length);
    for (let e = 0; e < numeric.length; e++) {
      const probe = (delta: number) => {
        const vals = values.map((v) => v.slice());
        vals[i]![e]! += delta;
        return at(vals);
      };
      const plus = probe(step);
      const minus = probe(-step);
      numeric[e] = ((await objective(plus, gy)) - (await objective(minus, gy))) / (2 * step);
      plus.dispose();
      minus.dispose();
    }
    expectClose(analytic!, numeric, 1e-3, 1e-2, `d/dinput${i} vs finite differences`);
  }
  if (dev !== cpu) {
    const other = await analyticGrads(dev, fn, inputs, values, seed);
    expectClose(other.out, out, opts.parity ?? 1e-5, 1e-5, 'output on the device vs cpu');
    other.grads.forEach((g, i) => {
      if (grads[i])
        expectClose(g!, grads[i]!, opts.parity ?? 1e-5, 1e-5, `d/dinput${i} on the device vs cpu`);
    });
  }
}
