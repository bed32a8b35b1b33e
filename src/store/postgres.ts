// The server engine: PostgreSQL through a `pg` pool. Unlike PGlite it runs transactions concurrently,
// so code that must not race (dispensing against a prescription) takes row locks explicitly.
import pg from 'pg';
import { createHash } from 'node:crypto';
import type { Db, Queryable, QueryOptions, QueryResult } from './db.ts';

/** Statements kept prepared, per process; beyond this many distinct texts, statements run unprepared. */
const MAX_PREPARED = 200;
const prepared = new Map<string, string>();

/** The prepared statement's name for a text (the same on every connection), or undefined past the cap. */
function statementName(sql: string): string | undefined {
  let name = prepared.get(sql);
  if (name === undefined && prepared.size < MAX_PREPARED) {
    name = `hb_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    prepared.set(sql, name);
  }
  return name;
}

export interface PostgresOptions {
  connectionString: string;
  /** Schema to work in (tests give each worker its own); created if missing. */
  schema?: string;
  max?: number;
}

export async function openPostgres(opts: PostgresOptions): Promise<Db> {
  if (opts.schema && !/^[a-z_][a-z0-9_]*$/.test(opts.schema)) throw new Error(`Invalid schema name ${opts.schema}`);
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5000,
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  if (opts.schema) await pool.query(`create schema if not exists ${opts.schema}`);
  const wrap = (q: Pick<pg.Pool | pg.PoolClient, 'query'>): Queryable => ({
    async query<T>(sql: string, params: readonly unknown[] = [], opts?: QueryOptions): Promise<QueryResult<T>> {
      const name = opts?.prepare ? statementName(sql) : undefined;
      const r = await q.query(name ? { name, text: sql, values: params as unknown[] } : { text: sql, values: params as unknown[] });
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    },
  });
  const base = wrap(pool);
  return {
    engine: 'postgres',
    query: base.query,
    async tx(fn) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await fn(wrap(client));
        await client.query('commit');
        return result;
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    exec: async (sql) => {
      await pool.query(sql);
    },
    ping: async () => {
      await pool.query('select 1');
    },
    close: () => pool.end(),
  };
}
