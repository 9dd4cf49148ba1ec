import { MultiheadError } from '@multihead/core';

/**
 * @multihead/graph reports bad input with core's `MultiheadError` (one error class across the packages).
 * Core has no parse-specific code, so parse errors are `INVALID_ARGUMENT` too; their messages start with
 * the parser's name and the 1-based line number, then say what came and what was expected.
 */
export function invalidArgument(message: string): never {
  throw new MultiheadError('INVALID_ARGUMENT', message);
}

/** `parseFasta: line 12: expected ..., got ...`. */
export function parseError(where: string, line: number, message: string): never {
  throw new MultiheadError('INVALID_ARGUMENT', `${where}: line ${line}: ${message}`);
}

/** `typeof`, but telling arrays and null apart, for messages like "got array". */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return 'Uint8Array';
  return typeof value;
}

/** A line shown inside an error message: quoted, and cut so a huge line does not flood the message. */
export function quoteLine(text: string, max = 60): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}...` : text);
}
