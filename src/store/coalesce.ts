// Reads that travel together: every readJson issued on the same Queryable in the same tick goes to the
// store as one statement, `select (q1) as r0, (q2) as r1, ...`, so a summary's four sources (or several
// requests arriving together) cost one round trip instead of one each. Nothing is kept between ticks:
// each read still runs when it is asked for and sees the store as it is then.
//
// Each read is one SELECT answering at most one row of one json/jsonb column, usable as a scalar
// subquery; its parameters are $1..$n of its own (renumbered here), so its text holds no other '$'.
import type { Queryable } from './db.ts';

interface Pending {
  sql: string;
  params: readonly unknown[];
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** Batches of up to this many reads are prepared statements (see run). */
const PREPARED_BATCH = 4;

/** Statements per round trip, well inside PostgreSQL's 65,535 parameters. */
const MAX_BATCH = 64;

const waiting = new WeakMap<Queryable, Pending[]>();

/** The single json value `sql` answers (null when it finds no row), parsed as both engines parse json. */
export function readJson<T>(q: Queryable, sql: string, params: readonly unknown[] = []): Promise<T | null> {
  return new Promise((resolve, reject) => {
    let batch = waiting.get(q);
    if (!batch) {
      batch = [];
      waiting.set(q, batch);
      // After the current microtasks: sources started together have all asked by then.
      process.nextTick(() => flush(q));
    }
    batch.push({ sql, params, resolve: resolve as (v: unknown) => void, reject });
  });
}

function flush(q: Queryable): void {
  const batch = waiting.get(q) ?? [];
  waiting.delete(q);
  for (let i = 0; i < batch.length; i += MAX_BATCH) void run(q, batch.slice(i, i + MAX_BATCH));
}

async function run(q: Queryable, batch: Pending[]): Promise<void> {
  const params: unknown[] = [];
  const columns = batch.map((p, i) => {
    const offset = params.length;
    params.push(...p.params);
    return `(${p.sql.replace(/\$(\d+)/g, (_m, n: string) => `$${Number(n) + offset}`)}) as r${i}`;
  });
  try {
    // The same few reads come together again and again (a summary's sources): their statement is kept
    // prepared. Larger batches are chance meetings of several requests and run unprepared.
    const r = await q.query<Record<string, unknown>>(`select ${columns.join(', ')}`, params, { prepare: batch.length <= PREPARED_BATCH });
    const row = r.rows[0] ?? {};
    batch.forEach((p, i) => p.resolve(row[`r${i}`] ?? null));
  } catch (err) {
    if (batch.length === 1) return batch[0]!.reject(err);
    // One bad read must not fail the others that happened to travel with it: each is asked again alone.
    for (const p of batch) void run(q, [p]);
  }
}
