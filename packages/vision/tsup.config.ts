import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'es2022',
  // built .d.ts files use GPUDevice & co.; without this reference consumers get TS2304 (docs/toolchain.md)
  // and Symbol.dispose is typed by lib esnext.disposable, which a consumer's lib es2022 lacks (TS2550)
  dts: { banner: '/// <reference types="@webgpu/types" />\n/// <reference lib="esnext.disposable" />' },
  sourcemap: true,
  clean: true,
  external: ['webgpu'],
});
