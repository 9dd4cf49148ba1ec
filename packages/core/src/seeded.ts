/**
 * Seeds on the host: a seeded uniform generator (mulberry32) for shuffles, batch orders, token masking
 * and sampling, wherever a reproducible stream of floats is needed off the device; `mixSeed` to derive
 * independent seeds for children and calls; and the global generator behind `manualSeed` / `nextSeed`
 * that seeds modules built without a `seed` (PyTorch `torch.manual_seed`). The device's own random
 * tensors (`rand`, `randn`, dropout) use a counter-based generator instead (kernels/random.ts).
 */
import { fail } from './errors.js';

/** Uniform floats in [0, 1) from a 32-bit seed; the same seed gives the same stream. */
export function seededUniform(seed: number): () => number {
  checkSeed('seededUniform', seed);
  let s = seed >>> 0; // the low 32 bits of any integer
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeds are integers: NaN, infinities and fractions are refused rather than silently made 0. */
export function checkSeed(where: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed))
    fail('INVALID_ARGUMENT', `${where}: seed must be an integer, got ${String(seed)}`);
  return seed;
}

let globalSeed = 0;
let drawn = 0;

/** Mixes `salt` into `seed` (FNV-1a, 48 bits): independent streams for children and calls. */
export function mixSeed(seed: number, salt: number | string): number {
  checkSeed('mixSeed', seed);
  const text = `${seed}/${salt}`;
  let lo = 0x811c9dc5;
  let hi = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    lo = Math.imul(lo ^ c, 0x01000193) >>> 0;
    hi = Math.imul(hi ^ c ^ (lo >>> 7), 0x01000193) >>> 0;
  }
  return lo + (hi & 0xffff) * 2 ** 32;
}

/**
 * Resets the generator that seeds modules built without a `seed` (PyTorch `torch.manual_seed`): the
 * same program then builds the same initial weights and draws the same dropout masks.
 */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed))
    fail('INVALID_ARGUMENT', `manualSeed: seed must be a safe integer, got ${seed}`);
  globalSeed = seed;
  drawn = 0;
}

/** The next seed of the global generator (used when a module or `dropout` gets no `seed`). */
export const nextSeed = (): number => mixSeed(globalSeed, drawn++);
