import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  // workspace packages export TypeScript sources; Node 20 cannot run those from a bin (docs/toolchain.md)
  noExternal: [/^@multihead\//],
  external: ['webgpu'],
  banner: { js: '#!/usr/bin/env node' },
  clean: true,
});
