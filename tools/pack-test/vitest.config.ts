import { defineConfig } from 'vitest/config';

// one file, one process: it packs, installs and starts chromium itself
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 300_000 },
});
