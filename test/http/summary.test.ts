// Patient/$summary and the plain searches over real HTTP, with auth, access rules and audit in the path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Bundle, Composition, Condition, OperationOutcome } from '@medplum/fhirtypes';
import { OID } from '../../src/fhir/identifiers.ts';
import { inFhirOrder } from '../../src/http/respond.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { seedDemoSummarySources } from '../../src/summary/seed.ts';
import { engines, getTestDb } from '../support/db.ts';
import { validateIpsDocument } from '../support/ips-validate.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const ALL_SECTIONS = 'user/Patient.rs user/Condition.rs user/AllergyIntolerance.rs user/MedicationStatement.rs user/Procedure.rs user/DeviceUseStatement.rs user/Flag.rs';

const composition = (b: Bundle) => b.entry![0]!.resource as Composition;
const section = (b: Bundle, loinc: string) => composition(b).section!.find((s) => s.code!.coding![0]!.code === loinc);
const outcomeOf = (b: Bundle) => b.entry!.find((e) => e.resource!.resourceType === 'OperationOutcome')?.resource as OperationOutcome | undefined;

describe.each(engines)('$summary over HTTP (%s)', (engine) => {
  let srv: TestServer;
  const summary = async (id: string, scope = ALL_SECTIONS, headers: Record<string, string> = {}) =>
    srv.fetchAs(scope, `/fhir/Patient/${id}/$summary`, { headers });

  beforeAll(async () => {
    await seedDemoSummarySources(await getTestDb(engine));
    srv = await startTestServer(engine);
  });
  afterAll(async () => {
    await srv.close();
  });

  it.each(Object.values(PERSONAS).map((p) => [p.id]))('returns a valid IPS document for persona %s', async (id) => {
    const res = await summary(id);
    expect(res.status).toBe(200);
    const b = (await res.json()) as Bundle;
    expect(b.type).toBe('document');
    expect(composition(b).resourceType).toBe('Composition');
    const v = validateIpsDocument(b);
    expect(v.errors).toEqual([]);
    // The handler tells the response the document is in FHIR order, so the response does not check: it must be.
    expect(inFhirOrder(b)).toBe(true);
    for (const loinc of ['11450-4', '48765-2', '10160-0']) expect(section(b, loinc), loinc).toBeDefined();
  });

  it('shows the MS persona with migraine aggregated over its NPR episodes', async () => {
    const b = (await (await summary(PERSONAS.ms.id)).json()) as Bundle;
    const problems = section(b, '11450-4')!;
    expect(problems.text!.div).toContain('G43.0');
    expect(problems.text!.div).toMatch(/11\.03\.1993.*31\.10\.2024/);
    expect(problems.text!.div).toContain('21 oppføringer');
    const migraine = b.entry!.map((e) => e.resource).find(
      (r) => r?.resourceType === 'Condition' && (r as Condition).code?.coding?.some((c) => c.code === 'G43.0'),
    ) as Condition;
    expect(migraine.onsetDateTime?.startsWith('1993-03-11')).toBe(true);
  });

  it('answers in English for Accept-Language: en (the NCP case)', async () => {
    const b = (await (await summary(PERSONAS.ms.id, ALL_SECTIONS, { 'accept-language': 'en' })).json()) as Bundle;
    expect(composition(b).title).toBe('International Patient Summary');
    expect(section(b, '11450-4')!.text!.div).toContain('21');
  });

  it('withholds Kjernejournal content for the reserved persona and says so', async () => {
    const b = (await (await summary(PERSONAS.reserved.id)).json()) as Bundle;
    const allergies = section(b, '48765-2')!;
    expect(allergies.entry).toBeUndefined();
    expect(allergies.emptyReason!.coding![0]!.code).toBe('withheld');
  });

  it('gives the no-data persona the three required sections with a narrative saying nothing was found', async () => {
    const b = (await (await summary(PERSONAS.nodata.id)).json()) as Bundle;
    const sections = composition(b).section!;
    expect(sections.map((s) => s.code!.coding![0]!.code).sort()).toEqual(['10160-0', '11450-4', '48765-2']);
    for (const s of sections) {
      expect(s.emptyReason!.coding![0]!.code).toBe('unavailable');
      expect(s.text!.div).toMatch(/Ingen opplysninger|ingen opplysninger/);
    }
  });

  it('withholds the sections a client has no scope for, with a warning, and audits what was withheld', async () => {
    const requestId = `summary-scope-${engine}-01`;
    const res = await srv.fetchAs('system/Patient.r system/MedicationStatement.rs', `/fhir/Patient/${PERSONAS.addison.id}/$summary`, {
      headers: { 'x-request-id': requestId },
    }, { client: 'ncp-no' });
    expect(res.status).toBe(200);
    const b = (await res.json()) as Bundle;
    expect(section(b, '10160-0')!.entry!.length).toBeGreaterThan(0);
    expect(section(b, '48765-2')!.emptyReason!.coding![0]!.code).toBe('withheld');
    expect(outcomeOf(b)!.issue.some((i) => i.code === 'suppressed' && i.details?.coding?.[0]?.code === 'ACCESS-SCOPE')).toBe(true);
    expect(inFhirOrder(b)).toBe(true);
    const db = await getTestDb(engine);
    const rows = await db.query<{ resource: AuditEvent }>('select resource from audit_event where request_id = $1', [requestId]);
    expect(rows.rows).toHaveLength(1);
    expect(JSON.stringify(rows.rows[0]!.resource)).toContain('ACCESS-SCOPE');
  });

  it('finds the patient by identifier in a POSTed Parameters body, keeping the number out of the URL', async () => {
    const res = await srv.fetchAs(ALL_SECTIONS, '/fhir/Patient/$summary', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({
        resourceType: 'Parameters',
        parameter: [{ name: 'identifier', valueIdentifier: { system: OID.fnr, value: PERSONAS.knee.fnr } }],
      }),
    });
    expect(res.status).toBe(200);
    const b = (await res.json()) as Bundle;
    const subject = b.entry!.find((e) => e.resource!.resourceType === 'Patient')!.resource!;
    expect(JSON.stringify(subject)).toContain(PERSONAS.knee.fnr);
  });

  it('finds the patient by identifier in the query too', async () => {
    const res = await srv.fetchAs(ALL_SECTIONS, `/fhir/Patient/$summary?identifier=${encodeURIComponent(`${OID.fnr}|${PERSONAS.addison.fnr}`)}`);
    expect(res.status).toBe(200);
  });

  it.each([
    ['an unknown patient id', '/fhir/Patient/nobody/$summary', 404],
    ['an unknown identifier', `/fhir/Patient/$summary?identifier=${encodeURIComponent(`${OID.fnr}|01010112345`)}`, 404],
    ['no identifier at type level', '/fhir/Patient/$summary', 400],
    ['an empty identifier', '/fhir/Patient/$summary?identifier=%7C', 400],
  ])('answers %s with an OperationOutcome', async (_label, path, status) => {
    const res = await srv.fetchAs(ALL_SECTIONS, path);
    expect(res.status).toBe(status);
    expect(((await res.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
  });

  it('refuses a Parameters body of the wrong type and malformed JSON', async () => {
    const wrong = await srv.fetchAs(ALL_SECTIONS, '/fhir/Patient/$summary', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient' }),
    });
    expect(wrong.status).toBe(400);
    const broken = await srv.fetchAs(ALL_SECTIONS, '/fhir/Patient/$summary', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: '{"resourceType": "Parameters", ',
    });
    expect(broken.status).toBe(400);
  });

  it("refuses a citizen's summary of someone else, and serves their own", async () => {
    const scope = 'patient/Patient.r patient/Condition.rs patient/AllergyIntolerance.rs patient/MedicationStatement.rs';
    const other = await srv.fetchAs(scope, `/fhir/Patient/${PERSONAS.ms.id}/$summary`, {}, { patient: PERSONAS.knee.fnr });
    expect(other.status).toBe(403);
    const own = await srv.fetchAs(scope, `/fhir/Patient/${PERSONAS.knee.id}/$summary`, {}, { patient: PERSONAS.knee.fnr });
    expect(own.status).toBe(200);
  });

  it("hides a child's guardian-reserved records from a guardian, and only from a guardian", async () => {
    const scope = 'patient/Patient.r patient/Condition.rs patient/AllergyIntolerance.rs patient/MedicationStatement.rs';
    const path = `/fhir/Patient/${PERSONAS.child.id}/$summary`;
    const guardian = { patient: PERSONAS.addison.fnr, actingFor: { fnr: PERSONAS.child.fnr, relation: 'guardian' as const } };
    const asGuardian = (await (await srv.fetchAs(scope, path, {}, guardian)).json()) as Bundle;
    const asClinician = (await (await summary(PERSONAS.child.id)).json()) as Bundle;
    const meds = (b: Bundle) => section(b, '10160-0')!.text!.div;
    expect(meds(asClinician)).toContain('Microgynon');
    expect(meds(asGuardian)).not.toContain('Microgynon');
    const warned = outcomeOf(asGuardian)!.issue.find((i) => i.details?.coding?.[0]?.code === 'ACCESS-GUARDIAN-RESERVED');
    expect(warned?.code).toBe('suppressed');
    expect(outcomeOf(asClinician)?.issue.some((i) => i.details?.coding?.[0]?.code === 'ACCESS-GUARDIAN-RESERVED') ?? false).toBe(false);
    const search = await srv.fetchAs(scope, `/fhir/MedicationStatement?patient=Patient/${PERSONAS.child.id}`, {}, guardian);
    expect(JSON.stringify(await search.json())).not.toContain('Microgynon');
  });

  it('serves the same mapped resources through plain searches', async () => {
    const res = await srv.fetchAs('user/Condition.rs', `/fhir/Condition?patient=Patient/${PERSONAS.ms.id}`);
    expect(res.status).toBe(200);
    const b = (await res.json()) as Bundle<Condition>;
    const codes = b.entry!.filter((e) => e.search?.mode === 'match').flatMap((e) => e.resource!.code!.coding!.map((c) => c.code));
    expect(codes).toEqual(expect.arrayContaining(['G35', 'G43.0', 'R33']));
    expect((await srv.fetchAs('user/Condition.rs', '/fhir/Condition')).status).toBe(400);
    expect((await srv.fetchAs('user/Patient.rs', `/fhir/Condition?patient=Patient/${PERSONAS.ms.id}`)).status).toBe(403);
  });
});
