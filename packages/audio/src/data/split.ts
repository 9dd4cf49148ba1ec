/** Seeded choices for the datasets: the same seed gives the same clips and splits on every machine. */
import { seededUniform } from '@multihead/core';
import { invalidArgument } from '../io/errors.js';

/** Fisher-Yates with core's seeded generator (mulberry32); returns a new array. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const random = seededUniform(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** One item of a non-empty list, drawn with `random` (a uniform [0, 1) generator). */
export function pick<T>(items: readonly T[], random: () => number): T {
  if (items.length === 0) invalidArgument('pick: the list is empty');
  return items[Math.floor(random() * items.length)]!;
}

/** An integer in [min, max], drawn with `random`. */
export function integerBetween(min: number, max: number, random: () => number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export interface SplitOptions {
  /** Fraction held out for testing, in [0, 1). Default 0.1. */
  testFraction?: number;
  /** Default 0. */
  seed?: number;
}

/** Shuffles with the seed and holds out round(n * testFraction) items (whole items: files, not slices). */
export function splitTrainTest<T>(
  items: readonly T[],
  options: SplitOptions,
  where: string,
): { train: T[]; test: T[] } {
  const testFraction = options.testFraction ?? 0.1;
  const seed = options.seed ?? 0;
  if (typeof testFraction !== 'number' || !(testFraction >= 0 && testFraction < 1)) {
    invalidArgument(`${where}: testFraction must be a number in [0, 1), got ${String(testFraction)}`);
  }
  if (!Number.isInteger(seed)) invalidArgument(`${where}: seed must be an integer, got ${String(seed)}`);
  const shuffled = seededShuffle(items, seed);
  const testCount = Math.round(items.length * testFraction);
  return { train: shuffled.slice(testCount), test: shuffled.slice(0, testCount) };
}
