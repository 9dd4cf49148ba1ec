/**
 * AssemblyScript (compiled by wasm/build.mjs, not by tsc): SIMD helpers shared by every kernel family.
 *
 * Two builds come from these sources: plain SIMD128 and relaxed SIMD. `ASC_FEATURE_RELAXED_SIMD` is a
 * compile-time constant, so the branch below disappears and each build has one instruction sequence.
 */

/** a·b + c. Relaxed SIMD: one fused multiply-add (vfmadd on x86 with FMA); plain SIMD: mul then add. */
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Sum of the four lanes. */
export function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.add(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2)), 0);
}

/** Largest of the four lanes (-inf stays -inf; NaN-free inputs). */
export function hmax(v: v128): f32 {
  const s = f32x4.pmax(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.pmax(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2)), 0);
}

const LOG2E: f32 = <f32>Math.LOG2E;

/**
 * 2^x per lane, relative error about 1e-7 over the f32 range: x = n + f with n = nearest(x), f in
 * [-0.5, 0.5]; 2^n from the exponent bits, 2^f from its degree-7 Taylor polynomial in f·ln2 (the first
 * omitted term is 0.35^8/8! = 5e-9).
 * Lanes below -126 (including -inf, a masked score) give exactly 0, so masked keys add nothing.
 *
 * Written for V8's x64 code: the clamp uses pmin/pmax (one minps/maxps each; wasm's NaN-propagating
 * f32x4.min/max are ~7 instructions), and n comes from adding 1.5·2^23, which rounds to the nearest
 * integer and leaves it in the low mantissa bits (nearest + trunc_sat cost ~10 instructions more). This
 * function is a third of the attention forward's softmax pass.
 */
export function exp2v(x: v128): v128 {
  const keep = f32x4.gt(x, f32x4.splat(-126.0));
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-126.0)), f32x4.splat(127.0));
  const t = f32x4.add(xc, f32x4.splat(ROUNDER));
  const n = f32x4.sub(t, f32x4.splat(ROUNDER)); // nearest(xc)
  const f = f32x4.sub(xc, n);
  // 2^f = e^(f ln2): Horner in f with the coefficients ln2^k / k!
  let p = f32x4.splat(1.525273380405984e-5);
  p = madd(p, f, f32x4.splat(1.5403530393381606e-4));
  p = madd(p, f, f32x4.splat(1.3333558146428443e-3));
  p = madd(p, f, f32x4.splat(9.618129107628477e-3));
  p = madd(p, f, f32x4.splat(5.550410866482158e-2));
  p = madd(p, f, f32x4.splat(2.402265069591007e-1));
  p = madd(p, f, f32x4.splat(6.931471805599453e-1));
  p = madd(p, f, f32x4.splat(1.0));
  // the integer n sits in t's low mantissa bits: (bits(t) - bits(1.5·2^23) + 127) << 23 = bits(2^n)
  const scale = i32x4.shl(i32x4.add(i32x4.sub(t, i32x4.splat(ROUNDER_BITS)), i32x4.splat(127)), 23);
  return v128.and(f32x4.mul(p, scale), keep);
}

/** 1.5·2^23: adding it to |x| < 2^22 rounds x to an integer held in the low mantissa bits. */
const ROUNDER: f32 = 12582912.0;
const ROUNDER_BITS: i32 = 0x4b400000;

/** e^x per lane (through exp2v). */
export function expv(x: v128): v128 {
  return exp2v(f32x4.mul(x, f32x4.splat(LOG2E)));
}

/** tanh per lane: sign(x)·(1 - e)/(1 + e) with e = e^(-2|x|), exact limits at ±inf (as the WGSL twin). */
export function tanhv(x: v128): v128 {
  const ax = f32x4.abs(x);
  const e = expv(f32x4.mul(ax, f32x4.splat(-2.0)));
  const t = f32x4.div(f32x4.sub(f32x4.splat(1.0), e), f32x4.add(f32x4.splat(1.0), e));
  // copy the sign bit of x onto t
  const sign = v128.and(x, i32x4.splat(0x80000000));
  return v128.or(t, sign);
}

/** Scalar twins, for tails. */
export function exp2s(x: f32): f32 {
  return f32x4.extract_lane(exp2v(f32x4.splat(x)), 0);
}

export function exps(x: f32): f32 {
  return f32x4.extract_lane(expv(f32x4.splat(x)), 0);
}

export function tanhs(x: f32): f32 {
  return f32x4.extract_lane(tanhv(f32x4.splat(x)), 0);
}
