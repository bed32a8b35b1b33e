// `npm run test:soak`: the soak runs on demand only (SOAK_MINUTES, default 10), never in `npm test`,
// whose include pattern (test/**/*.test.ts) does not match *.soak.ts.
import { defineConfig } from 'vitest/config';

const minutes = Number(process.env.SOAK_MINUTES ?? 10);

export default defineConfig({
  test: {
    include: ['test/soak/**/*.soak.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: (minutes + 5) * 60_000,
    hookTimeout: 5 * 60_000,
  },
});
