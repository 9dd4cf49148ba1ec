/**
 * Linear attention (Katharopoulos et al. 2020, "Transformers are RNNs"), layout [B, H, N, D] like
 * `attention` (GQA: head h reads k/v head h / (H / Hkv); Dv may differ from D; D, Dv <= 256):
 *
 *   out_i = φ(q_i)ᵀ S_i / (φ(q_i)ᵀ z_i + eps),   S_i = Σ_{j ∈ V(i)} φ(k_j) v_jᵀ,   z_i = Σ_{j ∈ V(i)} φ(k_j)
 *
 * V(i) is every key, or with `causal` the keys j <= i (top-left, PyTorch is_causal) or j <= i + Nk - Nq
 * (bottom-right). Memory is never Nq x Nk: non-causal reduces S and z once per (b, kv head), then applies
 * them; causal runs the prefix sums as a scan over N that keeps one column of the D x (Dv + 1) state
 * per invocation (the paper's RNN view).
 *
 * Everything, forward and backward, is one product with two stream orders (see `Engine.product`):
 *   P(x, y, w)_i = Σ_{t visible from i} (x_i · y_t) w_t
 * The forward is P(φq, φk, [v, 1]): the ones column gives the normalizer φ(q_i)ᵀ z_i beside the
 * numerator. With ĝ_i = [g_i / den_i, -(g_i · out_i) / den_i] (the gradient of that augmented
 * numerator, den_i = φ(q_i)ᵀ z_i + eps):
 *   dφq = P(ĝ, [v, 1], φk)          queries read keys j <= i
 *   dφk = P([v, 1], ĝ, φq)          keys read the queries that see them (reverse scan), GQA heads summed
 *   dv  = P(φk, φq, ĝ[:, :Dv])      likewise
 * and dq, dk go through the feature map's Jacobian. The CPU and WebGPU engines implement the same four
 * primitives, so the derivation lives once, below, in `forward` and `backward`.
 *
 * Feature maps:
 * - 'elu+1': φ(x) = elu(x) + 1 (the paper's choice), positive, so the normalizer is > 0.
 * - 'cosine': φ(x) = x / max(||x||, 1e-12), the row L2-normalized as PyTorch `F.normalize` (eps 1e-12:
 *   a zero row maps to zeros, its gradient stays finite). φ(q)·φ(k) is then the cosine similarity,
 *   which is bounded (so the state never blows up with N) but may be negative: the normalizer
 *   Σ_j cos(q_i, k_j) can be near zero or below it. We keep the paper's formula with `eps` added as
 *   given rather than clamping (a clamp would change the function and its gradient silently), so with
 *   'cosine' choose inputs or `eps` so that φ(q_i)ᵀ z_i + eps stays away from 0; a query with no
 *   visible key, or a zero query row, gets out = 0 / eps = 0.
 */
import type { Field } from '../../backend/uniforms.js';
import type { KernelSpec } from '../../backend/webgpu.js';
import { gatherStrided } from '../../device.js';
import { fail } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { copy } from '../elementwise.js';
import { type CausalAlignment, resolveAttention } from './options.js';

export type LinearFeatureMap = 'elu+1' | 'cosine';

export interface LinearAttentionOptions {
  /** φ applied to each row of q and k: 'elu+1' (Katharopoulos et al.) or 'cosine' (L2-normalized rows). */
  featureMap: LinearFeatureMap;
  /**
   * `true` or 'top-left' (PyTorch `is_causal`): key j visible from query i iff j <= i.
   * 'bottom-right' (FlashAttention, KV-cache decode): iff j <= i + Nk - Nq. Default: every key.
   */
  causal?: boolean | CausalAlignment;
  /** Added to the normalizer φ(q_i)ᵀ z_i; default 1e-6 (the paper's code). Must be finite and >= 0. */
  eps?: number;
}

export interface LinearAttentionGrads {
  /** [B, H, Nq, D] */
  dq: Tensor;
  /** [B, Hkv, Nk, D], summed over the query heads of each kv head */
  dk: Tensor;
  /** [B, Hkv, Nk, Dv] */
  dv: Tensor;
}

const FEATURE_MAPS: readonly LinearFeatureMap[] = ['elu+1', 'cosine'];
/** PyTorch F.normalize's default eps: the smallest norm a 'cosine' row is divided by. */
const NORM_FLOOR = 1e-12;
/** Largest inner dim of a product: a head dim, or Dv + 1 with the normalizer column. */
const MAX_INNER = 257;

interface ResolvedLinear {
  B: number;
  H: number;
  Hkv: number;
  Nq: number;
  Nk: number;
  D: number;
  Dv: number;
  /** 0 = elu+1, 1 = cosine (the kernels' `map` uniform) */
  map: number;
  causal: boolean;
  /** key j visible from query i iff j <= i + shift (when causal) */
  shift: number;
  eps: number;
}

function resolveLinear(
  op: string,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: LinearAttentionOptions,
): ResolvedLinear {
  const o = (opts ?? {}) as Partial<LinearAttentionOptions>;
  const causal = o.causal ?? false;
  // shapes, dtypes, devices, GQA and the causal alignment follow `attention` exactly
  const r = resolveAttention(op, q, k, v, { causal });
  const map = FEATURE_MAPS.indexOf(o.featureMap as LinearFeatureMap);
  if (map < 0) {
    fail(
      'INVALID_ARGUMENT',
      `${op}: featureMap must be 'elu+1' or 'cosine', got ${JSON.stringify(o.featureMap)}`,
    );
  }
  const eps = o.eps ?? 1e-6;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) {
    fail('INVALID_ARGUMENT', `${op}: eps must be a finite number >= 0, got ${o.eps}`);
  }
  return {
    B: r.B,
    H: r.H,
    Hkv: r.Hkv,
    Nq: r.Nq,
    Nk: r.Nk,
    D: r.D,
    Dv: r.Dv,
    map,
    causal: r.causal !== 'none',
    shift: r.shift,
    eps,
  };
}

// ---- the algorithm, once for both backends ------------------------------------------------------

/**
 * An operand [B, heads, rows, width] in some storage: element (b, h, n, c) at off + b·sb + h·sh + n·sn + c.
 * `aug` appends a column of ones (width + 1 columns).
 */
interface Mat<S> {
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
type Direction = 'queries' | 'keys';

interface Engine<S> {
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

function contiguousMat<S>(data: S, heads: number, rows: number, width: number): Mat<S> {
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
function forward<S>(E: Engine<S>, r: ResolvedLinear, q: Mat<S>, k: Mat<S>, v: Mat<S>) {
  const fq = E.features(q, r.map); // φ(q) [B, H, Nq, D]
  const fk = E.features(k, r.map); // φ(k) [B, Hkv, Nk, D]
  const num = E.product(r, 'queries', fq, fk, { ...v, aug: true }); // [B, H, Nq, Dv + 1]
  return { fq, fk, num };
}

function linearForward<S>(E: Engine<S>, r: ResolvedLinear, q: Mat<S>, k: Mat<S>, v: Mat<S>): Mat<S> {
  const { fq, fk, num } = forward(E, r, q, k, v);
  const out = E.normalize(r, num); // [B, H, Nq, Dv]
  for (const m of [fq, fk, num]) E.release(m);
  return out;
}

function linearBackward<S>(E: Engine<S>, r: ResolvedLinear, q: Mat<S>, k: Mat<S>, v: Mat<S>, g: Mat<S>) {
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
function streamOf(r: ResolvedLinear, dir: Direction) {
  const group = r.H / r.Hkv;
  return {
    xd: dir === 'queries' ? group : 1,
    yc: dir === 'queries' ? 1 : group,
    /** 0 = every stream row, 1 = t <= i + shift, 2 = t >= i - shift */
    mode: r.causal ? (dir === 'queries' ? 1 : 2) : 0,
  };
}

// ---- CPU engine (the reference; float64 inside) ---------------------------------------------------

type Host = Float64Array | Float32Array;

const at = (m: Mat<Host>, b: number, h: number, n: number, c: number) =>
  c >= m.width ? 1 : m.data[m.off + b * m.sb + h * m.sh + n * m.sn + c]!;

function cpuEngine(B: number): Engine<Host> {
  return {
    features(x, map) {
      const out = new Float64Array(B * x.heads * x.rows * x.width);
      const D = x.width;
      for (let b = 0, o = 0; b < B; b++)
        for (let h = 0; h < x.heads; h++)
          for (let n = 0; n < x.rows; n++, o += D) {
            if (map === 0) {
              for (let d = 0; d < D; d++) {
                const xv = at(x, b, h, n, d);
                out[o + d] = xv > 0 ? xv + 1 : Math.exp(xv); // elu(x) + 1
              }
              continue;
            }
            let ss = 0;
            for (let d = 0; d < D; d++) ss += at(x, b, h, n, d) ** 2;
            const inv = 1 / Math.max(Math.sqrt(ss), NORM_FLOOR);
            for (let d = 0; d < D; d++) out[o + d] = at(x, b, h, n, d) * inv;
          }
      return contiguousMat(out, x.heads, x.rows, D);
    },
    featureGrad(x, g, map) {
      const D = x.width;
      const out = new Float64Array(B * x.heads * x.rows * D);
      for (let b = 0, o = 0; b < B; b++)
        for (let h = 0; h < x.heads; h++)
          for (let n = 0; n < x.rows; n++, o += D) {
            if (map === 0) {
              for (let d = 0; d < D; d++) {
                const xv = at(x, b, h, n, d);
                out[o + d] = g.data[o + d]! * (xv > 0 ? 1 : Math.exp(xv));
              }
              continue;
            }
            // φ = x / n: dx = (g - φ (φ · g)) / n, or g / floor where the floor holds
            let ss = 0;
            for (let d = 0; d < D; d++) ss += at(x, b, h, n, d) ** 2;
            const norm = Math.sqrt(ss);
            if (norm <= NORM_FLOOR) {
              for (let d = 0; d < D; d++) out[o + d] = g.data[o + d]! / NORM_FLOOR;
              continue;
            }
            let dot = 0;
            for (let d = 0; d < D; d++) dot += (at(x, b, h, n, d) / norm) * g.data[o + d]!;
            for (let d = 0; d < D; d++)
              out[o + d] = (g.data[o + d]! - (at(x, b, h, n, d) / norm) * dot) / norm;
          }
      return contiguousMat(out, x.heads, x.rows, D);
    },
    product(r, dir, x, y, w) {
      const { xd, yc, mode } = streamOf(r, dir);
      const Dk = x.width + (x.aug ? 1 : 0);
      const We = w.width + (w.aug ? 1 : 0);
      const Nx = x.rows;
      const Ny = y.rows;
      const out = new Float64Array(B * x.heads * Nx * We);
      const state = new Float64Array(Dk * We); // the D x (Dv + 1) state of one (b, head)
      const add = (b: number, st: number, t: number) => {
        for (let g = 0; g < yc; g++) {
          const yh = st * yc + g;
          for (let d = 0; d < Dk; d++) {
            const yd = at(y, b, yh, t, d);
            for (let e = 0; e < We; e++) state[d * We + e]! += yd * at(w, b, yh, t, e);
          }
        }
      };
      const emit = (b: number, hx: number, i: number) => {
        const o = ((b * x.heads + hx) * Nx + i) * We;
        for (let d = 0; d < Dk; d++) {
          const xv = at(x, b, hx, i, d);
          for (let e = 0; e < We; e++) out[o + e]! += xv * state[d * We + e]!;
        }
      };
      for (let b = 0; b < B; b++) {
        if (mode === 0) {
          // non-causal: one state per (b, kv head), shared by its x heads
          for (let st = 0; st < r.Hkv; st++) {
            state.fill(0);
            for (let t = 0; t < Ny; t++) add(b, st, t);
            for (let hx = st * xd; hx < (st + 1) * xd; hx++) for (let i = 0; i < Nx; i++) emit(b, hx, i);
          }
          continue;
        }
        for (let hx = 0; hx < x.heads; hx++) {
          const st = Math.floor(hx / xd);
          state.fill(0);
          if (mode === 1) {
            let t = 0;
            for (let i = 0; i < Nx; i++) {
              for (; t < Ny && t <= i + r.shift; t++) add(b, st, t);
              emit(b, hx, i);
            }
          } else {
            let t = Ny - 1;
            for (let i = Nx - 1; i >= 0; i--) {
              for (; t >= 0 && t >= i - r.shift; t--) add(b, st, t);
              emit(b, hx, i);
            }
          }
        }
      }
      return contiguousMat(out, x.heads, Nx, We);
    },
    normalize(r, num) {
      const { Dv } = r;
      const rows = B * num.heads * num.rows;
      const out = new Float64Array(rows * Dv);
      for (let n = 0; n < rows; n++) {
        const den = num.data[n * (Dv + 1) + Dv]! + r.eps;
        for (let e = 0; e < Dv; e++) out[n * Dv + e] = num.data[n * (Dv + 1) + e]! / den;
      }
      return contiguousMat(out, num.heads, num.rows, Dv);
    },
    gradPrep(r, num, g) {
      const { Dv } = r;
      const out = new Float64Array(B * num.heads * num.rows * (Dv + 1));
      for (let b = 0, n = 0; b < B; b++)
        for (let h = 0; h < num.heads; h++)
          for (let i = 0; i < num.rows; i++, n++) {
            const o = n * (Dv + 1);
            const den = num.data[o + Dv]! + r.eps;
            let dot = 0;
            for (let e = 0; e < Dv; e++) {
              const ge = at(g, b, h, i, e);
              dot += ge * num.data[o + e]!;
              out[o + e] = ge / den;
            }
            out[o + Dv] = -dot / (den * den);
          }
      return contiguousMat(out, num.heads, num.rows, Dv + 1);
    },
    release() {},
  };
}

// ---- WebGPU engine ------------------------------------------------------------------------------

const SIDE_FIELDS = (p: string): Field[] => [
  [`${p}_off`, 'u32'],
  [`${p}_sb`, 'u32'],
  [`${p}_sh`, 'u32'],
  [`${p}_sn`, 'u32'],
  [`${p}_w`, 'u32'],
];

/** Uniforms of the three product kernels (see `Engine.product`). */
const PRODUCT_FIELDS: Field[] = [
  ['B', 'u32'],
  ['Hx', 'u32'],
  ['Nx', 'u32'],
  ['Ny', 'u32'],
  ['S', 'u32'],
  ['xd', 'u32'],
  ['yc', 'u32'],
  ['Dk', 'u32'],
  ['We', 'u32'],
  ['mode', 'u32'],
  ['shift', 'i32'],
  ...SIDE_FIELDS('x'),
  ...SIDE_FIELDS('y'),
  ...SIDE_FIELDS('w'),
];

/** `<p>At(base, c)`: column c of a row, 1 in the appended ones column (c >= width). */
const sideAt = (p: string) =>
  `fn ${p}At(base: u32, c: u32) -> f32 { if (c >= u.${p}_w) { return 1.0; } return ${p}_ld(base + c); }`;
const sideBase = (p: string, b: string, h: string, n: string) =>
  `u.${p}_off + ${b} * u.${p}_sb + ${h} * u.${p}_sh + ${n} * u.${p}_sn`;

const MAIN = `@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = workgroupIndex(wg, nwg) * WG + li;`;

/**
 * Causal product as a scan (the RNN view): one invocation per (b, x head, output column e) keeps
 * column e of the state, Σ_t y_t w_t[e], and streams the rows in order ('queries') or in reverse
 * ('keys'), emitting x_i · state after adding the stream rows row i sees.
 */
export function linearScanSpec(): KernelSpec {
  return {
    key: 'linattn-scan',
    uniforms: PRODUCT_FIELDS,
    operands: [
      { name: 'x', dtype: 'f32' },
      { name: 'y', dtype: 'f32' },
      { name: 'w', dtype: 'f32' },
      { name: 'out', dtype: 'f32', write: true },
    ],
    workgroupSize: 64,
    body: `${['x', 'y', 'w'].map(sideAt).join('\n')}
${MAIN}
  if (n >= u.B * u.Hx * u.We) { return; }
  let e = n % u.We;
  let bh = n / u.We;
  let b = bh / u.Hx;
  let hx = bh % u.Hx;
  let st = hx / u.xd;
  var s: array<f32, ${MAX_INNER}>;
  for (var d = 0u; d < u.Dk; d++) { s[d] = 0.0; }
  let reverse = u.mode == 2u;
  var t = select(0, i32(u.Ny) - 1, reverse);
  for (var step = 0u; step < u.Nx; step++) {
    let i = select(step, u.Nx - 1u - step, reverse);
    loop {
      let visible = select(t < i32(u.Ny) && t <= i32(i) + u.shift, t >= 0 && t >= i32(i) - u.shift, reverse);
      if (!visible) { break; }
      for (var g = 0u; g < u.yc; g++) {
        let yh = st * u.yc + g;
        let yb = ${sideBase('y', 'b', 'yh', 'u32(t)')};
        let wv = wAt(${sideBase('w', 'b', 'yh', 'u32(t)')}, e);
        for (var d = 0u; d < u.Dk; d++) { s[d] = fma(yAt(yb, d), wv, s[d]); }
      }
      t += select(1, -1, reverse);
    }
    let xb = ${sideBase('x', 'b', 'hx', 'i')};
    var acc = 0.0;
    for (var d = 0u; d < u.Dk; d++) { acc = fma(xAt(xb, d), s[d], acc); }
    out_st((bh * u.Nx + i) * u.We + e, acc);
  }
}`,
  };
}

/** Non-causal product, step 1: the state T[b, kv head] = Σ_g Σ_t y_t w_tᵀ, [B, S, Dk, We], one entry per invocation. */
export function linearReduceSpec(): KernelSpec {
  return {
    key: 'linattn-reduce',
    uniforms: PRODUCT_FIELDS,
    operands: [
      { name: 'y', dtype: 'f32' },
      { name: 'w', dtype: 'f32' },
      { name: 'state', dtype: 'f32', write: true },
    ],
    workgroupSize: 64,
    body: `${['y', 'w'].map(sideAt).join('\n')}
${MAIN}
  if (n >= u.B * u.S * u.Dk * u.We) { return; }
  let e = n % u.We;
  let d = (n / u.We) % u.Dk;
  let bs = n / (u.We * u.Dk);
  let b = bs / u.S;
  let st = bs % u.S;
  var acc = 0.0;
  for (var g = 0u; g < u.yc; g++) {
    let yh = st * u.yc + g;
    for (var t = 0u; t < u.Ny; t++) {
      acc = fma(yAt(${sideBase('y', 'b', 'yh', 't')}, d), wAt(${sideBase('w', 'b', 'yh', 't')}, e), acc);
    }
  }
  state_st(n, acc);
}`,
  };
}

/** Non-causal product, step 2: out[b, hx, i, e] = Σ_d x_i[d] T[b, hx / xd][d, e]. */
export function linearApplySpec(): KernelSpec {
  return {
    key: 'linattn-apply',
    uniforms: PRODUCT_FIELDS,
    operands: [
      { name: 'x', dtype: 'f32' },
      { name: 'state', dtype: 'f32' },
      { name: 'out', dtype: 'f32', write: true },
    ],
    workgroupSize: 64,
    body: `${sideAt('x')}
${MAIN}
  if (n >= u.B * u.Hx * u.Nx * u.We) { return; }
  let e = n % u.We;
  let i = (n / u.We) % u.Nx;
  let bh = n / (u.We * u.Nx);
  let b = bh / u.Hx;
  let hx = bh % u.Hx;
  let tb = (b * u.S + hx / u.xd) * u.Dk * u.We + e;
  let xb = ${sideBase('x', 'b', 'hx', 'i')};
  var acc = 0.0;
  for (var d = 0u; d < u.Dk; d++) { acc = fma(xAt(xb, d), state_ld(tb + d * u.We), acc); }
  out_st(n, acc);
}`,
  };
}

const ROW_FIELDS: Field[] = [
  ['rows', 'u32'],
  ['Hh', 'u32'],
  ['Nr', 'u32'],
  ['W', 'u32'],
  ['map', 'u32'],
  ['grad', 'u32'],
  ['eps', 'f32'],
  ...SIDE_FIELDS('x'),
  ...SIDE_FIELDS('g'),
];

/** `b, h, i` of row n and the bases of x and g there. */
const ROW_PRELUDE = `${MAIN}
  if (n >= u.rows) { return; }
  let b = n / (u.Hh * u.Nr);
  let h = (n / u.Nr) % u.Hh;
  let i = n % u.Nr;
  let xb = ${sideBase('x', 'b', 'h', 'i')};
  let gb = ${sideBase('g', 'b', 'h', 'i')};`;

/**
 * The feature map φ over rows of W columns (grad = 0), or its vector-Jacobian product dx = J_φ(x)ᵀ g
 * (grad = 1); map 0 = elu+1, 1 = cosine. One invocation per row.
 */
export function linearFeatureSpec(): KernelSpec {
  return {
    key: 'linattn-feature',
    uniforms: ROW_FIELDS,
    operands: [
      { name: 'x', dtype: 'f32' },
      { name: 'g', dtype: 'f32' },
      { name: 'out', dtype: 'f32', write: true },
    ],
    workgroupSize: 64,
    body: `${ROW_PRELUDE}
  let ob = n * u.W;
  if (u.map == 0u) {
    for (var d = 0u; d < u.W; d++) {
      let xv = x_ld(xb + d);
      // elu(x) + 1 and its derivative; select keeps exp(large x) out of the result
      if (u.grad == 0u) { out_st(ob + d, select(exp(xv), xv + 1.0, xv > 0.0)); }
      else { out_st(ob + d, g_ld(gb + d) * select(exp(xv), 1.0, xv > 0.0)); }
    }
    return;
  }
  var ss = 0.0;
  for (var d = 0u; d < u.W; d++) { let xv = x_ld(xb + d); ss = fma(xv, xv, ss); }
  let norm = sqrt(ss);
  let inv = 1.0 / max(norm, ${NORM_FLOOR});
  if (u.grad == 0u) {
    for (var d = 0u; d < u.W; d++) { out_st(ob + d, x_ld(xb + d) * inv); }
    return;
  }
  // φ = x / norm: dx = (g - φ (φ · g)) / norm; below the floor φ = x / floor is linear
  var dot = 0.0;
  for (var d = 0u; d < u.W; d++) { dot = fma(x_ld(xb + d) * inv, g_ld(gb + d), dot); }
  let keep = select(1.0, 0.0, norm <= ${NORM_FLOOR});
  for (var d = 0u; d < u.W; d++) {
    out_st(ob + d, (g_ld(gb + d) - keep * x_ld(xb + d) * inv * dot) * inv);
  }
}`,
  };
}

/**
 * Rows of the augmented numerator x = [num, φ(q)ᵀz] (W = Dv): grad = 0 writes out = num / (φ(q)ᵀz + eps);
 * grad = 1 writes ĝ = [g / den, -(g · num) / den²] from the output gradient g.
 */
export function linearRowsSpec(): KernelSpec {
  return {
    key: 'linattn-rows',
    uniforms: ROW_FIELDS,
    operands: [
      { name: 'x', dtype: 'f32' },
      { name: 'g', dtype: 'f32' },
      { name: 'out', dtype: 'f32', write: true },
    ],
    workgroupSize: 64,
    body: `${ROW_PRELUDE}
  let den = x_ld(xb + u.W) + u.eps;
  if (u.grad == 0u) {
    for (var e = 0u; e < u.W; e++) { out_st(n * u.W + e, x_ld(xb + e) / den); }
    return;
  }
  let ob = n * (u.W + 1u);
  var dot = 0.0;
  for (var e = 0u; e < u.W; e++) {
    let ge = g_ld(gb + e);
    dot = fma(ge, x_ld(xb + e), dot);
    out_st(ob + e, ge / den);
  }
  out_st(ob + u.W, -dot / (den * den));
}`,
  };
}

const sideValues = (p: string, m: Mat<Tensor>) => ({
  [`${p}_off`]: m.off,
  [`${p}_sb`]: m.sb,
  [`${p}_sh`]: m.sh,
  [`${p}_sn`]: m.sn,
  [`${p}_w`]: m.width,
});

function gpuEngine(B: number, device: Tensor['device']): Engine<Tensor> {
  const gpu = device.gpu!;
  const groups = (n: number) => Math.ceil(n / 64);
  const fresh = (heads: number, rows: number, width: number) =>
    contiguousMat(device.empty([B, heads, rows, width], 'f32'), heads, rows, width);
  const rowPass = (spec: KernelSpec, x: Mat<Tensor>, g: Mat<Tensor>, out: Mat<Tensor>, extra: object) => {
    const rows = B * x.heads * x.rows;
    const values = { rows, Hh: x.heads, Nr: x.rows, ...sideValues('x', x), ...sideValues('g', g), ...extra };
    gpu.run(
      spec,
      [x.data, g.data, out.data].map((t) => t.storage.buffer!),
      values,
      groups(rows),
    );
    return out;
  };
  return {
    features(x, map) {
      const out = fresh(x.heads, x.rows, x.width);
      return rowPass(linearFeatureSpec(), x, x, out, { W: x.width, map, grad: 0, eps: 0 });
    },
    featureGrad(x, g, map) {
      const out = fresh(x.heads, x.rows, x.width);
      return rowPass(linearFeatureSpec(), x, g, out, { W: x.width, map, grad: 1, eps: 0 });
    },
    product(r, dir, x, y, w) {
      const { xd, yc, mode } = streamOf(r, dir);
      const Dk = x.width + (x.aug ? 1 : 0);
      const We = w.width + (w.aug ? 1 : 0);
      const out = fresh(x.heads, x.rows, We);
      const values = {
        B,
        Hx: x.heads,
        Nx: x.rows,
        Ny: y.rows,
        S: r.Hkv,
        xd,
        yc,
        Dk,
        We,
        mode,
        shift: r.shift,
        ...sideValues('x', x),
        ...sideValues('y', y),
        ...sideValues('w', w),
      };
      const buf = (t: Tensor) => t.storage.buffer!;
      if (mode !== 0) {
        gpu.run(
          linearScanSpec(),
          [x.data, y.data, w.data, out.data].map(buf),
          values,
          groups(B * x.heads * We),
        );
        return out;
      }
      const state = device.empty([B, r.Hkv, Dk, We], 'f32');
      try {
        gpu.run(linearReduceSpec(), [y.data, w.data, state].map(buf), values, groups(B * r.Hkv * Dk * We));
        gpu.run(
          linearApplySpec(),
          [x.data, state, out.data].map(buf),
          values,
          groups(B * x.heads * x.rows * We),
        );
      } finally {
        state.dispose(); // the queue keeps the buffer until the apply has run
      }
      return out;
    },
    normalize(r, num) {
      const out = fresh(num.heads, num.rows, r.Dv);
      return rowPass(linearRowsSpec(), num, num, out, { W: r.Dv, map: 0, grad: 0, eps: r.eps });
    },
    gradPrep(r, num, g) {
      const out = fresh(num.heads, num.rows, r.Dv + 1);
      return rowPass(linearRowsSpec(), num, g, out, { W: r.Dv, map: 0, grad: 1, eps: r.eps });
    },
    release(m) {
      m.data.dispose();
    },
  };
}

// ---- public API ---------------------------------------------------------------------------------

/** Runs `body` on the engine of the tensors' backend; inputs are viewed in place where possible. */
function withEngine<T>(
  r: ResolvedLinear,
  inputs: readonly Tensor[],
  body: <S>(E: Engine<S>, mats: Mat<S>[], wrap: (m: Mat<S>) => Tensor) => T,
): T {
  const device = inputs[0]!.device;
  if (!device.gpu) {
    const mats = inputs.map((t) => {
      const host = gatherStrided(t.storage.array!, t.dtype, t.shape, t.strides, t.offset) as Float32Array;
      const [, heads, rows, width] = t.shape as [number, number, number, number];
      return contiguousMat<Host>(host, heads, rows, width);
    });
    const wrap = (m: Mat<Host>) => device.tensor(Float32Array.from(m.data), [r.B, m.heads, m.rows, m.width]);
    return body(cpuEngine(r.B), mats, wrap);
  }
  // kernels read any strides with a contiguous last dim; other views are copied first
  const made: Tensor[] = [];
  const mats = inputs.map((t) => {
    const own = t.strides[3] === 1 || t.shape[3] === 1 ? t : copy(t);
    if (own !== t) made.push(own);
    const [, heads, rows, width] = own.shape as [number, number, number, number];
    const [sb, sh, sn] = own.strides as [number, number, number];
    return { data: own, heads, rows, width, off: own.offset, sb, sh, sn, aug: false };
  });
  try {
    return body(gpuEngine(r.B, device), mats, (m) => m.data);
  } finally {
    for (const t of made) t.dispose();
  }
}

/**
 * Linear attention (Katharopoulos et al. 2020): q [B, H, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv]
 * -> [B, H, Nq, Dv]. Cost O(N·D·Dv), memory O(N·(D + Dv) + D·Dv); see the file comment for the
 * formula, the feature maps and eps.
 */
export function linearAttention(q: Tensor, k: Tensor, v: Tensor, opts: LinearAttentionOptions): Tensor {
  const r = resolveLinear('linearAttention', q, k, v, opts);
  return withEngine(r, [q, k, v], (E, [mq, mk, mv], wrap) => wrap(linearForward(E, r, mq!, mk!, mv!)));
}

/**
 * Gradients of sum(linearAttention(q, k, v, opts) ∘ dout) with respect to q, k and v. Recomputes the
 * forward (features and numerators, O(N·(D + Dv)) memory) and runs three more products; see the file
 * comment for the derivation.
 */
export function linearAttentionBackward(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  dout: Tensor,
  opts: LinearAttentionOptions,
): LinearAttentionGrads {
  const op = 'linearAttentionBackward';
  const r = resolveLinear(op, q, k, v, opts);
  if (dout.device !== q.device) fail('DEVICE_MISMATCH', `${op}: dout is on another device than q`);
  const want = [r.B, r.H, r.Nq, r.Dv];
  if (dout.dtype !== 'f32') fail('DTYPE_MISMATCH', `${op}: dout has dtype ${dout.dtype}; expected f32`);
  if (dout.rank !== 4 || dout.shape.some((d, i) => d !== want[i])) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: dout has shape [${dout.shape.join(', ')}]; expected [B, H, Nq, Dv] = [${want.join(', ')}]`,
    );
  }
  return withEngine(r, [q, k, v, dout], (E, [mq, mk, mv, mg], wrap) => {
    const g = linearBackward(E, r, mq!, mk!, mv!, mg!);
    return { dq: wrap(g.dq), dk: wrap(g.dk), dv: wrap(g.dv) };
  });
}
