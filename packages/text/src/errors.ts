import { MultiheadError } from '@multihead/core';

/**
 * @multihead/text reports bad input with core's `MultiheadError` (one error class across the packages, so
 * callers catch one type); everything here is `INVALID_ARGUMENT`. Messages name the function, the argument,
 * what came and what was expected.
 */
export function invalidArgument(message: string): never {
  throw new MultiheadError('INVALID_ARGUMENT', message);
}

/** `typeof`, but telling arrays and null apart, for messages like "got array". */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
