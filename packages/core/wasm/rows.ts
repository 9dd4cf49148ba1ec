/**
 * AssemblyScript: row-wise and element-wise kernels (softmax, layer/RMS norm and their backward,
 * cross-entropy and its backward, GELU, AdamW). Memory-bound next to matmul and attention, but each
 * replaces a JavaScript loop that calls Math.exp / Math.tanh per element: here 4 lanes at a time with
 * the polynomial exp2v of simd.ts. Rows are contiguous (the JavaScript side falls back to the reference
 * for strided layouts); a task is a run of `per` rows or elements.
 */
import { exp2v, expv, hmax, hsum, madd, tanhv } from './simd';

const LOG2E: f32 = <f32>Math.LOG2E;

/** Max of a row (4 lanes, scalar tail). */
function rowMax(x: usize, n: i32): f32 {
  let mv = f32x4.splat(-Infinity);
  let c = 0;
  for (; c + 4 <= n; c += 4) mv = f32x4.pmax(mv, v128.load(x + ((<usize>c) << 2)));
  let m = hmax(mv);
  for (; c < n; c++) m = max(m, load<f32>(x + ((<usize>c) << 2)));
  return m;
}

/** Sum of 2^((x - m)·log2 e) over a row: e^(x - m). */
function rowSumExp(x: usize, n: i32, m: f32): f32 {
  const mv = f32x4.splat(m * LOG2E);
  const l2e = f32x4.splat(LOG2E);
  let sv = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= n; c += 4)
    sv = f32x4.add(sv, exp2v(f32x4.sub(f32x4.mul(v128.load(x + ((<usize>c) << 2)), l2e), mv)));
  let s = hsum(sv);
  for (; c < n; c++) s += f32x4.extract_lane(expv(f32x4.splat(load<f32>(x + ((<usize>c) << 2)) - m)), 0);
  return s;
}

/** softmax (log = 0) or logSoftmax (log = 1) of rows [task·per, +per) of x [rows][n] into out. */
export function softmaxRows(
  task: i32,
  _scratch: usize,
  x: usize,
  out: usize,
  rows: i32,
  n: i32,
  log: i32,
  per: i32,
): void {
  const end = min(rows, task * per + per);
  for (let r = task * per; r < end; r++) {
    const xr = x + ((<usize>(r * n)) << 2);
    const orow = out + ((<usize>(r * n)) << 2);
    const m = rowMax(xr, n);
    const s = rowSumExp(xr, n, m);
    if (log) {
      // x - logsumexp(x), as the reference (exact for large logits)
      const ls = f32x4.splat(m + Mathf.log(s));
      let c = 0;
      for (; c + 4 <= n; c += 4)
        v128.store(orow + ((<usize>c) << 2), f32x4.sub(v128.load(xr + ((<usize>c) << 2)), ls));
      for (; c < n; c++)
        store<f32>(orow + ((<usize>c) << 2), load<f32>(xr + ((<usize>c) << 2)) - f32x4.extract_lane(ls, 0));
    } else {
      const inv = f32x4.splat(1 / s);
      const mv = f32x4.splat(m * LOG2E);
      const l2e = f32x4.splat(LOG2E);
      let c = 0;
      for (; c + 4 <= n; c += 4) {
        const e = exp2v(f32x4.sub(f32x4.mul(v128.load(xr + ((<usize>c) << 2)), l2e), mv));
        v128.store(orow + ((<usize>c) << 2), f32x4.mul(e, inv));
      }
      for (; c < n; c++) {
        const e = f32x4.extract_lane(expv(f32x4.splat(load<f32>(xr + ((<usize>c) << 2)) - m)), 0);
        store<f32>(orow + ((<usize>c) << 2), e * f32x4.extract_lane(inv, 0));
      }
    }
  }
}

/** Mean (layer; 0 for rms) and 1/sqrt(var + eps) of a row, two sweeps as the reference. */
function rowStats(x: usize, n: i32, layer: i32, eps: f32, stats: usize): void {
  let mean: f32 = 0;
  if (layer) {
    let sv = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= n; c += 4) sv = f32x4.add(sv, v128.load(x + ((<usize>c) << 2)));
    let s = hsum(sv);
    for (; c < n; c++) s += load<f32>(x + ((<usize>c) << 2));
    mean = s / <f32>n;
  }
  const mv = f32x4.splat(mean);
  let vv = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= n; c += 4) {
    const d = f32x4.sub(v128.load(x + ((<usize>c) << 2)), mv);
    vv = madd(d, d, vv);
  }
  let v = hsum(vv);
  for (; c < n; c++) {
    const d = load<f32>(x + ((<usize>c) << 2)) - mean;
    v += d * d;
  }
  store<f32>(stats, mean);
  store<f32>(stats, 1 / Mathf.sqrt(v / <f32>n + eps), 4);
}

/**
 * LayerNorm (layer = 1) / RMSNorm (0) of rows [task·per, +per): y = (x - mean)·rstd·w + b; w, b may be
 * 0 (absent).
 */
export function normRows(
  task: i32,
  scratch: usize,
  x: usize,
  w: usize,
  b: usize,
  out: usize,
  rows: i32,
  n: i32,
  layer: i32,
  eps: f32,
  per: i32,
): void {
  const end = min(rows, task * per + per);
  for (let r = task * per; r < end; r++) {
    const xr = x + ((<usize>(r * n)) << 2);
    const orow = out + ((<usize>(r * n)) << 2);
    rowStats(xr, n, layer, eps, scratch);
    const mv = f32x4.splat(load<f32>(scratch));
    const iv = f32x4.splat(load<f32>(scratch, 4));
    let c = 0;
    for (; c + 4 <= n; c += 4) {
      const o = (<usize>c) << 2;
      let y = f32x4.mul(f32x4.sub(v128.load(xr + o), mv), iv);
      if (w) y = f32x4.mul(y, v128.load(w + o));
      if (b) y = f32x4.add(y, v128.load(b + o));
      v128.store(orow + o, y);
    }
    for (; c < n; c++) {
      const o = (<usize>c) << 2;
      let y = (load<f32>(xr + o) - f32x4.extract_lane(mv, 0)) * f32x4.extract_lane(iv, 0);
      if (w) y *= load<f32>(w + o);
      if (b) y += load<f32>(b + o);
      store<f32>(orow + o, y);
    }
  }
}

/**
 * Backward of normRows (PyTorch's formulas): with xhat = (x - mean)·rstd and g = gy·w,
 * dx = rstd·(g - mean(g) - xhat·mean(g·xhat)) (RMSNorm drops mean(g)); gxhat = gy·xhat when gxhat != 0.
 */
export function normBackwardRows(
  task: i32,
  scratch: usize,
  x: usize,
  w: usize,
  gy: usize,
  dx: usize,
  gxhat: usize,
  rows: i32,
  n: i32,
  layer: i32,
  eps: f32,
  per: i32,
): void {
  const end = min(rows, task * per + per);
  for (let r = task * per; r < end; r++) {
    const ro = (<usize>(r * n)) << 2;
    rowStats(x + ro, n, layer, eps, scratch);
    const mean = load<f32>(scratch);
    const inv = load<f32>(scratch, 4);
    let sg: f32 = 0;
    let sgx: f32 = 0;
    for (let c = 0; c < n; c++) {
      const o = (<usize>c) << 2;
      const g = load<f32>(gy + ro + o) * (w ? load<f32>(w + o) : 1);
      sg += g;
      sgx += g * (load<f32>(x + ro + o) - mean) * inv;
    }
    const cg: f32 = layer ? sg / <f32>n : 0;
    const cx: f32 = sgx / <f32>n;
    for (let c = 0; c < n; c++) {
      const o = (<usize>c) << 2;
      const xhat = (load<f32>(x + ro + o) - mean) * inv;
      const gk = load<f32>(gy + ro + o);
      store<f32>(dx + ro + o, inv * (gk * (w ? load<f32>(w + o) : 1) - cg - xhat * cx));
      if (gxhat) store<f32>(gxhat + ro + o, gk * xhat);
    }
  }
}

/**
 * Cross-entropy of rows [task·per, +per) of logits [rows][C] with i32 targets (checked by the caller):
 * loss[r] and weight[rows + r] into `out`, the row's log-sum-exp into lse (ops/cross-entropy.ts).
 */
export function crossEntropyRows(
  task: i32,
  _scratch: usize,
  x: usize,
  t: usize,
  out: usize,
  lse: usize,
  rows: i32,
  C: i32,
  ignore: i32,
  smoothing: f32,
  per: i32,
): void {
  const end = min(rows, task * per + per);
  for (let r = task * per; r < end; r++) {
    const xr = x + ((<usize>(r * C)) << 2);
    const m = rowMax(xr, C);
    const s = rowSumExp(xr, C, m);
    const logS = Mathf.log(s);
    store<f32>(lse + ((<usize>r) << 2), m + logS);
    const target = load<i32>(t + ((<usize>r) << 2));
    if (target === ignore) {
      store<f32>(out + ((<usize>r) << 2), 0);
      store<f32>(out + ((<usize>(rows + r)) << 2), 0);
      continue;
    }
    let loss = logS - (load<f32>(xr + ((<usize>target) << 2)) - m);
    if (smoothing > 0) {
      let shifted: f32 = 0;
      for (let c = 0; c < C; c++) shifted += load<f32>(xr + ((<usize>c) << 2)) - m;
      loss = (1 - smoothing) * loss + smoothing * (logS - shifted / <f32>C);
    }
    store<f32>(out + ((<usize>r) << 2), loss);
    store<f32>(out + ((<usize>(rows + r)) << 2), 1);
  }
}

/** d loss / d logits of rows [task·per, +per): g[r·gStride]·(softmax(x) - ((1 - ε)·onehot + ε/C)). */
export function crossEntropyBackwardRows(
  task: i32,
  _scratch: usize,
  x: usize,
  t: usize,
  lse: usize,
  g: usize,
  gStride: i32,
  dx: usize,
  rows: i32,
  C: i32,
  ignore: i32,
  smoothing: f32,
  per: i32,
): void {
  const end = min(rows, task * per + per);
  const spread = smoothing / <f32>C;
  for (let r = task * per; r < end; r++) {
    const xr = x + ((<usize>(r * C)) << 2);
    const dr = dx + ((<usize>(r * C)) << 2);
    const target = load<i32>(t + ((<usize>r) << 2));
    if (target === ignore || target < 0 || target >= C) {
      memory.fill(dr, 0, (<usize>C) << 2);
      continue;
    }
    const gr = load<f32>(g + ((<usize>(r * gStride)) << 2));
    const lv = f32x4.splat(load<f32>(lse + ((<usize>r) << 2)) * LOG2E);
    const l2e = f32x4.splat(LOG2E);
    const gv = f32x4.splat(gr);
    const sv = f32x4.splat(spread);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const p = exp2v(f32x4.sub(f32x4.mul(v128.load(xr + ((<usize>c) << 2)), l2e), lv));
      v128.store(dr + ((<usize>c) << 2), f32x4.mul(gv, f32x4.sub(p, sv)));
    }
    for (; c < C; c++) {
      const p = f32x4.extract_lane(
        exp2v(f32x4.splat(load<f32>(xr + ((<usize>c) << 2)) * LOG2E - f32x4.extract_lane(lv, 0))),
        0,
      );
      store<f32>(dr + ((<usize>c) << 2), gr * (p - spread));
    }
    const at = dr + ((<usize>target) << 2);
    store<f32>(at, load<f32>(at) - gr * (1 - smoothing));
  }
}

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;

/** erf per lane: Abramowitz & Stegun 7.1.26 refined as in ops/elementwise.ts (max abs error 1.2e-7). */
export function erfv(x: v128): v128 {
  const ax = f32x4.abs(x);
  const t = f32x4.div(f32x4.splat(1), madd(f32x4.splat(0.5), ax, f32x4.splat(1)));
  let p = f32x4.splat(0.17087277);
  p = madd(p, t, f32x4.splat(-0.82215223));
  p = madd(p, t, f32x4.splat(1.48851587));
  p = madd(p, t, f32x4.splat(-1.13520398));
  p = madd(p, t, f32x4.splat(0.27886807));
  p = madd(p, t, f32x4.splat(-0.18628806));
  p = madd(p, t, f32x4.splat(0.09678418));
  p = madd(p, t, f32x4.splat(0.37409196));
  p = madd(p, t, f32x4.splat(1.00002368));
  p = madd(p, t, f32x4.splat(-1.26551223));
  // r = t·exp(-x² + p); erf = 1 - r for x >= 0, r - 1 below
  const r = f32x4.mul(t, expv(f32x4.add(f32x4.neg(f32x4.mul(ax, ax)), p)));
  const pos = f32x4.sub(f32x4.splat(1), r);
  return v128.or(pos, v128.and(x, i32x4.splat(0x80000000)));
}

/** GELU, tanh form (GPT-2): 0.5·x·(1 + tanh(sqrt(2/pi)·(x + 0.044715·x³))). */
export function geluTanhv(x: v128): v128 {
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  const th = tanhv(f32x4.mul(f32x4.splat(SQRT_2_OVER_PI), madd(f32x4.splat(0.044715), x3, x)));
  return f32x4.mul(f32x4.mul(f32x4.splat(0.5), x), f32x4.add(f32x4.splat(1), th));
}

/** d/dx of geluTanhv (PyTorch's formula). */
export function geluTanhGradv(x: v128): v128 {
  const x2 = f32x4.mul(x, x);
  const th = tanhv(f32x4.mul(f32x4.splat(SQRT_2_OVER_PI), madd(f32x4.splat(0.044715), f32x4.mul(x2, x), x)));
  const inner = madd(f32x4.splat(3 * 0.044715), x2, f32x4.splat(1));
  const sech2 = f32x4.sub(f32x4.splat(1), f32x4.mul(th, th));
  return f32x4.add(
    f32x4.mul(f32x4.splat(0.5), f32x4.add(f32x4.splat(1), th)),
    f32x4.mul(f32x4.mul(f32x4.mul(f32x4.splat(0.5 * SQRT_2_OVER_PI), x), sech2), inner),
  );
}

/**
 * AdamW (PyTorch 1.13 `_single_tensor_adamw`) over elements [task·per, +per), in place on p, m, v
 * (and vmax for AMSGrad when vmax != 0). Constants come precomputed in f64 from the caller.
 */
export function adamwChunk(
  task: i32,
  _scratch: usize,
  p: usize,
  g: usize,
  m: usize,
  v: usize,
  vmax: usize,
  n: i32,
  decay: f32,
  beta1: f32,
  omb1: f32,
  beta2: f32,
  omb2: f32,
  stepSize: f32,
  bc2Sqrt: f32,
  eps: f32,
  per: i32,
): void {
  const start = task * per;
  const end = min(n, start + per);
  const inv = f32x4.splat(1 / bc2Sqrt);
  for (let i = start; i < end; i += 4) {
    // the caller pads every buffer to a multiple of 4 floats
    const o = (<usize>i) << 2;
    const pv = f32x4.mul(v128.load(p + o), f32x4.splat(decay));
    const gv = v128.load(g + o);
    const mv = madd(f32x4.splat(beta1), v128.load(m + o), f32x4.mul(f32x4.splat(omb1), gv));
    const vv = madd(f32x4.splat(beta2), v128.load(v + o), f32x4.mul(f32x4.mul(f32x4.splat(omb2), gv), gv));
    v128.store(m + o, mv);
    v128.store(v + o, vv);
    let vd = vv;
    if (vmax) {
      vd = f32x4.max(v128.load(vmax + o), vv);
      v128.store(vmax + o, vd);
    }
    const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vd), inv), f32x4.splat(eps));
    v128.store(p + o, f32x4.sub(pv, f32x4.div(f32x4.mul(f32x4.splat(stepSize), mv), denom)));
  }
}
