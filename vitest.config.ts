import { defineConfig } from 'vitest/config';

const include = ['{shared,relay,bridge-agent}/src/**/*.test.ts', 'test/**/*.test.ts'];
/** The process-level fuzz storm saturates the machine: it runs alone, after everything else. */
const storm = ['test/fuzz-relay.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // End-to-end suites start real servers and child processes; two cores cannot run many at once.
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'suites', include, exclude: storm, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'storm', include: storm, sequence: { groupOrder: 1 } } },
    ],
  },
});
