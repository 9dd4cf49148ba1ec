/**
 * Node-only modules loaded on demand through a variable, so browser bundlers (esbuild, Vite) neither bundle
 * nor warn about them and the package still loads in a page (as `packages/core/src/io/files.ts` does).
 */

export async function nodeFs(): Promise<typeof import('node:fs/promises')> {
  const specifier = 'node:fs/promises';
  return import(/* @vite-ignore */ specifier);
}

export async function nodeZlib(): Promise<typeof import('node:zlib')> {
  const specifier = 'node:zlib';
  return import(/* @vite-ignore */ specifier);
}

export async function nodePath(): Promise<typeof import('node:path')> {
  const specifier = 'node:path';
  return import(/* @vite-ignore */ specifier);
}

type Sharp = typeof import('sharp').default;

/** sharp (libvips), the image codec on Node (docs/design.md: "sharp (images in Node)"). */
export async function loadSharp(): Promise<Sharp> {
  const specifier = 'sharp';
  const module = (await import(/* @vite-ignore */ specifier)) as { default: Sharp };
  return module.default;
}
