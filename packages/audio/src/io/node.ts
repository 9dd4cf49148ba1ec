/**
 * Node built-ins loaded on demand through a variable, so browser bundlers (esbuild, Vite) neither bundle
 * nor warn about them and the package still loads in a page (docs/decisions.md, "Workspace"; the same
 * pattern as packages/text/src/node.ts). Only the file, dataset and tool helpers call these.
 */
export async function nodeFs(): Promise<typeof import('node:fs/promises')> {
  const specifier = 'node:fs/promises';
  return import(/* @vite-ignore */ specifier);
}

export async function nodePath(): Promise<typeof import('node:path')> {
  const specifier = 'node:path';
  return import(/* @vite-ignore */ specifier);
}

export async function nodeOs(): Promise<typeof import('node:os')> {
  const specifier = 'node:os';
  return import(/* @vite-ignore */ specifier);
}

export async function nodeChildProcess(): Promise<typeof import('node:child_process')> {
  const specifier = 'node:child_process';
  return import(/* @vite-ignore */ specifier);
}

export async function nodeZlib(): Promise<typeof import('node:zlib')> {
  const specifier = 'node:zlib';
  return import(/* @vite-ignore */ specifier);
}
