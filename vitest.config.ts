import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real servers, real disks, real child processes: generous, never used as a speed check.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
