/**
 * Node built-ins loaded on demand through a variable, so browser bundlers (Vite) neither bundle nor warn
 * about them (docs/toolchain.md) and the tokenizers stay usable in a browser. Only file helpers call these.
 */
export async function nodeFs(): Promise<typeof import('node:fs/promises')> {
  const name = 'node:fs/promises';
  return import(/* @vite-ignore */ name);
}

export async function nodePath(): Promise<typeof import('node:path')> {
  const name = 'node:path';
  return import(/* @vite-ignore */ name);
}
