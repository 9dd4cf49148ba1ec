/**
 * Node built-ins loaded on demand through a variable, so browser bundlers (Vite) neither bundle nor warn
 * about them (as in @multihead/text) and the parsers stay usable in a browser. Only the file and gzip
 * helpers call these.
 */
export async function nodeFs(): Promise<typeof import('node:fs/promises')> {
  const name = 'node:fs/promises';
  return import(/* @vite-ignore */ name);
}

export async function nodeZlib(): Promise<typeof import('node:zlib')> {
  const name = 'node:zlib';
  return import(/* @vite-ignore */ name);
}

export const isNode = (): boolean => typeof globalThis.process?.versions?.node === 'string';
