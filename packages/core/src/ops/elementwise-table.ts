/**
 * Elementwise ops as tables: each row maps a name to its WGSL expression and its TypeScript twin, with
 * its derivative. NaN/Inf follow IEEE-754 as PyTorch does; where WGSL leaves a case undefined (pow of a
 * negative base, tanh overflow) the expression spells the case out so CPU and GPU agree.
 */
import { SINCOS_WGSL } from '../kernels/wgsl-math.js';

// erf by Abramowitz & Stegun 7.1.26 refined (max abs error 1.2e-7, below f32 resolution near 1).
const ERF_WGSL = `
fn erf_(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return select(1.0 - r, r - 1.0, x < 0.0);
}`;
function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x < 0 ? r - 1 : 1 - r;
}

// tanh through exp(-2|x|): exact limits for large |x| where exp overflows.
export const TANH_WGSL = `
fn tanh_(x: f32) -> f32 { let e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }`;

const SQRT_2_OVER_PI = 0.7978845608028654;

// Derivative helpers: logistic function and the two GELU derivatives (PyTorch's formulas).
export const GRAD_WGSL = `
fn sigm_(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
fn gelu_tanh_grad_(x: f32) -> f32 {
  let t = tanh_(${SQRT_2_OVER_PI} * (x + 0.044715 * x * x * x));
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * ${SQRT_2_OVER_PI} * (1.0 + 3.0 * 0.044715 * x * x);
}`;
const sigm = (x: number) => 1 / (1 + Math.exp(-x));
function geluTanhGrad(x: number): number {
  const t = Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
}

/** A gradient expression: WGSL over the op's inputs (x0, x1) and the output's gradient (last), TS twin. */
interface GradRow {
  wgsl: string;
  cpu: (...x: number[]) => number;
}

export interface UnaryRow {
  wgsl: string;
  cpu: (x: number) => number;
  helpers?: string;
  /** Which dtypes the op accepts; float ops refuse integers with a hint to cast. */
  ints?: boolean;
  /** dL/dx from x (x0) and dL/dy (x1); absent where no gradient flows (isnan). */
  dx?: GradRow;
}

export const UNARY = {
  neg: { wgsl: '-x0', cpu: (x) => -x, ints: true, dx: { wgsl: '-x1', cpu: (_x, g) => -g } },
  abs: {
    wgsl: 'abs(x0)',
    cpu: Math.abs,
    ints: true,
    dx: { wgsl: 'x1 * sign(x0)', cpu: (x, g) => g * Math.sign(x) },
  },
  exp: { wgsl: 'exp(x0)', cpu: Math.exp, dx: { wgsl: 'x1 * exp(x0)', cpu: (x, g) => g * Math.exp(x) } },
  log: { wgsl: 'log(x0)', cpu: Math.log, dx: { wgsl: 'x1 / x0', cpu: (x, g) => g / x } },
  sqrt: {
    wgsl: 'sqrt(x0)',
    cpu: Math.sqrt,
    dx: { wgsl: 'x1 * 0.5 / sqrt(x0)', cpu: (x, g) => (g * 0.5) / Math.sqrt(x) },
  },
  rsqrt: {
    wgsl: 'inverseSqrt(x0)',
    cpu: (x) => 1 / Math.sqrt(x),
    dx: { wgsl: 'x1 * -0.5 * inverseSqrt(x0) / x0', cpu: (x, g) => (g * -0.5) / Math.sqrt(x) / x },
  },
  tanh: {
    wgsl: 'tanh_(x0)',
    cpu: Math.tanh,
    helpers: TANH_WGSL,
    dx: { wgsl: 'x1 * (1.0 - tanh_(x0) * tanh_(x0))', cpu: (x, g) => g * (1 - Math.tanh(x) ** 2) },
  },
  erf: {
    wgsl: 'erf_(x0)',
    cpu: erf,
    helpers: ERF_WGSL,
    dx: {
      wgsl: 'x1 * 1.1283791670955126 * exp(-x0 * x0)',
      cpu: (x, g) => g * 1.1283791670955126 * Math.exp(-x * x),
    },
  },
  relu: {
    wgsl: 'select(0.0, x0, !(x0 <= 0.0))',
    cpu: (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0),
    dx: { wgsl: 'select(0.0, x1, x0 > 0.0)', cpu: (x, g) => (x > 0 ? g : 0) },
  },
  sigmoid: {
    wgsl: '1.0 / (1.0 + exp(-x0))',
    cpu: (x) => 1 / (1 + Math.exp(-x)),
    dx: { wgsl: 'x1 * sigm_(x0) * (1.0 - sigm_(x0))', cpu: (x, g) => g * sigm(x) * (1 - sigm(x)) },
  },
  silu: {
    wgsl: 'x0 / (1.0 + exp(-x0))',
    cpu: (x) => x / (1 + Math.exp(-x)),
    dx: {
      wgsl: 'x1 * sigm_(x0) * (1.0 + x0 * (1.0 - sigm_(x0)))',
      cpu: (x, g) => g * sigm(x) * (1 + x * (1 - sigm(x))),
    },
  },
  gelu: {
    wgsl: '0.5 * x0 * (1.0 + erf_(x0 * 0.7071067811865476))',
    cpu: (x) => 0.5 * x * (1 + erf(x * Math.SQRT1_2)),
    helpers: ERF_WGSL,
    dx: {
      wgsl: 'x1 * (0.5 * (1.0 + erf_(x0 * 0.7071067811865476)) + x0 * 0.3989422804014327 * exp(-0.5 * x0 * x0))',
      cpu: (x, g) =>
        g * (0.5 * (1 + erf(x * Math.SQRT1_2)) + x * 0.3989422804014327 * Math.exp(-0.5 * x * x)),
    },
  },
  gelu_tanh: {
    wgsl: `0.5 * x0 * (1.0 + tanh_(${SQRT_2_OVER_PI} * (x0 + 0.044715 * x0 * x0 * x0)))`,
    cpu: (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))),
    helpers: TANH_WGSL,
    dx: { wgsl: 'x1 * gelu_tanh_grad_(x0)', cpu: (x, g) => g * geluTanhGrad(x) },
  },
  square: {
    wgsl: 'x0 * x0',
    cpu: (x) => x * x,
    ints: true,
    dx: { wgsl: '2.0 * x0 * x1', cpu: (x, g) => 2 * x * g },
  },
  reciprocal: {
    wgsl: '1.0 / x0',
    cpu: (x) => 1 / x,
    dx: { wgsl: '-x1 / (x0 * x0)', cpu: (x, g) => -g / (x * x) },
  },
  sin: {
    wgsl: 'sin_(x0)',
    cpu: Math.sin,
    helpers: SINCOS_WGSL,
    dx: { wgsl: 'x1 * cos_(x0)', cpu: (x, g) => g * Math.cos(x) },
  },
  cos: {
    wgsl: 'cos_(x0)',
    cpu: Math.cos,
    helpers: SINCOS_WGSL,
    dx: { wgsl: '-x1 * sin_(x0)', cpu: (x, g) => -g * Math.sin(x) },
  },
  floor: { wgsl: 'floor(x0)', cpu: Math.floor, dx: { wgsl: 'x1 * 0.0', cpu: (_x, g) => g * 0 } },
  ceil: { wgsl: 'ceil(x0)', cpu: Math.ceil, dx: { wgsl: 'x1 * 0.0', cpu: (_x, g) => g * 0 } },
  softplus: {
    wgsl: 'max(x0, 0.0) + log(1.0 + exp(-abs(x0)))',
    cpu: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
    dx: { wgsl: 'x1 * sigm_(x0)', cpu: (x, g) => g * sigm(x) },
  },
  isnan: { wgsl: 'u32(isNan(f32(x0)))', cpu: (x) => (Number.isNaN(x) ? 1 : 0) },
} satisfies Record<string, UnaryRow>;

export type UnaryName = keyof typeof UNARY;

// pow with PyTorch's cases: negative base with an integral exponent keeps its sign; 0^0 = 1.
const POW_WGSL = `
fn pow_(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a >= 0.0) { return pow(a, b); }
  if (b != floor(b)) { return nan(); }
  let m = pow(-a, b);
  return select(m, -m, (abs(b) % 2.0) == 1.0);
}`;

export interface BinaryRow {
  wgsl: string;
  cpu: (a: number, b: number) => number;
  helpers?: string;
  ints?: boolean;
  /** Comparisons give bool. */
  compare?: boolean;
  /** dL/da and dL/db from a (x0), b (x1) and dL/dy (x2); absent for comparisons. */
  da?: GradRow;
  db?: GradRow;
}

export const BINARY = {
  add: {
    wgsl: 'x0 + x1',
    cpu: (a, b) => a + b,
    ints: true,
    da: { wgsl: 'x2', cpu: (_a, _b, g) => g },
    db: { wgsl: 'x2', cpu: (_a, _b, g) => g },
  },
  sub: {
    wgsl: 'x0 - x1',
    cpu: (a, b) => a - b,
    ints: true,
    da: { wgsl: 'x2', cpu: (_a, _b, g) => g },
    db: { wgsl: '-x2', cpu: (_a, _b, g) => -g },
  },
  mul: {
    wgsl: 'x0 * x1',
    cpu: (a, b) => a * b,
    ints: true,
    da: { wgsl: 'x2 * x1', cpu: (_a, b, g) => g * b },
    db: { wgsl: 'x2 * x0', cpu: (a, _b, g) => g * a },
  },
  div: {
    wgsl: 'x0 / x1',
    cpu: (a, b) => a / b,
    da: { wgsl: 'x2 / x1', cpu: (_a, b, g) => g / b },
    db: { wgsl: '-x2 * x0 / (x1 * x1)', cpu: (a, b, g) => (-g * a) / (b * b) },
  },
  pow: {
    wgsl: 'pow_(x0, x1)',
    cpu: (a, b) => a ** b,
    helpers: POW_WGSL,
    da: {
      wgsl: 'select(x2 * x1 * pow_(x0, x1 - 1.0), 0.0, x1 == 0.0)',
      cpu: (a, b, g) => (b === 0 ? 0 : g * b * a ** (b - 1)),
    },
    db: {
      wgsl: 'select(x2 * pow_(x0, x1) * log(x0), 0.0, x0 == 0.0 && x1 >= 0.0)',
      cpu: (a, b, g) => (a === 0 && b >= 0 ? 0 : g * a ** b * Math.log(a)),
    },
  },
  maximum: {
    wgsl: 'select(max(x0, x1), x0 + x1, isNan(f32(x0)) || isNan(f32(x1)))',
    cpu: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b)),
    ints: true,
    da: {
      wgsl: 'x2 * select(select(0.0, 0.5, x0 == x1), 1.0, x0 > x1)',
      cpu: (a, b, g) => g * (a > b ? 1 : a === b ? 0.5 : 0),
    },
    db: {
      wgsl: 'x2 * select(select(0.0, 0.5, x0 == x1), 1.0, x1 > x0)',
      cpu: (a, b, g) => g * (b > a ? 1 : a === b ? 0.5 : 0),
    },
  },
  minimum: {
    wgsl: 'select(min(x0, x1), x0 + x1, isNan(f32(x0)) || isNan(f32(x1)))',
    cpu: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b)),
    ints: true,
    da: {
      wgsl: 'x2 * select(select(0.0, 0.5, x0 == x1), 1.0, x0 < x1)',
      cpu: (a, b, g) => g * (a < b ? 1 : a === b ? 0.5 : 0),
    },
    db: {
      wgsl: 'x2 * select(select(0.0, 0.5, x0 == x1), 1.0, x1 < x0)',
      cpu: (a, b, g) => g * (b < a ? 1 : a === b ? 0.5 : 0),
    },
  },
  eq: { wgsl: 'u32(x0 == x1)', cpu: (a, b) => +(a === b), ints: true, compare: true },
  ne: { wgsl: 'u32(x0 != x1)', cpu: (a, b) => +(a !== b), ints: true, compare: true },
  lt: { wgsl: 'u32(x0 < x1)', cpu: (a, b) => +(a < b), ints: true, compare: true },
  le: { wgsl: 'u32(x0 <= x1)', cpu: (a, b) => +(a <= b), ints: true, compare: true },
  gt: { wgsl: 'u32(x0 > x1)', cpu: (a, b) => +(a > b), ints: true, compare: true },
  ge: { wgsl: 'u32(x0 >= x1)', cpu: (a, b) => +(a >= b), ints: true, compare: true },
} satisfies Record<string, BinaryRow>;

export type BinaryName = keyof typeof BINARY;
