/**
 * A seeded host-side uniform generator (mulberry32): for shuffles, batch orders, token masking and
 * sampling, wherever a reproducible stream of floats is needed off the device. The device's own random
 * tensors (`rand`, `randn`, dropout) use a counter-based generator instead (ops/random.ts).
 */

/** Uniform floats in [0, 1) from a 32-bit seed; the same seed gives the same stream. */
export function seededUniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
