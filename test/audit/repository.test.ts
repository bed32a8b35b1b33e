import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordAudit, searchAudit } from '../../src/audit/repository.ts';
import type { Db } from '../../src/store/db.ts';
import { engines, getTestDb } from '../support/db.ts';
import { event, syntheticFnr } from './support/events.ts';

describe.each(engines)('audit_event store (%s)', (engine) => {
  let db: Db;
  beforeAll(async () => {
    db = await getTestDb(engine);
  });

  it('stores an event with a generated id and finds it by fødselsnummer and by patient id', async () => {
    const fnr = syntheticFnr();
    const id = `p-${randomUUID()}`;
    const stored = await recordAudit(db, event({ id, fnr }, '2026-03-01T10:00:00Z'));
    expect(stored.id).toMatch(/^[0-9a-f-]{36}$/);
    const byFnr = await searchAudit(db, { patientFnr: fnr, count: 10, offset: 0 });
    expect(byFnr.total).toBe(1);
    expect(byFnr.events[0]).toEqual(stored);
    const byId = await searchAudit(db, { patientId: id, count: 10, offset: 0 });
    expect(byId.events.map((e) => e.id)).toEqual([stored.id]);
  });

  it('matches events recorded with only the id or only the fødselsnummer when both are asked for', async () => {
    const fnr = syntheticFnr();
    const id = `p-${randomUUID()}`;
    await recordAudit(db, event({ fnr }, '2026-03-01T10:00:00Z'));
    await recordAudit(db, event({ id }, '2026-03-02T10:00:00Z'));
    await recordAudit(db, event({ fnr: syntheticFnr() }, '2026-03-03T10:00:00Z'));
    const page = await searchAudit(db, { patientFnr: fnr, patientId: id, count: 10, offset: 0 });
    expect(page.total).toBe(2);
  });

  it('returns newest first, pages, and filters by time', async () => {
    const fnr = syntheticFnr();
    for (const day of ['01', '02', '03', '04', '05']) await recordAudit(db, event({ fnr }, `2026-04-${day}T08:00:00Z`));
    const first = await searchAudit(db, { patientFnr: fnr, count: 2, offset: 0 });
    expect(first.total).toBe(5);
    expect(first.events.map((e) => e.recorded)).toEqual(['2026-04-05T08:00:00.000Z', '2026-04-04T08:00:00.000Z']);
    const third = await searchAudit(db, { patientFnr: fnr, count: 2, offset: 4 });
    expect(third.events.map((e) => e.recorded)).toEqual(['2026-04-01T08:00:00.000Z']);
    const window = await searchAudit(db, {
      patientFnr: fnr,
      since: new Date('2026-04-02T00:00:00Z'),
      until: new Date('2026-04-04T08:00:00Z'),
      count: 10,
      offset: 0,
    });
    expect(window.events.map((e) => e.recorded)).toEqual(['2026-04-03T08:00:00.000Z', '2026-04-02T08:00:00.000Z']);
  });

  it("counts a patient's whole log on every kind of page: first, offset, past the end, keyset, a count of zero", async () => {
    const fnr = syntheticFnr();
    for (const day of ['01', '02', '03', '04', '05']) await recordAudit(db, event({ fnr }, `2026-07-${day}T08:00:00Z`));
    const first = await searchAudit(db, { patientFnr: fnr, count: 2, offset: 0 });
    expect(first.total).toBe(5);
    expect((await searchAudit(db, { patientFnr: fnr, count: 2, offset: 2 })).total).toBe(5);
    expect(await searchAudit(db, { patientFnr: fnr, count: 2, offset: 9 })).toEqual({ events: [], total: 5 });
    expect((await searchAudit(db, { patientFnr: fnr, count: 0, offset: 0 })).total).toBe(5);
    const last = first.events[1]!;
    const next = await searchAudit(db, { patientFnr: fnr, count: 2, offset: 0, after: { recorded: new Date(last.recorded!), id: last.id! } });
    expect(next.total).toBe(5);
    expect(next.events.map((e) => e.recorded)).toEqual(['2026-07-03T08:00:00.000Z', '2026-07-02T08:00:00.000Z']);
    // Counted within the time window asked for, as the page is.
    const window = await searchAudit(db, { patientFnr: fnr, since: new Date('2026-07-04T00:00:00Z'), count: 1, offset: 0 });
    expect(window.total).toBe(2);
    expect(first.events[0]).not.toHaveProperty('total');
  });

  it('the whole log (auditor) is newest first, without a total', async () => {
    const fnr = syntheticFnr();
    const latest = await recordAudit(db, event({ fnr }, '2099-01-01T00:00:00Z'));
    const page = await searchAudit(db, { count: 1, offset: 0 });
    expect(page.total).toBeUndefined();
    expect(page.events[0]?.id).toBe(latest.id);
  });

  it('is append-only: UPDATE, DELETE and TRUNCATE are refused and the row is unchanged', async () => {
    const fnr = syntheticFnr();
    const stored = await recordAudit(db, event({ fnr }, '2026-05-01T12:00:00Z'));
    await expect(db.query(`update audit_event set outcome = '8' where id = $1`, [stored.id])).rejects.toThrow(/append-only/);
    await expect(db.query(`update audit_event set resource = '{}'::jsonb where patient_fnr = $1`, [fnr])).rejects.toThrow(/append-only/);
    await expect(db.query('delete from audit_event where id = $1', [stored.id])).rejects.toThrow(/append-only/);
    await expect(db.query('truncate audit_event')).rejects.toThrow(/append-only/);
    const page = await searchAudit(db, { patientFnr: fnr, count: 10, offset: 0 });
    expect(page.events).toEqual([stored]);
  });

  it('is written in the caller\'s transaction: a rolled-back write leaves no audit row', async () => {
    const fnr = syntheticFnr();
    await expect(
      db.tx(async (q) => {
        await recordAudit(q, event({ fnr }, '2026-06-01T12:00:00Z', { action: 'C', interaction: 'create' }));
        throw new Error('the write failed');
      }),
    ).rejects.toThrow('the write failed');
    expect((await searchAudit(db, { patientFnr: fnr, count: 10, offset: 0 })).total).toBe(0);
    await db.tx((q) => recordAudit(q, event({ fnr }, '2026-06-01T12:00:00Z', { action: 'C', interaction: 'create' })));
    expect((await searchAudit(db, { patientFnr: fnr, count: 10, offset: 0 })).total).toBe(1);
  });

  it('events written at once go to the store as one statement, and each comes back whole', async () => {
    const statements: string[] = [];
    const counting = { query: ((sql: string, params?: readonly unknown[], opts?: object) => {
      statements.push(sql);
      return db.query(sql, params, opts);
    }) as Db['query'] };
    const fnrs = Array.from({ length: 12 }, () => syntheticFnr());
    // Text the array form must carry unchanged: quotes, backslashes, braces, commas, NUL-free unicode, and
    // a patient known only by fødselsnummer (a null id column).
    const odd = 'O\'Brien "Q" \\ {a,b} æøå ✓ NULL';
    const written = await Promise.all(
      fnrs.map((fnr, i) =>
        recordAudit(counting, {
          ...event(i % 2 ? { fnr } : { fnr, id: `p-${i}` }, '2026-08-01T09:00:00Z'),
          source: { observer: { display: odd }, type: [{ code: String(i) }] },
        }),
      ),
    );
    expect(statements.filter((s) => /insert into audit_event/.test(s))).toHaveLength(1);
    for (const [i, fnr] of fnrs.entries()) {
      const page = await searchAudit(db, { patientFnr: fnr, count: 10, offset: 0 });
      expect(page.events).toEqual([written[i]]);
      expect(page.events[0]!.source?.observer?.display).toBe(odd);
    }
    const ids = await db.query<{ patient_id: string | null }>('select patient_id from audit_event where patient_fnr = $1', [fnrs[1]]);
    expect(ids.rows).toEqual([{ patient_id: null }]);
  });

  it('an event the table refuses fails alone: the events written with it are stored', async () => {
    const fnrs = Array.from({ length: 5 }, () => syntheticFnr());
    const results = await Promise.allSettled(
      fnrs.map((fnr, i) => recordAudit(db, { ...event({ fnr }, '2026-08-02T09:00:00Z'), ...(i === 2 ? { action: 'X' as never } : {}) })),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/check constraint/);
    for (const [i, fnr] of fnrs.entries()) {
      expect((await searchAudit(db, { patientFnr: fnr, count: 10, offset: 0 })).total).toBe(i === 2 ? 0 : 1);
    }
  });

  it('refuses events without a request id or with an invalid time, and replaces a non-uuid id', async () => {
    const fnr = syntheticFnr();
    const e = event({ fnr }, '2026-07-01T12:00:00Z');
    await expect(recordAudit(db, { ...e, entity: e.entity?.filter((x) => x.type?.code !== 'XrequestId') })).rejects.toThrow(/request id/);
    await expect(recordAudit(db, { ...e, recorded: 'not a time' })).rejects.toThrow(/recorded/);
    const stored = await recordAudit(db, { ...e, id: "x'; drop table audit_event; --" });
    expect(stored.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('has the indexes a patient\'s log and the time-ordered log need', async () => {
    const r = await db.query<{ indexname: string; indexdef: string }>(
      `select indexname, indexdef from pg_indexes where tablename = 'audit_event' order by indexname`,
    );
    const defs = r.rows.map((x) => x.indexdef).join('\n');
    expect(defs).toMatch(/\(patient_fnr, recorded DESC\)/);
    expect(defs).toMatch(/\(patient_id, recorded DESC\)/);
    expect(defs).toMatch(/\(recorded DESC\)/);
  });
});
