import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { projects: [{ test: { name: 'cpu', include: ['src/**/*.test.ts'], testTimeout: 120_000 } }] },
});
