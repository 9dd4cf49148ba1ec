import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'es2022',
  // Symbol.dispose is typed by lib esnext.disposable, which a consumer's lib es2022 lacks (TS2550); docs/decisions.md "Platform pitfalls"
  dts: { banner: '/// <reference lib="esnext.disposable" />' },
  sourcemap: true,
  clean: true,
});
