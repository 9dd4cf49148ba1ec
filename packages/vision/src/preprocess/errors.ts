import { MultiheadError } from '@multihead/core';

/**
 * @multihead/vision reports problems with core's `MultiheadError` (one error class across the packages).
 * Messages name the function, the argument (or file), what came and what was expected.
 *   INVALID_ARGUMENT: a caller's argument or a file's content is wrong (corrupt, truncated, too large).
 *   UNSUPPORTED: a well-formed input this package does not handle (an image format outside the list).
 *   IO_ERROR: a file or a Debian package is missing or unreadable.
 */
export function invalidArgument(message: string): never {
  throw new MultiheadError('INVALID_ARGUMENT', message);
}

export function unsupported(message: string): never {
  throw new MultiheadError('UNSUPPORTED', message);
}

export function ioError(message: string): never {
  throw new MultiheadError('IO_ERROR', message);
}

/** `typeof`, but telling arrays, typed arrays and null apart, for messages like "got array". */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value;
}

/** The message of an unknown thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function checkPositiveInteger(value: unknown, name: string, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    invalidArgument(`${where}: ${name} must be a positive integer, got ${String(value)}`);
  return value;
}
