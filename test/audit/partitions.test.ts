// The audit log partitioned by month (migration 0170): events land in their month's partition, a month
// without one falls into the default partition rather than failing, and every partition is append-only.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureAuditPartitions } from '../../src/audit/partitions.ts';
import { recordAudit, searchAudit } from '../../src/audit/repository.ts';
import type { Db } from '../../src/store/db.ts';
import { engines, getTestDb } from '../support/db.ts';
import { event, syntheticFnr } from './support/events.ts';

// Months no other test writes to: partitions and rows outlive a test in the worker's shared store.
const JANUARY = new Date('2033-01-15T00:00:00Z');

describe.each(engines)('audit_event partitions (%s)', (engine) => {
  let db: Db;
  beforeAll(async () => {
    db = await getTestDb(engine);
  });

  const partitionOf = async (id: string): Promise<string> =>
    (await db.query<{ p: string }>('select tableoid::regclass::text as p from audit_event where id = $1', [id])).rows[0]!.p;

  it('creates this month and the ones ahead, and doing it again changes nothing', async () => {
    const first = await ensureAuditPartitions(db, JANUARY, 2);
    expect(first).toEqual(['audit_event_y2033m01', 'audit_event_y2033m02', 'audit_event_y2033m03']);
    expect(await ensureAuditPartitions(db, JANUARY, 2)).toEqual(first);
  });

  it('writes across a month boundary into two partitions, and reads them back as one log', async () => {
    await ensureAuditPartitions(db, JANUARY, 1);
    const fnr = syntheticFnr();
    const before = await recordAudit(db, event({ fnr }, '2033-01-31T23:59:59.999Z'));
    const after = await recordAudit(db, event({ fnr }, '2033-02-01T00:00:00.000Z'));
    expect(await partitionOf(before.id)).toBe('audit_event_y2033m01');
    expect(await partitionOf(after.id)).toBe('audit_event_y2033m02');
    const log = await searchAudit(db, { patientFnr: fnr, count: 10, offset: 0 });
    expect(log.total).toBe(2);
    expect(log.events.map((e) => e.id)).toEqual([after.id, before.id]);
  });

  it('keeps an event of a month without a partition in the default partition, and leaves that month there', async () => {
    const fnr = syntheticFnr();
    const old = await recordAudit(db, event({ fnr }, '1999-05-17T08:00:00Z'));
    expect(await partitionOf(old.id)).toBe('audit_event_default');
    // Moving it to a new partition would take a DELETE, which the log refuses: the month stays in default.
    expect(await ensureAuditPartitions(db, new Date('1999-05-01T00:00:00Z'), 0)).toEqual([]);
    expect((await searchAudit(db, { patientFnr: fnr, count: 10, offset: 0 })).events.map((e) => e.id)).toEqual([old.id]);
  });

  it('refuses update, delete and truncate on the log and on every partition, the default one included', async () => {
    await ensureAuditPartitions(db, JANUARY, 0);
    const stored = await recordAudit(db, event({ fnr: syntheticFnr() }, '2033-01-20T12:00:00Z'));
    const partitions = (
      await db.query<{ name: string }>(
        `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
         where i.inhparent = 'audit_event'::regclass order by 1`,
      )
    ).rows.map((r) => r.name);
    expect(partitions).toEqual(expect.arrayContaining(['audit_event_default', 'audit_event_y2033m01']));
    for (const table of ['audit_event', ...partitions]) {
      await expect(db.query(`update ${table} set outcome = '8' where id = $1`, [stored.id]), table).rejects.toThrow(/append-only/);
      await expect(db.query(`delete from ${table} where id = $1`, [stored.id]), table).rejects.toThrow(/append-only/);
      await expect(db.query(`truncate ${table}`), table).rejects.toThrow(/append-only/);
    }
    const day = await searchAudit(db, { since: new Date('2033-01-20T00:00:00Z'), until: new Date('2033-01-21T00:00:00Z'), count: 1000, offset: 0 });
    expect(day.events.map((e) => e.id)).toContain(stored.id);
  });
});
