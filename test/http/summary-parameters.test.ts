// $summary and $ehdsi-ps read their parameters as every other operation does (the shared reader, by the
// operation's definition), and they do it in the patient locator, before the access decision: a call that
// names two patients, a path and a body that disagree, a repeated level or a parameter the operation does
// not take is a 400 naming the parameter, never answered with the first value.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { PERSONAS } from '../../src/demo/personas.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import { upsertPatient } from '../../src/store/patients.ts';
import { seedDemoSummarySources } from '../../src/summary/seed.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const SCOPE = 'system/Patient.r system/Condition.rs system/AllergyIntolerance.rs system/MedicationStatement.rs';
const JSON_CT = { 'content-type': 'application/fhir+json' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const fnrOf = (p: { fnr: string }) => `${OID.fnr}|${p.fnr}`;
const q = (s: string) => encodeURIComponent(s);
const ms = PERSONAS.ms;
const addison = PERSONAS.addison;
const parameters = (...parameter: object[]) => JSON.stringify({ resourceType: 'Parameters', parameter });
const ident = (p: { fnr: string }) => ({ name: 'identifier', valueIdentifier: { system: OID.fnr, value: p.fnr } });

type Case = [label: string, path: string, init: RequestInit, expression: string[]];

const refused = (op: 'summary' | 'ehdsi-ps'): Case[] => [
  ['a parameter it does not take (instance)', `/fhir/Patient/${ms.id}/$${op}?bogus=1`, {}, ['bogus']],
  ['a search parameter (instance)', `/fhir/Patient/${ms.id}/$${op}?_count=-1`, {}, ['_count']],
  ['_elements, which operations do not apply', `/fhir/Patient/${ms.id}/$${op}?_elements=id`, {}, ['_elements']],
  ['two identifiers in the query', `/fhir/Patient/$${op}?identifier=${q(fnrOf(ms))}&identifier=${q(fnrOf(addison))}`, {}, ['identifier']],
  ['an identifier with a parameter it does not take', `/fhir/Patient/$${op}?identifier=${q(fnrOf(ms))}&bogus=1`, {}, ['bogus']],
  ['an identifier at instance level (the path names the patient)', `/fhir/Patient/${ms.id}/$${op}?identifier=${q(fnrOf(addison))}`, {}, ['identifier']],
  ['an identifier at instance level naming the same patient', `/fhir/Patient/${ms.id}/$${op}?identifier=${q(fnrOf(ms))}`, {}, ['identifier']],
  ['two identifiers in a Parameters body', `/fhir/Patient/$${op}`, { method: 'POST', headers: JSON_CT, body: parameters(ident(ms), ident(addison)) }, ['identifier']],
  ['two identifiers in a Parameters body, the other way round', `/fhir/Patient/$${op}`, { method: 'POST', headers: JSON_CT, body: parameters(ident(addison), ident(ms)) }, ['identifier']],
  [
    'an identifier in the query and another in the body',
    `/fhir/Patient/$${op}?identifier=${q(fnrOf(addison))}`,
    { method: 'POST', headers: JSON_CT, body: parameters(ident(ms)) },
    ['identifier'],
  ],
  [
    'a form with an identifier, a parameter it does not take and a search parameter',
    `/fhir/Patient/$${op}`,
    { method: 'POST', headers: FORM, body: `identifier=${q(fnrOf(ms))}&bogus=1&_count=-5` },
    ['bogus'],
  ],
  [
    'a Parameters body with a parameter it does not take',
    `/fhir/Patient/$${op}`,
    { method: 'POST', headers: JSON_CT, body: parameters(ident(ms), { name: 'bogus', valueString: 'x' }) },
    ['Parameters.parameter[1]'],
  ],
  ['an identifier with no value in a Parameters body', `/fhir/Patient/$${op}`, { method: 'POST', headers: JSON_CT, body: parameters({ name: 'identifier', valueIdentifier: { system: OID.fnr } }) }, ['Parameters.parameter[0]']],
];

const summaryOnly: Case[] = [
  [
    'a body identifier contradicting the path',
    `/fhir/Patient/${ms.id}/$summary`,
    { method: 'POST', headers: JSON_CT, body: parameters(ident(addison)) },
    ['identifier'],
  ],
  // IPS's profile: Helsebro makes one kind of document and says so rather than answering another.
  ['profile', `/fhir/Patient/${ms.id}/$summary?profile=${q('http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips')}`, {}, ['profile']],
];

const psOnly: Case[] = [
  ['level twice', `/fhir/Patient/${ms.id}/$ehdsi-ps?level=1&level=3`, {}, ['level']],
  ['level in the query and in a form', `/fhir/Patient/$ehdsi-ps?level=1`, { method: 'POST', headers: FORM, body: `identifier=${q(fnrOf(ms))}&level=3` }, ['level']],
  ['level twice in a Parameters body', '/fhir/Patient/$ehdsi-ps', { method: 'POST', headers: JSON_CT, body: parameters(ident(ms), { name: 'level', valueCode: '1' }, { name: 'level', valueCode: '3' }) }, ['level']],
];

describe.each(engines)('$summary and $ehdsi-ps parameters (%s)', (engine) => {
  let srv: TestServer;
  const ncp = (path: string, init: RequestInit = {}) => srv.fetchAs(SCOPE, path, init, { client: 'ncp-no' });

  beforeAll(async () => {
    await seedDemoSummarySources(await getTestDb(engine));
    srv = await startTestServer(engine);
  });
  afterAll(async () => {
    await srv.close();
  });

  it.each([...refused('summary'), ...refused('ehdsi-ps'), ...summaryOnly, ...psOnly])('refuses %s with a 400 naming it (%s)', async (_label, path, init, expression) => {
    const requestId = `sp-${engine}-${Math.random().toString(36).slice(2, 10)}`;
    const res = await ncp(path, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), 'x-request-id': requestId } });
    const text = await res.text();
    expect(res.status, text).toBe(400);
    const outcome = JSON.parse(text) as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]!.expression).toEqual(expression);
    // Refused before any patient was decided on: no summary was read, so no read of a patient is audited.
    const rows = await (await getTestDb(engine)).query<{ resource: AuditEvent }>('select resource from audit_event where request_id = $1', [requestId]);
    expect(rows.rows.map((r) => JSON.stringify(r.resource)).filter((r) => r.includes('Patient/'))).toEqual([]);
  });

  it('still answers the calls the refusals are variations of', async () => {
    const calls: Array<[string, RequestInit]> = [
      [`/fhir/Patient/${ms.id}/$summary`, {}],
      [`/fhir/Patient/${ms.id}/$summary`, { method: 'POST', headers: JSON_CT, body: parameters() }],
      [`/fhir/Patient/$summary?identifier=${q(fnrOf(ms))}`, {}],
      ['/fhir/Patient/$summary', { method: 'POST', headers: FORM, body: `identifier=${q(fnrOf(ms))}` }],
      ['/fhir/Patient/$summary', { method: 'POST', headers: JSON_CT, body: parameters({ name: 'identifier', valueString: fnrOf(ms) }) }],
      [`/fhir/Patient/${ms.id}/$ehdsi-ps?level=1`, {}],
      ['/fhir/Patient/$ehdsi-ps', { method: 'POST', headers: FORM, body: `identifier=${q(fnrOf(ms))}&level=1` }],
    ];
    for (const [path, init] of calls) {
      const res = await ncp(path, init);
      expect(res.status, `${init.method ?? 'GET'} ${path}: ${(await res.clone().text()).slice(0, 200)}`).toBe(200);
      const text = await res.text();
      // The patient the call named, and only that one.
      expect(text).toContain(ms.fnr);
      expect(text).not.toContain(addison.fnr);
    }
  });

  it('keeps the general parameters _format and _pretty working', async () => {
    const formatted = await ncp(`/fhir/Patient/${ms.id}/$summary?_format=${q('application/fhir+json')}&_pretty=true`);
    expect(formatted.status).toBe(200);
    const text = await formatted.text();
    expect(text).toContain('\n  "resourceType": "Bundle"');
    expect((JSON.parse(text) as Bundle).type).toBe('document');
    expect((await ncp(`/fhir/Patient/$ehdsi-ps?identifier=${q(fnrOf(ms))}&_format=xml`)).status).toBe(200);
  });

  it('refuses a citizen naming themself and someone else, whichever comes first', async () => {
    const scope = 'patient/Patient.r patient/Condition.rs';
    for (const order of [[ms, addison], [addison, ms]]) {
      const res = await srv.fetchAs(scope, '/fhir/Patient/$summary', { method: 'POST', headers: JSON_CT, body: parameters(...order.map(ident)) }, { patient: ms.fnr });
      expect(res.status).toBe(400);
      expect(((await res.json()) as OperationOutcome).issue[0]!.expression).toEqual(['identifier']);
    }
  });

  it('refuses an identifier without a system that two patients hold, rather than picking one', async () => {
    const db = await getTestDb(engine);
    const shared = '88888888';
    const patient = (id: string, system: string): Patient & { id: string } => ({ resourceType: 'Patient', id, identifier: [{ system, value: shared }] });
    await upsertPatient(db, patient(`shared-a-${engine}`, 'urn:example:a'));
    const one = await ncp(`/fhir/Patient/$summary?identifier=${shared}`);
    // One holder: found (it has no fødselsnummer to ask the sources with, hence 404 from the handler, not the locator).
    expect(((await one.json()) as OperationOutcome).issue[0]!.diagnostics).toMatch(/no fødselsnummer/);
    await upsertPatient(db, patient(`shared-b-${engine}`, 'urn:example:b'));
    const two = await ncp(`/fhir/Patient/$summary?identifier=${shared}`);
    expect(two.status).toBe(400);
    expect(((await two.json()) as OperationOutcome).issue[0]!.expression).toEqual(['identifier']);
    expect((await ncp(`/fhir/Patient/$summary?identifier=${q(`urn:example:b|${shared}`)}`)).status).toBe(404);
  });
});
