/**
 * The build every published package shares: ESM for ES2022, .d.ts files and source maps. Every .d.ts
 * references lib esnext.disposable: Symbol.dispose is typed there, and a consumer's lib es2022 lacks it
 * (TS2550). A package whose types use GPUDevice & co. (`webgpu: true`) also references @webgpu/types
 * (without it consumers get TS2304) and leaves Node's `webgpu` binding to the consumer (docs/toolchain.md;
 * docs/decisions.md "Platform pitfalls").
 *
 * A plain object, no import: each package passes it to tsup's own `defineConfig`.
 */
export function packageBuild(opts: { entry?: string[]; webgpu: boolean }) {
  const disposable = '/// <reference lib="esnext.disposable" />';
  return {
    entry: opts.entry ?? ['src/index.ts'],
    format: ['esm' as const],
    target: 'es2022',
    dts: { banner: opts.webgpu ? `/// <reference types="@webgpu/types" />\n${disposable}` : disposable },
    sourcemap: true,
    clean: true,
    ...(opts.webgpu ? { external: ['webgpu'] } : {}),
  };
}
