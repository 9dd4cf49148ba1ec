/**
 * Property tests of the hardening suite (docs/decisions.md "Hardening"): fast-check with a fixed seed
 * (MULTIHEAD_FUZZ_SEED overrides it to explore) and a bounded number of runs per property, so the
 * whole suite stays quick; each property prints how many cases it generated under its family's name.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { type ErrorCode, MultiheadError } from '../../src/index.js';

export const FUZZ_SEED = Number(process.env.MULTIHEAD_FUZZ_SEED ?? 20261204);

function report(family: string, what: string, cases: number): void {
  console.log(`[fuzz] ${family} / ${what}: ${cases} cases (seed ${FUZZ_SEED})`);
}

/** Runs a synchronous property `numRuns` times and logs the count of cases generated. */
export function checkProperty<Ts extends [unknown, ...unknown[]]>(
  family: string,
  what: string,
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...args: Ts) => void,
  numRuns = 100,
): void {
  let cases = 0;
  const property = fc.property(...arbitraries, (...args: Ts) => {
    cases++;
    predicate(...args);
  });
  fc.assert(property as fc.IProperty<Ts>, { seed: FUZZ_SEED, numRuns });
  report(family, what, cases);
}

/** `checkProperty` for asynchronous predicates (reads, generation). */
export async function checkAsyncProperty<Ts extends [unknown, ...unknown[]]>(
  family: string,
  what: string,
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...args: Ts) => Promise<void>,
  numRuns = 30,
): Promise<void> {
  let cases = 0;
  const property = fc.asyncProperty(...arbitraries, async (...args: Ts) => {
    cases++;
    await predicate(...args);
  });
  await fc.assert(property as fc.IAsyncProperty<Ts>, { seed: FUZZ_SEED, numRuns });
  report(family, what, cases);
}

/** The error `fn` throws, which must be a MultiheadError with one of `codes`; null when it returns. */
export function typedError(fn: () => unknown, codes: readonly ErrorCode[]): MultiheadError | null {
  try {
    fn();
    return null;
  } catch (error) {
    expectTyped(error, codes);
    return error as MultiheadError;
  }
}

/** Async `typedError`. */
export async function typedErrorAsync(
  fn: () => Promise<unknown>,
  codes: readonly ErrorCode[],
): Promise<MultiheadError | null> {
  try {
    await fn();
    return null;
  } catch (error) {
    expectTyped(error, codes);
    return error as MultiheadError;
  }
}

function expectTyped(error: unknown, codes: readonly ErrorCode[]): void {
  if (!(error instanceof MultiheadError)) {
    throw new Error(`expected a MultiheadError (${codes.join(' | ')}), got ${String(error)}`);
  }
  expect(codes).toContain(error.code);
}

/** Numbers that are not what an integer argument should be, and some that are. */
export const anyNumber = fc.oneof(
  fc.integer({ min: -50, max: 50 }),
  fc.double({ noDefaultInfinity: false }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.5, -0, 2 ** 31, 2 ** 53),
);
