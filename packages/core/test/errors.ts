/** The assertion core's tests make of a refused call: a MultiheadError with its code and message. */
import { expect } from 'vitest';
import { type ErrorCode, MultiheadError } from '../src/index.js';

/** Runs `fn` and expects it to throw a MultiheadError with `code` whose message matches `message`. */
export function expectError(fn: () => unknown, code: ErrorCode, message: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MultiheadError);
    expect((e as MultiheadError).code).toBe(code);
    expect((e as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected an error');
}
