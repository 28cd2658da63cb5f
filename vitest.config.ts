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
          setupFiles: ['test/setup/temp-dirs.ts', 'test/setup/base-images.ts'],
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
      {
        test: {
          name: 'stress',
          include: ['test/stress/**/*.test.ts'],
          setupFiles: ['test/setup/temp-dirs.ts'],
          // layers that unpack to a GiB and more, built and read under GNU time (about 100 s): out of
          // the unit tests so `npm run test:unit` stays quick, and in e2e's group, whose builds leave
          // cores idle while they wait (vitest wants the projects of a group to share maxWorkers)
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          testTimeout: 300_000,
        },
      },
    ],
  },
});
