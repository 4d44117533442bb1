import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real servers, real disks, real child processes: generous, never used as a speed check. A test
    // that starts CLI children (about 1 s of CPU each under tsx) took 27-28 s here when the machine
    // was loaded, against the old 30 s.
    testTimeout: 90_000,
    hookTimeout: 60_000,
    // expect.poll waits for something to become true; its default of 1 s failed browser round trips
    // on a loaded machine. Waiting longer never lets a wrong value pass.
    expect: { poll: { timeout: 10_000 } },
  },
});
