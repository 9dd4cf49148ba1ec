/**
 * Node built-ins loaded on demand through a variable, so browser bundlers (Vite) neither bundle nor warn
 * about them (core's `io.importAtRunTime`) and the parsers stay usable in a browser. Only the file and gzip
 * helpers call these.
 */
import { io, MultiheadError } from '@multihead/core';

export const nodeFs = () => io.importAtRunTime<typeof import('node:fs/promises')>('node:fs/promises');

export const nodeZlib = () => io.importAtRunTime<typeof import('node:zlib')>('node:zlib');

export const isNode = (): boolean => typeof globalThis.process?.versions?.node === 'string';

/** Throws a clear error when a data file from a Debian package is missing. */
export async function requireFile(path: string, debianPackage: string, where: string): Promise<void> {
  const fs = await nodeFs();
  try {
    await fs.access(path);
  } catch {
    throw new MultiheadError(
      'INVALID_ARGUMENT',
      `${where}: cannot read ${path}; it comes from the Debian package ${debianPackage} ` +
        `(apt-get install -y ${debianPackage}), or pass other files`,
    );
  }
}
