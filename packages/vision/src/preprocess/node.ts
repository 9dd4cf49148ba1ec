/**
 * Node-only modules loaded on demand through a variable, so browser bundlers (esbuild, Vite) neither bundle
 * nor warn about them and the package still loads in a page (core's `io.importAtRunTime` for Node built-ins).
 */
import { io } from '@multihead/core';

export const nodeFs = () => io.importAtRunTime<typeof import('node:fs/promises')>('node:fs/promises');

export const nodeZlib = () => io.importAtRunTime<typeof import('node:zlib')>('node:zlib');

export const nodePath = () => io.importAtRunTime<typeof import('node:path')>('node:path');

type Sharp = typeof import('sharp').default;

/** sharp (libvips), the image codec on Node (docs/design.md: "sharp (images in Node)"). */
export async function loadSharp(): Promise<Sharp> {
  // imported here, not through core: a package name resolves from the package that imports it
  const specifier = 'sharp';
  return ((await import(/* @vite-ignore */ specifier)) as { default: Sharp }).default;
}
