// One migrated database per test worker and engine, shared by every test file the worker runs.
// PGlite always; PostgreSQL too when TEST_DATABASE_URL is set (each worker in its own schema).
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { openPostgres } from '../../src/store/postgres.ts';

export type Engine = 'pglite' | 'postgres';

export const engines: Engine[] = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

const workerId = process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? '0';
const opened = new Map<Engine, Promise<Db>>();

export function testSchema(): string {
  return `helsebro_test_w${workerId}`;
}

export function getTestDb(engine: Engine): Promise<Db> {
  let db = opened.get(engine);
  if (!db) {
    db = openFresh(engine);
    opened.set(engine, db);
  }
  return db;
}

async function openFresh(engine: Engine): Promise<Db> {
  let db: Db;
  if (engine === 'pglite') {
    db = await openPglite(undefined);
  } else {
    const url = process.env.TEST_DATABASE_URL;
    if (!url) throw new Error('TEST_DATABASE_URL is not set');
    const schema = testSchema();
    const admin = await openPostgres({ connectionString: url, max: 1 });
    await admin.exec(`drop schema if exists ${schema} cascade`);
    await admin.close();
    db = await openPostgres({ connectionString: url, schema, max: 20 });
  }
  await migrate(db);
  return db;
}

/**
 * A store of the test's own, migrated and empty, for a test that counts what a patient has and so must not
 * see what other files in the same worker wrote to the shared store. Closing it drops it.
 */
export async function openIsolatedDb(engine: Engine): Promise<Db> {
  if (engine === 'pglite') {
    const db = await openPglite(undefined);
    await migrate(db);
    return db;
  }
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set');
  const schema = `helsebro_test_iso_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const db = await openPostgres({ connectionString: url, schema, max: 10 });
  await migrate(db);
  const close = db.close.bind(db);
  return Object.assign(db, {
    close: async () => {
      await db.exec(`drop schema if exists ${schema} cascade`);
      await close();
    },
  });
}
