import { defineConfig } from 'vitest/config';

/**
 * Two projects run the same test files: `cpu` on the TypeScript reference backend, `gpu` on WebGPU
 * (SwiftShader in CI). Tests get their device from test/device.ts, which reads MULTIHEAD_BACKEND.
 */
const include = ['src/**/*.test.ts', 'test/**/*.test.ts'];
/** `*.gpu.test.ts` files only mean something on WebGPU (browser, CPU-vs-GPU parity). */
const gpuOnly = '**/*.gpu.test.ts';
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'cpu',
          include,
          exclude: [gpuOnly, '**/node_modules/**'],
          env: { MULTIHEAD_BACKEND: 'cpu' },
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'gpu',
          include,
          env: { MULTIHEAD_BACKEND: 'webgpu' },
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // one worker: SwiftShader already uses every core, and pipelines compile once per process
          pool: 'forks',
          maxWorkers: 1,
          isolate: false,
        },
      },
    ],
  },
});
