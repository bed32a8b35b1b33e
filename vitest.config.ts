import { configDefaults, defineConfig } from 'vitest/config';

// The fleet test (two server processes on one PostgreSQL) runs wherever PostgreSQL is: in CI's run, and
// alone with `npm run test:fleet`, which fails with the reason when TEST_DATABASE_URL is missing.
const withFleet = Boolean(process.env.TEST_DATABASE_URL || process.env.HELSEBRO_FLEET);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(withFleet ? [] : ['test/fleet/**'])],
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
