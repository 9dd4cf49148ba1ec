/**
 * The vitest projects of a package whose tests take a device (docs/toolchain.md). `cpu` and `gpu` run
 * the same files on the CPU backend and on WebGPU (SwiftShader in CI); tests get their device from
 * MULTIHEAD_BACKEND (core's test/device.ts, `@multihead/core/testing` elsewhere). `*.gpu.test.ts` files
 * only mean something on WebGPU (browser, CPU-vs-GPU parity) and run on the gpu project only.
 *
 * Plain objects, no import: each package passes them to vitest's own `defineConfig`, which checks
 * their types, and this folder has no dependencies to install.
 */
export function deviceTestProjects(opts: { cpuOnly?: string[] } = {}) {
  const include = ['src/**/*.test.ts', 'test/**/*.test.ts'];
  return [
    {
      test: {
        name: 'cpu',
        include,
        exclude: ['**/*.gpu.test.ts', '**/node_modules/**'],
        env: { MULTIHEAD_BACKEND: 'cpu' },
        testTimeout: 60_000,
      },
    },
    {
      test: {
        name: 'gpu',
        include,
        // files that need no device (parser fuzzing) run once, on the cpu project
        ...(opts.cpuOnly ? { exclude: [...opts.cpuOnly, '**/node_modules/**'] } : {}),
        env: { MULTIHEAD_BACKEND: 'webgpu' },
        testTimeout: 120_000,
        hookTimeout: 120_000,
        // one worker: SwiftShader already uses every core, and pipelines compile once per process
        pool: 'forks' as const,
        maxWorkers: 1,
        isolate: false,
      },
    },
  ];
}
