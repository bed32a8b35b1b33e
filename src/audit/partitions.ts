// Monthly partitions of the audit log (migration 0170): the coming months are created ahead of time, at
// start-up and then daily, so events land in their month's partition rather than the default one. Creating
// a partition that exists already is a no-op, so several instances may all do it.
import type { Queryable } from '../store/db.ts';

/** How many months after the current one get their partition ahead of time. */
export const MONTHS_AHEAD = 2;

/** Ensures a partition for the month of `now` and the next `ahead` months; returns their table names. */
export async function ensureAuditPartitions(q: Queryable, now = new Date(), ahead = MONTHS_AHEAD): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i <= ahead; i++) {
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + i, 1));
    const r = await q.query<{ name: string | null }>('select audit_event_ensure_month($1) as name', [month.toISOString()]);
    const name = r.rows[0]?.name;
    if (name) names.push(name);
  }
  return names;
}

/** Keeps partitions ahead of the calendar while the process runs; the timer never holds the process open. */
export function keepAuditPartitionsAhead(q: Queryable, onError: (err: unknown) => void, everyMs = 24 * 60 * 60 * 1000): { stop(): void } {
  const timer = setInterval(() => {
    ensureAuditPartitions(q).catch(onError);
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
