// Reads that travel together. Every readJson issued on the same Queryable while the event loop works through
// one round of I/O goes to the store as one statement: a summary's four sources cost one round trip instead
// of four, and under load the reads of several requests in flight at once share it too, so the store sees
// fewer, larger statements. Nothing is kept between rounds: each read still runs when it is asked for and
// sees the store as it is then. The price is that a read waits for the slowest one it travels with; the
// reads made this way are indexed lookups of one patient's rows, so that is a fraction of a millisecond.
//
// Each read is one SELECT answering at most one row of one json/jsonb column, usable as a scalar subquery;
// its parameters are $1..$n of its own, so its text holds no other '$'. The statement groups the reads by
// text ("kind"): each kind becomes one SELECT over the unnested arrays of its reads' parameters, one row per
// read, and the kinds are joined by UNION ALL. The statement's text therefore depends only on which kinds
// travel together, not on how many reads of each, so it can stay prepared however the reads fall.
import type { Queryable } from './db.ts';
import { turnBatcher } from './turn-batch.ts';

interface Pending {
  sql: string;
  params: readonly unknown[];
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** Reads per statement: large enough for a busy round, small enough that one statement never holds many up. */
const MAX_BATCH = 128;

/** Up to this many reads (a summary's four sources) go as columns of one row; more go in the array form. */
const SMALL_BATCH = 4;

/** Statements joining at most this many kinds are kept prepared; the kinds that meet in practice are few. */
const PREPARED_KINDS = 6;

/** Where a read's parameters live inside the statement; a name no read's own SQL uses. */
const ARGS = 'coalesced_args';

/** The single json value `sql` answers (null when it finds no row), parsed as both engines parse json. */
export function readJson<T>(q: Queryable, sql: string, params: readonly unknown[] = []): Promise<T | null> {
  return new Promise((resolve, reject) => enqueue(q, { sql, params, resolve: resolve as (v: unknown) => void, reject }));
}

const enqueue = turnBatcher<Pending>((q, batch) => {
  const shared: Pending[] = [];
  for (const p of batch) {
    // Parameters travel as text arrays; anything that is not a plain scalar (an array, a Date, a Buffer)
    // would change meaning on the way, so such a read goes alone.
    if (p.params.every(isScalar)) shared.push(p);
    else void runAlone(q, p);
  }
  for (let i = 0; i < shared.length; i += MAX_BATCH) void run(q, shared.slice(i, i + MAX_BATCH));
});

/** The one order of read texts both statement forms use, so that the same reads always make the same text. */
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const isScalar = (v: unknown): boolean => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** One read on its own, as `select (read)`. */
async function runAlone(q: Queryable, p: Pending): Promise<void> {
  try {
    const r = await q.query<{ v: unknown }>(`select (${p.sql}) as v`, p.params, { prepare: true });
    p.resolve(r.rows[0]?.v ?? null);
  } catch (err) {
    p.reject(err);
  }
}

async function run(q: Queryable, batch: Pending[]): Promise<void> {
  if (batch.length === 1) return runAlone(q, batch[0]!);
  try {
    if (batch.length <= SMALL_BATCH) {
      // One request's reads: `select (read₀) as r0, (read₁) as r1, ...` with the parameters renumbered, the
      // reads in text order so that the same reads make the same text whatever order they were asked in.
      // For a batch this small one row of columns costs PostgreSQL less than the array form.
      const sorted = [...batch].sort((a, b) => byText(a.sql, b.sql));
      const params: unknown[] = [];
      const columns = sorted.map((p, i) => {
        const offset = params.length;
        params.push(...p.params);
        return `(${p.sql.replace(/\$(\d+)/g, (_m, n: string) => `$${Number(n) + offset}`)}) as r${i}`;
      });
      const r = await q.query<Record<string, unknown>>(`select ${columns.join(', ')}`, params, { prepare: true });
      const row = r.rows[0] ?? {};
      sorted.forEach((p, i) => p.resolve(row[`r${i}`] ?? null));
      return;
    }
    const { sql, params, kinds, slots } = coalescedStatement(batch);
    const r = await q.query<{ k: number; i: number; v: unknown }>(sql, params, { prepare: kinds <= PREPARED_KINDS });
    const answers = new Map(r.rows.map((row) => [`${row.k}:${row.i}`, row.v]));
    batch.forEach((p, n) => p.resolve(answers.get(slots[n]!) ?? null));
  } catch {
    // One bad read must not fail the others that happened to travel with it: each is asked again alone.
    for (const p of batch) void runAlone(q, p);
  }
}

/**
 * `select 0 as k, a.i, (read₀ with $n -> a.cn)::json as v from unnest((select $1::text[]), ...) with ordinality a(c1, ..., i)
 *  union all select 1, ...`: the kinds in text order, so the same kinds always make the same text.
 */
export function coalescedStatement(batch: readonly Pick<Pending, 'sql' | 'params'>[]): {
  sql: string;
  params: unknown[];
  kinds: number;
  /** Per read, in the batch's order, the `k:i` of the row that answers it. */
  slots: string[];
} {
  const byKind = new Map<string, (readonly unknown[])[]>();
  for (const p of batch) {
    const list = byKind.get(p.sql);
    if (list) list.push(p.params);
    else byKind.set(p.sql, [p.params]);
  }
  const texts = [...byKind.keys()].sort(byText);
  const kindOf = new Map(texts.map((t, k) => [t, k]));
  const seen = texts.map(() => 0);
  const slots = batch.map((p) => {
    const k = kindOf.get(p.sql)!;
    return `${k}:${++seen[k]!}`;
  });
  const params: unknown[] = [];
  const selects = texts.map((text, k) => {
    const reads = byKind.get(text)!;
    const arity = Math.max(...reads.map((r) => r.length));
    const inner = text.replace(/\$(\d+)/g, (_m, n: string) => `${ARGS}.c${n}`);
    if (arity === 0) {
      params.push(reads.length);
      return `select ${k} as k, ${ARGS}.i::int as i, (${inner})::json as v from generate_series(1, (select $${params.length}::int)) as ${ARGS}(i)`;
    }
    // Each array is wrapped in a sub-select so that the planner cannot see its length, prepared or not: it
    // then judges one plan for every run good enough and keeps it, instead of planning again for each
    // run's array lengths (which costs more than the plans differ).
    const arrays: string[] = [];
    const columns: string[] = [];
    for (let n = 1; n <= arity; n++) {
      params.push(reads.map((r) => (r[n - 1] === undefined || r[n - 1] === null ? null : String(r[n - 1]))));
      arrays.push(`(select $${params.length}::text[])`);
      columns.push(`c${n}`);
    }
    return `select ${k} as k, ${ARGS}.i::int as i, (${inner})::json as v from unnest(${arrays.join(', ')}) with ordinality as ${ARGS}(${columns.join(', ')}, i)`;
  });
  return { sql: selects.join('\nunion all\n'), params, kinds: texts.length, slots };
}
