import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['libs/**/*.test.ts', 'services/**/*.test.ts', 'infra/**/*.test.ts', 'dashboard/src/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Some tests start the compiled services or the CLI as processes: build them first.
          globalSetup: ['test/support/build-services.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Each file has its own topics, consumer groups and database; two cores, two files.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          // The dashboard in Debian's Chromium against a real query service (make test installs
          // Chromium and builds the dashboard first).
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          name: 'stack',
          include: ['test/stack/**/*.test.ts'],
          globalSetup: ['test/support/build-services.ts'],
          testTimeout: 600_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
