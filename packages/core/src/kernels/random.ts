/**
 * The counter-based hash behind every random number (rand, randn, dropout masks, attention dropout):
 * PCG's output permutation (O'Neill 2014) applied twice with the key mixed in between, so element i of
 * a call is a pure function of (seed, offset + i) and every backend draws bit-identical values. The
 * WGSL twin is backend/webgpu/kernels/random.ts `HASH_WGSL`.
 */

function pcg(v: number): number {
  const s = (Math.imul(v, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}
const bits = (c: number, k0: number, k1: number) => pcg((pcg((c ^ k0) >>> 0) + k1) >>> 0);
/** Uniform in [0, 1) for counter c under key (k0, k1): the TS twin of WGSL `unit`. */
export const unit = (c: number, k0: number, k1: number) => (bits(c, k0, k1) >>> 8) * 5.9604644775390625e-8;

/** The hash's key for a safe-integer seed: its low and high 32 bits (`u.key0`, `u.key1` in WGSL). */
export function hashKey(seed: number): { key0: number; key1: number } {
  return { key0: seed >>> 0, key1: Math.floor(seed / 2 ** 32) >>> 0 };
}
