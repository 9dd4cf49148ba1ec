import { defineConfig } from 'vitest/config';

/**
 * As in core: `cpu` and `gpu` projects run the same files on the CPU backend and on WebGPU (SwiftShader in
 * CI); `@multihead/core/testing` reads MULTIHEAD_BACKEND. `*.gpu.test.ts` files run on the gpu project only.
 * `*.fuzz.test.ts` (parser fuzzing, no device) runs on the cpu project only: twice would only cost time.
 */
const include = ['src/**/*.test.ts', 'test/**/*.test.ts'];
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
          exclude: ['**/*.fuzz.test.ts', '**/node_modules/**'],
          env: { MULTIHEAD_BACKEND: 'webgpu' },
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // one worker: SwiftShader already uses every core
          pool: 'forks',
          maxWorkers: 1,
          isolate: false,
        },
      },
    ],
  },
});
