import { invalidArgument } from '@multihead/core';

/**
 * @multihead/vision reports problems with core's `MultiheadError` (one error class across the packages).
 * Messages name the function, the argument (or file), what came and what was expected.
 *   INVALID_ARGUMENT: a caller's argument or a file's content is wrong (corrupt, truncated, too large).
 *   UNSUPPORTED: a well-formed input this package does not handle (an image format outside the list).
 *   IO_ERROR: a file or a Debian package is missing or unreadable.
 * The throwers and `describeType` are core's (shared with @multihead/audio); this file adds vision's checks.
 */
export { describeType, invalidArgument, ioError, unsupported } from '@multihead/core';

/** The message of an unknown thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function checkPositiveInteger(value: unknown, name: string, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    invalidArgument(`${where}: ${name} must be a positive integer, got ${String(value)}`);
  return value;
}
