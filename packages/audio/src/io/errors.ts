import { MultiheadError } from '@multihead/core';

/**
 * @multihead/audio reports problems with core's `MultiheadError` (one error class across the packages, as
 * in packages/text/src/errors.ts). Bad arguments and corrupt files are `INVALID_ARGUMENT`, formats we do
 * not decode are `UNSUPPORTED`, a missing or failing external tool is `IO_ERROR`. Messages name the
 * function, the argument, what came and what was expected.
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

/** Checks that `value` is a positive integer sample rate. */
export function checkSampleRate(value: unknown, where: string, name = 'sampleRate'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 2 ** 31) {
    invalidArgument(`${where}: ${name} must be a positive integer (Hz), got ${String(value)}`);
  }
  return value;
}
