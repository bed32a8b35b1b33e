// Versioned SQL migrations: src/store/migrations/NNNN_name.sql, applied once each, in order, inside a
// transaction, recorded in schema_migrations. Running them again is a no-op.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  version: string;
  name: string;
  sql: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: f.slice(0, 4), name: f.slice(5, -4), sql: readFileSync(dir + f, 'utf8') }));
}

/** Applies pending migrations; returns the versions applied by this call. */
export async function migrate(db: Db, migrations = loadMigrations()): Promise<string[]> {
  await db.exec(`create table if not exists schema_migrations (
    version text primary key, name text not null, applied_at timestamptz not null default now())`);
  const applied: string[] = [];
  for (const m of migrations) {
    const done = await db.query('select 1 from schema_migrations where version = $1', [m.version]);
    if (done.rowCount > 0) continue;
    await db.tx(async (q) => {
      // A concurrent starter may have applied it meanwhile; the primary key makes the loser roll back.
      await q.query('insert into schema_migrations (version, name) values ($1, $2)', [m.version, m.name]);
      for (const statement of splitStatements(m.sql)) await q.query(statement);
    });
    applied.push(m.version);
  }
  return applied;
}

/**
 * Splits a migration script into statements so each runs through the same parameterless `query` on both
 * engines inside one transaction. Dollar-quoted bodies (functions, triggers) are kept whole.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current = '';
  let dollarTag: string | undefined;
  const lines = sql.split('\n');
  for (const line of lines) {
    const trimmed = line.trim();
    if (!dollarTag && trimmed.startsWith('--')) continue;
    current += line + '\n';
    for (const m of line.matchAll(/\$[a-zA-Z_]*\$/g)) {
      if (!dollarTag) dollarTag = m[0];
      else if (m[0] === dollarTag) dollarTag = undefined;
    }
    if (!dollarTag && trimmed.endsWith(';')) {
      out.push(current.trim());
      current = '';
    }
  }
  if (current.trim()) out.push(current.trim());
  return out;
}
