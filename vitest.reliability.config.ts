// `npm run test:reliability`: the reliability suite alone, one file at a time
// (the scenarios time kills and measure memory; a neighbour would skew both),
// with generous timeouts, --expose-gc for the soak's heap figures, and the
// summary table printed at the end. RELIABILITY_FULL=1 (set by the script)
// selects the full counts; without it the same files run their fast subset.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
    execArgv: ['--expose-gc'],
    globalSetup: ['test/reliability/support/summary.ts'],
  },
});
