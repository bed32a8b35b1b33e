import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // One PGlite (seconds and hundreds of MB to open) per worker, shared by the files that worker runs:
    // files are not isolated from each other, so the store opened by test/support/db.ts is reused.
    pool: 'forks',
    isolate: false,
    maxWorkers: 2,
    // Safety nets, not assertions: opening a PGlite and migrating it takes seconds alone and a minute or more
    // on a busy 2-core machine; no test's meaning depends on these numbers.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    sequence: { hooks: 'stack' },
  },
});
