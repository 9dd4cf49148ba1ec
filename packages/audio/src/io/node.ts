/**
 * Node built-ins loaded on demand through a variable, so browser bundlers (esbuild, Vite) neither bundle
 * nor warn about them and the package still loads in a page (core's `io.importAtRunTime`). Only the file,
 * dataset and tool helpers call these.
 */
import { io } from '@multihead/core';

export const nodeFs = () => io.importAtRunTime<typeof import('node:fs/promises')>('node:fs/promises');

export const nodePath = () => io.importAtRunTime<typeof import('node:path')>('node:path');

export const nodeOs = () => io.importAtRunTime<typeof import('node:os')>('node:os');

export const nodeChildProcess = () =>
  io.importAtRunTime<typeof import('node:child_process')>('node:child_process');

export const nodeZlib = () => io.importAtRunTime<typeof import('node:zlib')>('node:zlib');
