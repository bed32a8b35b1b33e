import { join } from 'node:path';
import type { Db } from './db.ts';
import { migrate } from './migrate.ts';

export interface StoreConfig {
  databaseUrl?: string | undefined;
  dataDir: string;
}

/** Opens PostgreSQL when DATABASE_URL is set, otherwise embedded PGlite under the data dir; then migrates. */
export async function openStore(cfg: StoreConfig): Promise<Db> {
  const db = cfg.databaseUrl
    ? await (await import('./postgres.ts')).openPostgres({ connectionString: cfg.databaseUrl })
    : await (await import('./pglite.ts')).openPglite(join(cfg.dataDir, 'pglite'));
  await migrate(db);
  return db;
}
