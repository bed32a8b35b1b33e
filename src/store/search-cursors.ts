// search_cursor (migration 0140): the parameters of a POSTed search, kept so its paging links need not
// carry them. Rows expire; a cursor reads back only for the caller that made it.
import { randomBytes } from 'node:crypto';
import type { Queryable } from './db.ts';

export type SearchParamList = [string, string][];

/** Stores the parameters and returns the cursor id (128 random bits, URL-safe). */
export async function saveSearchCursor(q: Queryable, owner: string, params: SearchParamList, ttlSeconds: number): Promise<string> {
  const id = randomBytes(16).toString('base64url');
  // Cleaning on write keeps the table small without a scheduler; the index makes it one range scan.
  await q.query('delete from search_cursor where expires_at < now()');
  await q.query(
    `insert into search_cursor (id, owner, params, expires_at) values ($1, $2, $3::jsonb, now() + make_interval(secs => $4))`,
    [id, owner, JSON.stringify(params), ttlSeconds],
  );
  return id;
}

/** The stored parameters, or undefined when the cursor is unknown, expired or someone else's. */
export async function loadSearchCursor(q: Queryable, owner: string, id: string): Promise<SearchParamList | undefined> {
  const r = await q.query<{ params: SearchParamList }>(
    'select params from search_cursor where id = $1 and owner = $2 and expires_at >= now()',
    [id, owner],
  );
  return r.rows[0]?.params;
}
