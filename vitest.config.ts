import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{shared,relay,bridge-agent}/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // End-to-end suites start real servers and child processes; two cores cannot run many at once.
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
