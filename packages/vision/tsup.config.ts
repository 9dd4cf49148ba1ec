import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'es2022',
  // built .d.ts files use GPUDevice & co.; without this reference consumers get TS2304 (docs/toolchain.md)
  dts: { banner: '/// <reference types="@webgpu/types" />' },
  sourcemap: true,
  clean: true,
  external: ['webgpu'],
});
