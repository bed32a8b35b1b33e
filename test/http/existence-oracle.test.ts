// A citizen may read only their own records, so nothing they are refused may tell them whether a record of
// someone else exists: an unknown id or fødselsnummer answers exactly as another person's does (403), while
// a miss on their own number stays a 404. The other roles keep their 404s: they may look anyone up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { DemoTokenOptions } from '../../src/auth/demo-issuer.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { syntheticFnr } from '../../src/demo/population.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import { engines } from '../support/db.ts';
import { DEMO_HPR, startTestServer, type TestServer } from '../support/server.ts';

const FNR = OID.fnr;
// Synthetic (Tenor range), valid check digits, and no one in the demo population.
const NOBODY = syntheticFnr('1961-04-17', () => 0.123);
const citizen = (fnr: string): DemoTokenOptions => ({ patient: fnr, scope: 'patient/*.rs' });
const clinician: DemoTokenOptions = { hpr: DEMO_HPR, scope: 'user/*.rs' };

describe.each(engines)('what a refusal tells a citizen (%s)', (engine) => {
  let srv: TestServer;
  const get = async (who: DemoTokenOptions, path: string): Promise<{ status: number; outcome: OperationOutcome }> => {
    const res = await fetch(`${srv.url}/fhir${path}`, { headers: { authorization: `Bearer ${await srv.token(who)}` } });
    return { status: res.status, outcome: (await res.json()) as OperationOutcome };
  };
  const shape = (o: OperationOutcome) => o.issue.map((i) => ({ code: i.code, diagnostics: i.diagnostics, rule: i.details?.coding?.[0]?.code }));

  beforeAll(async () => {
    srv = await startTestServer(engine);
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('the fødselsnummer used as "nobody" is no one in the population', async () => {
    expect((await get(clinician, `/Patient/$summary?identifier=${FNR}|${NOBODY}`)).status).toBe(404);
  });

  it.each([
    ['a Patient read', (id: string) => `/Patient/${id}`],
    ['a summary by path', (id: string) => `/Patient/${id}/$summary`],
    ['a plain search', (id: string) => `/Condition?patient=Patient/${id}`],
  ])('%s: an unknown id answers as another person\'s does', async (_what, path) => {
    const someoneElse = await get(citizen(PERSONAS.addison.fnr), path(PERSONAS.ms.id));
    const unknown = await get(citizen(PERSONAS.addison.fnr), path('no-such-patient'));
    expect(someoneElse.status).toBe(403);
    expect(unknown.status).toBe(403);
    expect(shape(unknown.outcome)).toEqual(shape(someoneElse.outcome));
    expect(shape(unknown.outcome)[0]?.rule).toBe('ACCESS-CITIZEN-OWN-ONLY');
  });

  it('a summary by identifier: a number Helsebro does not hold answers as another person\'s does', async () => {
    const someoneElse = await get(citizen(PERSONAS.addison.fnr), `/Patient/$summary?identifier=${FNR}|${PERSONAS.ms.fnr}`);
    const unknown = await get(citizen(PERSONAS.addison.fnr), `/Patient/$summary?identifier=${FNR}|${NOBODY}`);
    expect([someoneElse.status, unknown.status]).toEqual([403, 403]);
    expect(shape(unknown.outcome)).toEqual(shape(someoneElse.outcome));
  });

  it('a citizen asking for their own number, which Helsebro does not hold, is told it is not found', async () => {
    const own = await get(citizen(NOBODY), `/Patient/$summary?identifier=${FNR}|${NOBODY}`);
    expect(own.status).toBe(404);
    expect(own.outcome.issue[0]?.code).toBe('not-found');
  });

  it('a guardian asking for the child they act for keeps the 404 of a miss; anyone else answers 403', async () => {
    const guardian: DemoTokenOptions = { patient: PERSONAS.addison.fnr, actingFor: { fnr: NOBODY, relation: 'guardian' }, scope: 'patient/*.rs' };
    expect((await get(guardian, `/Patient/$summary?identifier=${FNR}|${NOBODY}`)).status).toBe(404);
    expect((await get(guardian, `/Patient/no-such-patient`)).status).toBe(403);
  });

  it('a clinician, who may look anyone up, still gets 404 for an unknown patient', async () => {
    expect((await get(clinician, '/Patient/no-such-patient')).status).toBe(404);
    expect((await get(clinician, '/Patient/no-such-patient/$summary')).status).toBe(404);
  });

  it('malformed requests stay 400 for a citizen: the request, not a person, is wrong', async () => {
    const bad = await get(citizen(PERSONAS.addison.fnr), '/Condition?patient=Patient/<script>');
    expect(bad.status).toBe(400);
  });
});
