// Who reads which part of the audit log: the AuditEvent route's declaration (citizen and auditor; the
// patient from `patient`/`patient:identifier`, or the citizen themself) decided as the router decides it.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import { isProblem, type Problem } from '../../src/fhir/outcomes.ts';
import { decideRequest } from '../../src/http/decide.ts';
import { auditRoutes } from '../../src/http/handlers/audit.ts';
import type { Decided, FhirRequest, ProtectedRoute, RouteContext } from '../../src/http/types.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import type { Db } from '../../src/store/db.ts';
import { seedDemo } from '../../src/demo/seed.ts';
import { getTestDb } from '../support/db.ts';
import { testCitizen, testClinician, testSystem } from '../auth/principals.ts';

const route = auditRoutes[0] as ProtectedRoute<undefined>;
const citizen = (fnr: string, scope = 'patient/AuditEvent.rs') => testCitizen(fnr, scope);
const auditor = testSystem('auditor', 'system/AuditEvent.rs', { role: 'auditor' });
const addison = citizen(PERSONAS.addison.fnr);

describe('the audit log route decides who reads which log', () => {
  let db: Db;
  beforeAll(async () => {
    db = await getTestDb('pglite');
    await seedDemo(db, 0);
  });

  const decide = async (who: Principal, qs: string): Promise<Decided<undefined> | Problem> => {
    const req: FhirRequest = { method: 'GET', params: {}, query: new URLSearchParams(qs), body: undefined, bodyKind: undefined, headers: {}, baseUrl: '', lang: 'en', requestId: 'audit-access' };
    const ctx: RouteContext = {
      db,
      config: loadConfig({}),
      log: createLogger('silent'),
      principal: who,
      audit: {},
      patientFacts: async (p) => ({ ...p, kjernejournalReserved: false, guardianAccessReserved: false, restrictions: [] }),
    };
    return decideRequest(route.access, who, req, ctx);
  };
  const refused = async (who: Principal, qs: string): Promise<Problem> => {
    const r = await decide(who, qs);
    if (!isProblem(r)) throw new Error(`expected a refusal, got ${JSON.stringify(r.patient)}`);
    return r;
  };

  it('a citizen naming no one reads their own log; naming themselves by reference or identifier, too', async () => {
    for (const qs of ['', 'patient=Patient/addison', `patient:identifier=${OID.fnr}|${PERSONAS.addison.fnr}`]) {
      const d = await decide(addison, qs);
      expect(isProblem(d) ? d : d.patient).toEqual({ id: 'addison', fnr: PERSONAS.addison.fnr });
    }
  });

  it.each([
    ['another patient by reference', 'patient=Patient/ms'],
    ['another patient by id', 'patient=ms'],
    ['another patient by identifier', `patient:identifier=${PERSONAS.ms.fnr}`],
    ['a patient Helsebro does not know', 'patient=Patient/unknown-1'],
  ])('a citizen is refused %s', async (_n, qs) => {
    const p = await refused(addison, qs);
    expect(p.status).toBe(403);
    expect(p.issues[0]?.details?.coding?.map((c) => c.code)).toContain('ACCESS-CITIZEN-OWN-ONLY');
    expect(JSON.stringify(p)).not.toContain(PERSONAS.ms.fnr);
  });

  it('a citizen needs the patient/AuditEvent scope', async () => {
    const p = await refused(citizen(PERSONAS.addison.fnr, 'patient/Patient.r'), '');
    expect(p.issues[0]?.details?.coding?.map((c) => c.code)).toEqual(['ACCESS-SCOPE']);
  });

  it('a guardian does not read the log of the person they act for (not modelled yet)', async () => {
    const guardian = testCitizen(PERSONAS.knee.fnr, 'patient/AuditEvent.rs', { actingFor: { fnr: PERSONAS.child.fnr, relation: 'guardian' } });
    expect((await refused(guardian, 'patient=Patient/child')).status).toBe(403);
  });

  it('the auditor reads the whole log, one patient, or one Helsebro does not know', async () => {
    const whole = await decide(auditor, '');
    expect(!isProblem(whole) && whole.patient).toBe(undefined);
    const ms = await decide(auditor, 'patient=Patient/ms');
    expect(!isProblem(ms) && ms.patient).toEqual({ id: 'ms', fnr: PERSONAS.ms.fnr });
    expect(isProblem(await decide(auditor, 'patient=gone-1'))).toBe(false);
  });

  it('a clinician, whatever AuditEvent scope the token carries, is refused', async () => {
    const gp = testClinician('user/AuditEvent.rs');
    for (const qs of ['', 'patient=Patient/ms']) expect((await refused(gp, qs)).issues[0]?.details?.coding?.map((c) => c.code)).toContain('ACCESS-ROLE');
  });

  it.each([
    ['both patient forms', 'patient=ms&patient:identifier=05886610019'],
    ['a patient reference with markup', 'patient=Patient/<script>'],
    ['an identifier of another system', `patient:identifier=${OID.hpr}|9144889`],
    ['an identifier without a value', `patient:identifier=${OID.fnr}|`],
  ])('bad request: %s', async (_n, qs) => {
    expect((await refused(auditor, qs)).status).toBe(400);
  });
});
