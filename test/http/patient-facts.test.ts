// Patient-level facts from their sources, over HTTP: the confidential-address persona (strengt fortrolig
// adresse in Folkeregisteret) has no address or municipality in any output, and the guardian rules fire
// at request level from the register's guardianship and Kjernejournal's reservation.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERSONAS } from '../../src/demo/personas.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import { CONFIDENTIAL_MOTHER_FNR } from '../../src/registries/folkeregisteret/demo.ts';
import { engines } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { validateXml } from '../support/xsd.ts';
import { viewClient } from '../view/support/client.ts';

const she = PERSONAS.confidential;
/** Everything the register holds about where she lives: none of it may appear in any output. */
const SECRETS = [she.city, she.postalCode, '1806'];

/** As a value of its own: "8514" inside a random UUID is not her postal code. */
const expectNoAddress = (text: string, where: string) => {
  for (const secret of SECRETS) expect(text, `${where} leaks "${secret}"`).not.toMatch(new RegExp(`(?<![\\w-])${secret}(?![\\w-])`));
};

/** The hydrocortisone M1 of the corpus, written for her, with the address her GP's system put in it. */
function m1ForHer(): string {
  const xml = readFileSync(join(import.meta.dirname, '../fixtures/m1/valid/01-pakning-hydrokortison.xml'), 'utf8');
  return xml
    .replace('b1f4c2a0-6d1e-4f0a-9a51-3c2e8d7f1001', 'c0f1de11-7a1e-4c55-9d2b-0a5e6f7c8d90')
    .replace('<FamilyName>Solstad</FamilyName>', `<FamilyName>${she.family}</FamilyName>`)
    .replace('<GivenName>Ingrid</GivenName>', `<GivenName>${she.given[0]}</GivenName>`)
    .replace('<MiddleName>Marie</MiddleName>', '')
    .replace('<Id>12839410075</Id>', `<Id>${she.fnr}</Id>`)
    .replace('<PostalCode>7030</PostalCode>\n        <City>Trondheim</City>\n        <County V="5001" DN="Trondheim"/>', `<PostalCode>${she.postalCode}</PostalCode>\n        <City>${she.city}</City>\n        <County V="1806" DN="${she.city}"/>`);
}

describe.each(engines)('patient-level facts from the population register and Kjernejournal (%s)', (engine) => {
  let srv: TestServer;
  const clinicianScope = 'user/Patient.rs user/Condition.rs user/AllergyIntolerance.rs user/MedicationStatement.rs user/Procedure.rs user/DeviceUseStatement.rs user/Flag.rs';
  const ncpScope = 'system/Patient.r system/MedicationRequest.crs';
  beforeAll(async () => {
    srv = await startTestServer(engine);
  });
  afterAll(async () => {
    await srv.close();
  });

  it('the M1 fixture for her really carries her address, so the outputs below are tested against it', () => {
    const xml = m1ForHer();
    for (const secret of SECRETS) expect(xml).toContain(secret);
    // The check below finds each secret as a value of its own, wherever it stands.
    expect(() => expectNoAddress(`<City>${she.city}</City>`, 'probe')).toThrow();
    expect(() => expectNoAddress(`{"postalCode":"${she.postalCode}"}`, 'probe')).toThrow();
    expect(() => expectNoAddress(`<County V="1806"/>`, 'probe')).toThrow();
    expect(() => expectNoAddress(`"id":"39c8514a-ca1b"`, 'probe')).not.toThrow();
    expect(xml).toContain(she.fnr);
  });

  it('reads and finds her without address or municipality', async () => {
    const read = await srv.fetchAs(clinicianScope, `/fhir/Patient/${she.id}`);
    expect(read.status).toBe(200);
    const text = await read.text();
    expect((JSON.parse(text) as Patient).address).toBeUndefined();
    expectNoAddress(text, 'Patient read');
    const found = await srv.fetchAs(clinicianScope, `/fhir/Patient?identifier=${OID.fnr}|${she.fnr}`);
    const bundle = (await found.json()) as Bundle<Patient>;
    expect(bundle.total).toBe(1);
    expectNoAddress(JSON.stringify(bundle), 'Patient search');
    // Another persona keeps hers: the protection is hers, not a blanket removal.
    const other = (await (await srv.fetchAs(clinicianScope, `/fhir/Patient/${PERSONAS.addison.id}`)).json()) as Patient;
    expect(other.address?.[0]?.city).toBe(PERSONAS.addison.city);
  });

  it('gives her summary, as FHIR, as the eHDSI PS CDA and in the clinician view, without address or municipality', async () => {
    const summary = await srv.fetchAs(clinicianScope, `/fhir/Patient/${she.id}/$summary`);
    expect(summary.status).toBe(200);
    const text = await summary.text();
    expect(text).toContain(she.family);
    expectNoAddress(text, '$summary');
    // The eHDSI Patient Summary CDA the NCP retrieves is rendered from the same document.
    const ps = await srv.fetchAs(clinicianScope, `/fhir/Patient/${she.id}/$ehdsi-ps`);
    expect(ps.status).toBe(200);
    const psXml = await ps.text();
    expect(psXml).toContain(she.family);
    expectNoAddress(psXml, 'eHDSI PS CDA');
    const view = viewClient(srv.url);
    await view.signIn();
    const page = await view.get(`/view/patient/${she.id}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(she.family);
    expectNoAddress(html, 'clinician view');
  });

  it('converts her M1 to EU FHIR and CDA without her address, the CDA saying it is masked', async () => {
    const ncp = { client: 'ncp-no' };
    const res = await srv.fetchAs(ncpScope, '/fhir/MedicationRequest/$import-m1', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: m1ForHer() }, ncp);
    expect(res.status).toBe(201);
    const bundle = (await res.json()) as Bundle;
    const patient = bundle.entry?.map((e) => e.resource).find((r): r is Patient => r?.resourceType === 'Patient');
    expect(patient?.identifier?.[0]?.value).toBe(she.fnr);
    expect(patient?.address ?? []).toEqual([]);
    expectNoAddress(JSON.stringify(bundle), 'EU FHIR Bundle');

    const id = bundle.entry?.find((e) => e.resource?.resourceType === 'MedicationRequest')?.resource?.id;
    expect(id).toBeTruthy();
    const read = await srv.fetchAs(ncpScope, `/fhir/MedicationRequest/${id}`, {}, ncp);
    expect(read.status).toBe(200);
    expectNoAddress(await read.text(), 'MedicationRequest read');
    const cda = await srv.fetchAs(ncpScope, `/fhir/MedicationRequest/${id}/$ehdsi-cda`, {}, ncp);
    expect(cda.status).toBe(200);
    const xml = await cda.text();
    expect(xml).toMatch(/<patientRole[^>]*>[\s\S]*?<addr nullFlavor="MSK"\/>/);
    expectNoAddress(xml, 'eHDSI CDA');
    // The masked addr is schema-valid CDA. (The emitter's other schema findings, timing event codes and
    // generalizedMaterialKind, are not about the patient and are tested where the emitter is.)
    const schema = await validateXml(xml, 'cda');
    expect(schema.errors.filter((e) => /addr|patientRole|recordTarget|nullFlavor/.test(e))).toEqual([]);
    // The NCP's search for her prescriptions, as the XCA list is built from it.
    const search = await srv.fetchAs(ncpScope, `/fhir/MedicationRequest?patient.identifier=${OID.fnr}|${she.fnr}`, {}, ncp);
    expectNoAddress(await search.text(), 'MedicationRequest search');
  });

  it("refuses her mother's guardian token at request level: she has reserved against guardian access", async () => {
    const mother = { patient: CONFIDENTIAL_MOTHER_FNR, actingFor: { fnr: she.fnr, relation: 'guardian' as const } };
    for (const path of [`/fhir/Patient/${she.id}`, `/fhir/Patient/${she.id}/$summary`]) {
      const res = await srv.fetchAs('patient/Patient.r patient/Condition.rs', path, {}, mother);
      expect(res.status, path).toBe(403);
      const oo = (await res.json()) as OperationOutcome;
      expect(oo.issue.flatMap((i) => i.details?.coding?.map((c) => c.code) ?? []), path).toContain('ACCESS-GUARDIAN-RESERVED');
    }
    // She herself reads her own record.
    expect((await srv.fetchAs('patient/Patient.r', `/fhir/Patient/${she.id}`, {}, { patient: she.fnr })).status).toBe(200);
  });

  it('admits as guardian only whom the register names: parental responsibility for the child persona', async () => {
    const asGuardianOfChild = (fnr: string) =>
      srv.fetchAs('patient/Patient.r', `/fhir/Patient/${PERSONAS.child.id}`, {}, { patient: fnr, actingFor: { fnr: PERSONAS.child.fnr, relation: 'guardian' } });
    expect((await asGuardianOfChild(PERSONAS.addison.fnr)).status).toBe(200);
    const stranger = await asGuardianOfChild(PERSONAS.ms.fnr);
    expect(stranger.status).toBe(403);
    const oo = (await stranger.json()) as OperationOutcome;
    expect(oo.issue.flatMap((i) => i.details?.coding?.map((c) => c.code) ?? [])).toContain('ACCESS-GUARDIAN-NOT-REGISTERED');
  });
});
