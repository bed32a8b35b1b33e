import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAuditEvent } from '../../src/audit/build.ts';
import { recordAudit, searchAudit, type AuditQuery } from '../../src/audit/repository.ts';
import { parseDateRange } from '../../src/audit/search.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { isProblem } from '../../src/fhir/outcomes.ts';
import type { Db } from '../../src/store/db.ts';
import { engines, getTestDb } from '../support/db.ts';
import { testClinician } from '../auth/principals.ts';

const gp = testClinician();

describe('parseDateRange', () => {
  const range = (...values: string[]) => {
    const r = parseDateRange(values);
    if (isProblem(r)) throw new Error(r.issues[0]?.diagnostics);
    return { since: r.since?.toISOString(), until: r.until?.toISOString() };
  };
  it.each([
    [['2026'], '2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    [['2026-02'], '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
    [['eq2026-02-28'], '2026-02-28T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
    [['ge2026-02-28'], '2026-02-28T00:00:00.000Z', undefined],
    [['gt2026-02-28'], '2026-03-01T00:00:00.000Z', undefined],
    [['lt2026-02-28'], undefined, '2026-02-28T00:00:00.000Z'],
    [['le2026-02-28'], undefined, '2026-03-01T00:00:00.000Z'],
    [['ge2026-03-14T10:15:00+01:00'], '2026-03-14T09:15:00.000Z', undefined],
    [['le2026-03-14T10:15Z'], undefined, '2026-03-14T10:16:00.000Z'],
    [['ge2026-01-01', 'ge2026-02-01', 'lt2026-12-01', 'lt2026-06-01'], '2026-02-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z'],
    [[], undefined, undefined],
  ])('%j', (values, since, until) => {
    expect(range(...values)).toEqual({ since, until });
  });

  it.each(['2026-02-30', '2026-00', 'ge2026-03-14T25:00:00Z', 'ne2026', 'yesterday', '2026-03-14T10:00:00'])('refuses %j', (v) => {
    expect(isProblem(parseDateRange([v]))).toBe(true);
  });
});

describe.each(engines)('the citizen\'s log end to end (%s)', (engine) => {
  let db: Db;
  beforeAll(async () => {
    db = await getTestDb(engine);
  });

  it('a citizen sees who read their data, and nothing about anyone else', async () => {
    // Persona fnrs are shared with other tests' audit rows: a far-future month and a unique request id
    // keep this test's own rows apart.
    const run = randomUUID();
    const year = 2091;
    const record = (patient: { id: string; fnr: string }, day: number) =>
      recordAudit(
        db,
        buildAuditEvent({
          principal: gp,
          patient,
          action: 'R',
          interaction: 'read',
          resourceType: 'Patient',
          resourceId: patient.id,
          outcome: '0',
          requestId: run,
          at: new Date(Date.UTC(year, 2, day)),
        }),
      );
    await record({ id: 'knee', fnr: PERSONAS.knee.fnr }, 1);
    await record({ id: 'knee', fnr: PERSONAS.knee.fnr }, 2);
    await record({ id: 'ms', fnr: PERSONAS.ms.fnr }, 3);

    // The query the AuditEvent route makes for a citizen naming no one: their own log, in a date window.
    const range = parseDateRange([`ge${year}-03-01`, `lt${year}-04-01`]);
    if (isProblem(range)) throw new Error('range');
    const q: AuditQuery = { patientFnr: PERSONAS.knee.fnr, patientId: 'knee', ...range, count: 20, offset: 0 };
    const page = await searchAudit(db, q);
    const mine = page.events.filter((e) => e.entity?.some((x) => x.what?.identifier?.value === run));
    expect(mine).toHaveLength(2);
    for (const e of page.events) {
      expect(e.entity?.find((x) => x.role?.code === '1')?.what?.identifier?.value).toBe(PERSONAS.knee.fnr);
    }
  });
});
