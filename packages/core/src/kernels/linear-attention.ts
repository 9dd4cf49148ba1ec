/**
 * Linear attention's derivation, once for every backend (Katharopoulos et al. 2020; the formulas are
 * in ops/attention/linear.ts). Forward and backward are all one product with two stream orders,
 *   P(x, y, w)_i = Σ_{t visible from i} (x_i · y_t) w_t,
 * so a backend implements five primitives (`LinearEngine`) and runs `linearForward` / `linearBackward`
 * with them: the reference in float64 host arrays, WebGPU in tensors.
 */
import type { Device } from '../device.js';
import type { Tensor } from '../tensor.js';
import type { AttentionShape } from './attention.js';
import type { KernelSignatures } from './signatures.js';

/** PyTorch F.normalize's default eps: the smallest norm a 'cosine' row is divided by. */
export const NORM_FLOOR = 1e-12;

/** Shapes and options of a call, checked (ops/attention/linear.ts). */
export interface ResolvedLinear extends AttentionShape {
  /** 0 = elu+1, 1 = cosine (the kernels' `map` uniform) */
  map: number;
  causal: boolean;
  /** key j visible from query i iff j <= i + shift (when causal) */
  shift: number;
  eps: number;
}

export interface LinearGrads {
  /** [B, H, Nq, D] */
  dq: Tensor;
  /** [B, Hkv, Nk, D], summed over the query heads of each kv head */
  dk: Tensor;
  /** [B, Hkv, Nk, Dv] */
  dv: Tensor;
}

/**
 * An operand [B, heads, rows, width] in some storage: element (b, h, n, c) at off + b·sb + h·sh + n·sn + c.
 * `aug` appends a column of ones (width + 1 columns).
 */
export interface Mat<S> {
  data: S;
  heads: number;
  rows: number;
  width: number;
  off: number;
  sb: number;
  sh: number;
  sn: number;
  aug: boolean;
}

/** Which way a product streams: queries reading keys, or keys reading the queries that see them. */
export type Direction = 'queries' | 'keys';

export interface LinearEngine<S> {
  /** φ of every row: contiguous [B, heads, rows, width]. */
  features(x: Mat<S>, map: number): Mat<S>;
  /** dx = J_φ(x)ᵀ g for every row (g contiguous, x's shape). */
  featureGrad(x: Mat<S>, g: Mat<S>, map: number): Mat<S>;
  /**
   * P(x, y, w)_i = Σ_t (x_i · y_t) w_t, contiguous [B, x.heads, x.rows, w.width (+1)]. 'queries': x has
   * H heads, y and w Hkv, and query i reads stream rows t <= i + shift (all when not causal).
   * 'keys': x has Hkv heads, y and w H, and key j sums over the query rows t >= j - shift of its
   * group's heads.
   */
  product(r: ResolvedLinear, dir: Direction, x: Mat<S>, y: Mat<S>, w: Mat<S>): Mat<S>;
  /** out = num[:, :Dv] / (num[:, Dv] + eps) */
  normalize(r: ResolvedLinear, num: Mat<S>): Mat<S>;
  /** ĝ = [g / den, -(g · num[:, :Dv]) / den²] with den = num[:, Dv] + eps */
  gradPrep(r: ResolvedLinear, num: Mat<S>, g: Mat<S>): Mat<S>;
  release(m: Mat<S>): void;
}

export function contiguousMat<S>(data: S, heads: number, rows: number, width: number): Mat<S> {
  return {
    data,
    heads,
    rows,
    width,
    off: 0,
    sb: heads * rows * width,
    sh: rows * width,
    sn: width,
    aug: false,
  };
}

/** The numerator of every query beside its normalizer: [B, H, Nq, Dv + 1]. */
function forward<S>(E: LinearEngine<S>, r: ResolvedLinear, q: Mat<S>, k: Mat<S>, v: Mat<S>) {
  const fq = E.features(q, r.map); // φ(q) [B, H, Nq, D]
  const fk = E.features(k, r.map); // φ(k) [B, Hkv, Nk, D]
  const num = E.product(r, 'queries', fq, fk, { ...v, aug: true }); // [B, H, Nq, Dv + 1]
  return { fq, fk, num };
}

export function linearForward<S>(
  E: LinearEngine<S>,
  r: ResolvedLinear,
  q: Mat<S>,
  k: Mat<S>,
  v: Mat<S>,
): Mat<S> {
  const { fq, fk, num } = forward(E, r, q, k, v);
  const out = E.normalize(r, num); // [B, H, Nq, Dv]
  for (const m of [fq, fk, num]) E.release(m);
  return out;
}

export function linearBackward<S>(
  E: LinearEngine<S>,
  r: ResolvedLinear,
  q: Mat<S>,
  k: Mat<S>,
  v: Mat<S>,
  g: Mat<S>,
) {
  const { fq, fk, num } = forward(E, r, q, k, v);
  const vAug = { ...v, aug: true };
  const gHat = E.gradPrep(r, num, g); // [B, H, Nq, Dv + 1]
  const gHatV = { ...gHat, width: r.Dv }; // ĝ[:, :Dv], the numerator's part
  const dfq = E.product(r, 'queries', gHat, vAug, fk); // [B, H, Nq, D]
  const dfk = E.product(r, 'keys', vAug, gHat, fq); // [B, Hkv, Nk, D]
  const dv = E.product(r, 'keys', fk, fq, gHatV); // [B, Hkv, Nk, Dv]
  const dq = E.featureGrad(q, dfq, r.map);
  const dk = E.featureGrad(k, dfk, r.map);
  for (const m of [fq, fk, num, gHat, dfq, dfk]) E.release(m);
  return { dq, dk, dv };
}

/** Stream parameters shared by both engines: state heads S = Hkv, xd x-heads per state, yc y-heads per state. */
export function streamOf(r: ResolvedLinear, dir: Direction) {
  const group = r.H / r.Hkv;
  return {
    xd: dir === 'queries' ? group : 1,
    yc: dir === 'queries' ? 1 : group,
    /** 0 = every stream row, 1 = t <= i + shift, 2 = t >= i - shift */
    mode: r.causal ? (dir === 'queries' ? 1 : 2) : 0,
  };
}

/** What a backend gives the derivation: its engine, its inputs as matrices, and results as tensors. */
export interface LinearBackend<S> {
  engine(B: number, device: Device): LinearEngine<S>;
  /** [B, heads, rows, width] tensors as matrices; `release` frees any copies made for them. */
  bind(inputs: readonly Tensor[]): { mats: Mat<S>[]; release(): void };
  tensor(m: Mat<S>, r: ResolvedLinear, device: Device): Tensor;
}

type Sig = KernelSignatures;

/** A backend's LinearAttention and LinearAttentionGrad kernels: the derivation above on its engine. */
export function linearKernels<S>(backend: LinearBackend<S>) {
  const run = <T>(
    r: ResolvedLinear,
    inputs: Tensor[],
    device: Device,
    body: (E: LinearEngine<S>, m: Mat<S>[]) => T,
  ) => {
    const { mats, release } = backend.bind(inputs);
    try {
      return body(backend.engine(r.B, device), mats);
    } finally {
      release();
    }
  };
  return {
    forward: ({ r, q, k, v }: Sig['LinearAttention']['args'], device: Device): Tensor =>
      run(r, [q, k, v], device, (E, [mq, mk, mv]) =>
        backend.tensor(linearForward(E, r, mq!, mk!, mv!), r, device),
      ),
    backward: ({ r, q, k, v, dout }: Sig['LinearAttentionGrad']['args'], device: Device): LinearGrads =>
      run(r, [q, k, v, dout], device, (E, [mq, mk, mv, mg]) => {
        const g = linearBackward(E, r, mq!, mk!, mv!, mg!);
        return {
          dq: backend.tensor(g.dq, r, device),
          dk: backend.tensor(g.dk, r, device),
          dv: backend.tensor(g.dv, r, device),
        };
      }),
  };
}
