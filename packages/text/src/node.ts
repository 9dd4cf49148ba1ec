/**
 * node:fs/promises loaded on demand through a variable (core's `io.importAtRunTime`), so browser bundlers
 * (Vite) neither bundle nor warn about it (docs/toolchain.md) and the tokenizers stay usable in a browser.
 * Only file helpers call it.
 */
import { io } from '@multihead/core';

export const nodeFs = () => io.importAtRunTime<typeof import('node:fs/promises')>('node:fs/promises');
