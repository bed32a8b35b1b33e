// Patient/$ehdsi-ps over HTTP: the eHDSI PS CDA of the same document $summary serves, as application/xml,
// one AuditEvent per call, the patient by id or by identifier (query or Parameters body), both levels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, OperationOutcome } from '@medplum/fhirtypes';
import { PERSONAS } from '../../src/demo/personas.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import { seedDemoSummarySources } from '../../src/summary/seed.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { validateXmlAll } from '../support/xsd.ts';

const SCOPE = 'system/Patient.r system/Condition.rs system/AllergyIntolerance.rs system/MedicationStatement.rs system/Procedure.rs system/DeviceUseStatement.rs system/Flag.rs';

describe.each(engines)('$ehdsi-ps over HTTP (%s)', (engine) => {
  let srv: TestServer;
  const ncp = (path: string, init: RequestInit = {}) => srv.fetchAs(SCOPE, path, init, { client: 'ncp-no' });

  beforeAll(async () => {
    await seedDemoSummarySources(await getTestDb(engine));
    srv = await startTestServer(engine);
  });
  afterAll(async () => {
    await srv.close();
  });

  it('answers the Level 3 CDA of the MS persona as application/xml, schema-valid, with one AuditEvent', async () => {
    const requestId = `ehdsi-ps-${engine}-01`;
    const res = await ncp(`/fhir/Patient/${PERSONAS.ms.id}/$ehdsi-ps`, { headers: { 'x-request-id': requestId, 'accept-language': 'en' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
    const xml = await res.text();
    expect(xml).toContain('<templateId root="1.3.6.1.4.1.12559.11.10.1.3.1.1.3"/>');
    expect(xml).toContain('code="G43.0" codeSystem="1.3.6.1.4.1.12559.11.10.1.3.1.44.2" displayName="Migraine without aura [common migraine]"');
    expect(xml).toContain('<languageCode code="en-GB"/>');
    const [v] = await validateXmlAll([xml], 'cda');
    expect(v!.errors).toEqual([]);
    const rows = await (await getTestDb(engine)).query<{ resource: AuditEvent }>('select resource from audit_event where request_id = $1', [requestId]);
    expect(rows.rows).toHaveLength(1);
    expect(JSON.stringify(rows.rows[0]!.resource)).toContain('Patient/ms');
  });

  it('gives Level 1 with ?level=1: the same header and a PDF in a nonXMLBody', async () => {
    const res = await ncp(`/fhir/Patient/${PERSONAS.addison.id}/$ehdsi-ps?level=1`);
    expect(res.status).toBe(200);
    const xml = await res.text();
    expect(xml).toMatch(/<nonXMLBody>\s*<text mediaType="application\/pdf" representation="B64">JVBER/);
    expect(xml).not.toContain('structuredBody');
    const [v] = await validateXmlAll([xml], 'cda');
    expect(v!.errors).toEqual([]);
  });

  it('finds the patient by identifier in the query and in a POSTed Parameters body (with the level)', async () => {
    const byQuery = await ncp(`/fhir/Patient/$ehdsi-ps?identifier=${encodeURIComponent(`${OID.fnr}|${PERSONAS.knee.fnr}`)}`);
    expect(byQuery.status).toBe(200);
    expect(await byQuery.text()).toContain(`extension="${PERSONAS.knee.fnr}"`);
    const byBody = await ncp('/fhir/Patient/$ehdsi-ps', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({
        resourceType: 'Parameters',
        parameter: [
          { name: 'identifier', valueIdentifier: { system: OID.fnr, value: PERSONAS.knee.fnr } },
          { name: 'level', valueCode: '1' },
        ],
      }),
    });
    expect(byBody.status).toBe(200);
    expect(await byBody.text()).toContain('nonXMLBody');
  });

  it('says withheld in the CDA when the client has no scope for a section', async () => {
    const res = await srv.fetchAs('system/Patient.r system/MedicationStatement.rs', `/fhir/Patient/${PERSONAS.addison.id}/$ehdsi-ps`, {}, { client: 'ncp-no' });
    expect(res.status).toBe(200);
    const xml = await res.text();
    expect(xml).toContain('nullFlavor="MSK"');
    expect(xml).toContain('hydrocortisone');
  });

  it.each([
    ['an unknown level', `/fhir/Patient/${PERSONAS.ms.id}/$ehdsi-ps?level=2`, 400, 'level'],
    ['an unknown patient', '/fhir/Patient/nobody/$ehdsi-ps', 404, undefined],
    ['no identifier at type level', '/fhir/Patient/$ehdsi-ps', 400, 'identifier'],
    ['an unknown identifier', `/fhir/Patient/$ehdsi-ps?identifier=${encodeURIComponent(`${OID.fnr}|01010112345`)}`, 404, undefined],
  ])('answers %s with an OperationOutcome', async (_label, path, status, expression) => {
    const res = await ncp(path);
    expect(res.status).toBe(status);
    const oo = (await res.json()) as OperationOutcome;
    expect(oo.resourceType).toBe('OperationOutcome');
    if (expression) expect(oo.issue[0]!.expression).toContain(expression);
  });

  it('refuses a body that is not a Parameters resource, and a caller without a token', async () => {
    const wrong = await ncp('/fhir/Patient/$ehdsi-ps', { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: '{"resourceType":"Patient"}' });
    expect(wrong.status).toBe(400);
    const anonymous = await fetch(`${srv.url}/fhir/Patient/${PERSONAS.ms.id}/$ehdsi-ps`);
    expect(anonymous.status).toBe(401);
  });

  it("refuses a citizen another person's summary", async () => {
    const res = await srv.fetchAs('patient/Patient.r', `/fhir/Patient/${PERSONAS.ms.id}/$ehdsi-ps`, {}, { patient: PERSONAS.addison.fnr });
    expect(res.status).toBe(403);
  });
});
