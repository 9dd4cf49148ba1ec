/**
 * Node built-ins loaded on demand through a variable, so browser bundlers (esbuild, Vite) neither bundle
 * nor warn about them and the package still loads in a page (docs/decisions.md, "Workspace"; the same
 * pattern as packages/text/src/node.ts). Only the file, dataset and tool helpers call these.
 */
/** `import(specifier)` with the specifier in a variable: what keeps bundlers from following it. */
function importAtRunTime<M>(specifier: string): Promise<M> {
  return import(/* @vite-ignore */ specifier);
}

export const nodeFs = () => importAtRunTime<typeof import('node:fs/promises')>('node:fs/promises');

export const nodePath = () => importAtRunTime<typeof import('node:path')>('node:path');

export const nodeOs = () => importAtRunTime<typeof import('node:os')>('node:os');

export const nodeChildProcess = () =>
  importAtRunTime<typeof import('node:child_process')>('node:child_process');

export const nodeZlib = () => importAtRunTime<typeof import('node:zlib')>('node:zlib');
