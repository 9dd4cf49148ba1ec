/** Paths as the user typed them: relative to where they ran the command (pnpm runs scripts from apps/cli). */
import { isAbsolute, resolve } from 'node:path';

/** The directory the user ran `pnpm multihead ...` (or `multihead ...`) from. */
export function userCwd(): string {
  return process.env['INIT_CWD'] ?? process.cwd();
}

/** `path` resolved against the user's directory. */
export function userPath(path: string): string {
  return isAbsolute(path) ? path : resolve(userCwd(), path);
}
