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
