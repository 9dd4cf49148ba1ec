/**
 * node:fs/promises loaded on demand through a variable, so browser bundlers (Vite) neither bundle nor warn
 * about it (docs/toolchain.md) and the tokenizers stay usable in a browser. Only file helpers call it.
 */
export async function nodeFs(): Promise<typeof import('node:fs/promises')> {
  const name = 'node:fs/promises';
  return import(/* @vite-ignore */ name);
}
