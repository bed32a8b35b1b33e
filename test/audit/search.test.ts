import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAuditEvent } from '../../src/audit/build.ts';
import { recordAudit, searchAudit, type AuditQuery } from '../../src/audit/repository.ts';
import { parseDateRange, planAuditSearch, type PatientResolver } from '../../src/audit/search.ts';
import type { Principal } from '../../src/auth/principal.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { isProblem, type Problem } from '../../src/fhir/outcomes.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import type { Db } from '../../src/store/db.ts';
import { engines, getTestDb } from '../support/db.ts';
import { testCitizen, testClinician, testSystem } from '../auth/principals.ts';

const citizen = (fnr: string, scope = 'patient/AuditEvent.rs') => testCitizen(fnr, scope);
const auditor = testSystem('audit-console', 'system/AuditEvent.rs');
const gp = testClinician();

/** The demo population as the patient registry would resolve it. */
const resolve: PatientResolver = async (ref) => {
  const list = Object.values(PERSONAS);
  const p = 'id' in ref ? list.find((x) => x.id === ref.id) : list.find((x) => x.fnr === ref.identifier.value);
  return p ? { id: p.id, fnr: p.fnr } : undefined;
};
const paging = { count: 20, offset: 0 };
const plan = (who: Principal, qs: string) => planAuditSearch(who, new URLSearchParams(qs), paging, resolve);
const problem = async (who: Principal, qs: string): Promise<Problem> => {
  const r = await plan(who, qs);
  if (!isProblem(r)) throw new Error(`expected a Problem, got ${JSON.stringify(r)}`);
  return r;
};

describe('planAuditSearch: a citizen reads the log of their own data', () => {
  const addison = citizen(PERSONAS.addison.fnr);

  it('without parameters: their own log, by fødselsnummer and their resolved id', async () => {
    expect(await plan(addison, '')).toEqual({ patientFnr: PERSONAS.addison.fnr, patientId: 'addison', ...paging });
  });

  it('naming themselves by reference or by identifier', async () => {
    expect(await plan(addison, 'patient=Patient/addison')).toMatchObject({ patientFnr: PERSONAS.addison.fnr, patientId: 'addison' });
    expect(await plan(addison, `patient:identifier=${OID.fnr}|${PERSONAS.addison.fnr}`)).toMatchObject({ patientFnr: PERSONAS.addison.fnr });
  });

  it.each([
    ['another patient by reference', 'patient=Patient/ms'],
    ['another patient by id', 'patient=ms'],
    ['another patient by identifier', `patient:identifier=${PERSONAS.ms.fnr}`],
    ['a patient Helsebro does not know', 'patient=Patient/unknown-1'],
  ])('is refused for %s', async (_n, qs) => {
    const p = await problem(addison, qs);
    expect(p.status).toBe(403);
    expect(p.issues[0]?.details?.coding?.[0]?.code).toBe('ACCESS-CITIZEN-OWN-ONLY');
    expect(p.issues[0]?.diagnostics).not.toContain(PERSONAS.ms.fnr);
  });

  it('needs the patient/AuditEvent scope', async () => {
    const p = await problem(citizen(PERSONAS.addison.fnr, 'patient/Patient.r'), '');
    expect(p.status).toBe(403);
    expect(p.issues[0]?.details?.coding?.[0]?.code).toBe('ACCESS-SCOPE');
  });
});

describe('planAuditSearch: the auditor scope reads everything', () => {
  it('the whole log, one patient, or a time window', async () => {
    expect(await plan(auditor, '')).toEqual({ patientFnr: undefined, patientId: undefined, ...paging });
    expect(await plan(auditor, 'patient=Patient/ms')).toMatchObject({ patientFnr: PERSONAS.ms.fnr, patientId: 'ms' });
    expect(await plan(auditor, 'patient=gone-1')).toMatchObject({ patientId: 'gone-1', patientFnr: undefined });
    expect(await plan(auditor, 'date=ge2026-03-01&date=lt2026-04-01')).toMatchObject({
      since: new Date('2026-03-01T00:00:00Z'),
      until: new Date('2026-04-01T00:00:00Z'),
    });
  });

  it('a clinician without the auditor scope is refused', async () => {
    expect((await problem(gp, 'patient=Patient/ms')).status).toBe(403);
  });

  it.each([
    ['both patient forms', 'patient=ms&patient:identifier=05886610019'],
    ['a patient reference with markup', 'patient=Patient/<script>'],
    ['an identifier of another system', `patient:identifier=${OID.hpr}|9144889`],
    ['an identifier without a value', `patient:identifier=${OID.fnr}|`],
    ['a malformed date', 'date=2026-13-01'],
    ['a date with time but no zone', 'date=ge2026-03-01T10:00'],
  ])('bad request: %s', async (_n, qs) => {
    expect((await problem(auditor, qs)).status).toBe(400);
  });
});

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

    const q = (await plan(citizen(PERSONAS.knee.fnr), `date=ge${year}-03-01&date=lt${year}-04-01`)) as AuditQuery;
    const page = await searchAudit(db, q);
    const mine = page.events.filter((e) => e.entity?.some((x) => x.what?.identifier?.value === run));
    expect(mine).toHaveLength(2);
    for (const e of page.events) {
      expect(e.entity?.find((x) => x.role?.code === '1')?.what?.identifier?.value).toBe(PERSONAS.knee.fnr);
    }
  });
});
