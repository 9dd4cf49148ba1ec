/** Error codes of @multihead/core; `code` is stable, the message says what came and what was expected. */
export type ErrorCode =
  | 'SHAPE_MISMATCH'
  | 'DTYPE_MISMATCH'
  | 'DEVICE_MISMATCH'
  | 'INVALID_ARGUMENT'
  | 'INDEX_OUT_OF_RANGE'
  | 'DISPOSED'
  | 'UNSUPPORTED'
  | 'NO_ADAPTER'
  | 'DEVICE_LOST'
  | 'WEBGPU_VALIDATION'
  | 'OUT_OF_MEMORY'
  | 'NON_FINITE'
  | 'IO_ERROR'
  | 'MISSING_DEPENDENCY';

export class MultiheadError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'MultiheadError';
    this.code = code;
  }
}

export function fail(code: ErrorCode, message: string): never {
  throw new MultiheadError(code, message);
}

/**
 * The throwers the modality packages share (one error class across the packages, docs/api.md "Errors"):
 * a caller's argument or a file's content is wrong, a well-formed input is not handled, a file or an
 * external tool is missing or failing.
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
