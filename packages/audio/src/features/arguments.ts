import { MultiheadError } from '@multihead/core';

/**
 * Argument checks of the spectrogram features. Errors are core's `MultiheadError` with code
 * `INVALID_ARGUMENT` (one error class across the packages); messages name the function, the argument, what
 * came and what was expected.
 */
export function invalidArgument(message: string): never {
  throw new MultiheadError('INVALID_ARGUMENT', message);
}

/** How a value reads in a message: numbers as they are, strings quoted, arrays and null told apart. */
export function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/** An integer >= `min`. */
export function checkInteger(fn: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    invalidArgument(`${fn}: ${name} is ${describe(value)}; expected an integer >= ${min}`);
  }
  return value;
}

/** A finite number within [min, max] (either bound may be open to infinity). */
export function checkNumber(fn: string, name: string, value: unknown, min: number, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    invalidArgument(`${fn}: ${name} is ${describe(value)}; expected a finite number ${range}`);
  }
  return value;
}

/** One of a few allowed values. */
export function checkOneOf<T>(fn: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    invalidArgument(
      `${fn}: ${name} is ${describe(value)}; expected one of ${allowed.map(describe).join(', ')}`,
    );
  }
  return value as T;
}
