/** Seeded shuffles and train/test splits: the same seed gives the same split on every machine. */
import { seededUniform } from '@multihead/core';
import { invalidArgument } from '../errors.js';

export interface SplitOptions {
  /** Fraction of items held out for testing, in [0, 1). Default 0.2. */
  testFraction?: number;
  /** Default 0. */
  seed?: number;
}

export interface Split<T> {
  train: T[];
  test: T[];
}

/** mulberry32 (core's seededUniform): enough for shuffling (streams are ours, not numpy's). */
export const seededRandom = seededUniform;

/** Fisher-Yates with a seeded generator; returns a new array. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function checkSplitOptions(
  options: SplitOptions,
  where: string,
): { testFraction: number; seed: number } {
  const testFraction = options.testFraction ?? 0.2;
  const seed = options.seed ?? 0;
  if (typeof testFraction !== 'number' || !(testFraction >= 0 && testFraction < 1)) {
    invalidArgument(`${where}: testFraction must be a number in [0, 1), got ${String(testFraction)}`);
  }
  if (!Number.isInteger(seed)) invalidArgument(`${where}: seed must be an integer, got ${String(seed)}`);
  return { testFraction, seed };
}

/**
 * Shuffles with the seed and holds out round(n * testFraction) items. With `stratify`, each group (e.g.
 * spam / ham) is split on its own so train and test keep the corpus' class balance.
 */
export function splitTrainTest<T>(
  items: readonly T[],
  options: SplitOptions & { stratify?: (item: T) => string },
  where = 'splitTrainTest',
): Split<T> {
  const { testFraction, seed } = checkSplitOptions(options, where);
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = options.stratify?.(item) ?? '';
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  const train: T[] = [];
  const test: T[] = [];
  // groups in sorted key order so the result does not depend on which class came first
  for (const key of [...groups.keys()].sort()) {
    const shuffled = seededShuffle(groups.get(key)!, seed);
    const testCount = Math.round(shuffled.length * testFraction);
    test.push(...shuffled.slice(0, testCount));
    train.push(...shuffled.slice(testCount));
  }
  // interleave the classes again, so a model that reads in order does not see all of one class first
  return groups.size > 1
    ? { train: seededShuffle(train, seed), test: seededShuffle(test, seed) }
    : { train, test };
}
