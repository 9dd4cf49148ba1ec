import { defineConfig } from 'vitest/config';

/**
 * One `cpu` project: tokenizers and datasets need no device. The name matches core's so `test:cpu`
 * and the repo-wide `test` run it the same way.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'cpu',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
