import { MultiheadError } from '@multihead/core';
import { expect } from 'vitest';

/** Runs `fn`, expects a MultiheadError INVALID_ARGUMENT whose message matches every pattern. */
export function expectError(fn: () => unknown, ...patterns: RegExp[]): void {
  try {
    fn();
  } catch (error) {
    checkError(error, patterns);
    return;
  }
  throw new Error('expected a MultiheadError');
}

/** As expectError, for a promise. */
export async function expectRejection(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  try {
    await promise;
  } catch (error) {
    checkError(error, patterns);
    return;
  }
  throw new Error('expected a MultiheadError');
}

function checkError(error: unknown, patterns: RegExp[]): void {
  expect(error).toBeInstanceOf(MultiheadError);
  expect((error as MultiheadError).code).toBe('INVALID_ARGUMENT');
  for (const pattern of patterns) expect((error as Error).message).toMatch(pattern);
}
