import { invalidArgument } from '@multihead/core';

/**
 * @multihead/audio reports problems with core's `MultiheadError` (one error class across the packages, as
 * in packages/text/src/errors.ts). Bad arguments and corrupt files are `INVALID_ARGUMENT`, formats we do
 * not decode are `UNSUPPORTED`, a missing or failing external tool is `IO_ERROR`. Messages name the
 * function, the argument, what came and what was expected. The throwers and `describeType` are core's
 * (shared with @multihead/vision); this file adds the audio-specific checks.
 */
export { describeType, invalidArgument, ioError, unsupported } from '@multihead/core';

/** Checks that `value` is a positive integer sample rate. */
export function checkSampleRate(value: unknown, where: string, name = 'sampleRate'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 2 ** 31) {
    invalidArgument(`${where}: ${name} must be a positive integer (Hz), got ${String(value)}`);
  }
  return value;
}
