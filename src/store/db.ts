// One small interface over both engines: PGlite (embedded, the default) and PostgreSQL through `pg`.
// Plain parameterised SQL only ($1, $2 ...), so the same migrations and queries run on both.

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * A statement run often with this very text: PostgreSQL parses and plans it once per connection and keeps
   * the plan (a named prepared statement). Only for texts from a small fixed set, never built per request.
   */
  prepare?: boolean;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[], opts?: QueryOptions): Promise<QueryResult<T>>;
}

export interface Db extends Queryable {
  readonly engine: 'pglite' | 'postgres';
  /** Runs fn in one transaction: commit when it resolves, roll back when it throws. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** Runs a multi-statement script without parameters (migrations only). */
  exec(sql: string): Promise<void>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// Network failures (Node's errno codes), PostgreSQL's SQLSTATEs for "cannot serve you now" (class 08
// connection exception; 57P01-57P03 shutdown/starting; 53300 too many connections), and the messages pg
// raises without a code when a connection dies or the pool cannot get one in time.
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  '57P01', '57P02', '57P03', '53300',
]);
const UNREACHABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

/**
 * Whether an error means the store could not be reached (a transient condition worth a 503 and a retry),
 * as opposed to a fault in the query or the data. Looks through `cause` chains and AggregateErrors.
 */
export function isStoreUnreachable(err: unknown, depth = 0): boolean {
  if (depth > 5 || typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (UNREACHABLE_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  if (err instanceof Error && e.code === undefined && UNREACHABLE_MESSAGES.some((m) => err.message.startsWith(m))) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isStoreUnreachable(x, depth + 1))) return true;
  return isStoreUnreachable(e.cause, depth + 1);
}
