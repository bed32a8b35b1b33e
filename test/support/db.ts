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
 * A store of its own for a test file whose writes would change what other files sharing the worker's
 * store count (hostile input, the access matrix). The caller closes it.
 */
export async function isolatedDb(engine: Engine, name: string): Promise<Db> {
  let db: Db;
  if (engine === 'pglite') db = await openPglite(undefined);
  else {
    const url = process.env.TEST_DATABASE_URL;
    if (!url) throw new Error('TEST_DATABASE_URL is not set');
    const schema = `helsebro_${name}_w${workerId}`;
    const admin = await openPostgres({ connectionString: url, max: 1 });
    await admin.exec(`drop schema if exists ${schema} cascade`);
    await admin.close();
    db = await openPostgres({ connectionString: url, schema, max: 10 });
  }
  await migrate(db);
  return db;
}
