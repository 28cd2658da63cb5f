import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/setup/temp-dirs.ts'],
          testTimeout: 30_000,
          // the unit tests first, alone: their 30 s timeouts are not for a machine the builds load
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          setupFiles: ['test/setup/temp-dirs.ts'],
          // two files at a time: a build waits on downloads, the engine and containers much of the
          // time, so two share the 2 cores well (issue 23: CI within 40 minutes). The files do not
          // step on each other: each has its own cache directory, and what they look for in the
          // engine (containers, volumes, images) is scoped to their own process or names
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          testTimeout: 600_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
