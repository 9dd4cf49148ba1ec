/**
 * Node-only modules loaded on demand through a variable, so browser bundlers (esbuild, Vite) neither bundle
 * nor warn about them and the package still loads in a page (as `packages/core/src/io/files.ts` does).
 */

/** `import(specifier)` with the specifier in a variable: what keeps bundlers from following it. */
function importAtRunTime<M>(specifier: string): Promise<M> {
  return import(/* @vite-ignore */ specifier);
}

export const nodeFs = () => importAtRunTime<typeof import('node:fs/promises')>('node:fs/promises');

export const nodeZlib = () => importAtRunTime<typeof import('node:zlib')>('node:zlib');

export const nodePath = () => importAtRunTime<typeof import('node:path')>('node:path');

type Sharp = typeof import('sharp').default;

/** sharp (libvips), the image codec on Node (docs/design.md: "sharp (images in Node)"). */
export async function loadSharp(): Promise<Sharp> {
  return (await importAtRunTime<{ default: Sharp }>('sharp')).default;
}
