import { defineConfig } from 'vitest/config';

/**
 * One `e2e` project: the production build (made by `pnpm test` before vitest runs) served locally and
 * driven in Debian chromium through playwright-core. Steps run in order, sharing one browser per flow.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          testTimeout: 150_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
