// IHE MHD for the NCP: the DocumentReference search lists the patient summary (Level 3 and 1) and each
// exportable ePrescription, and every attachment URL answers with the document (or a FHIR Binary), with
// the size and hash the list states; audited and access-checked.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Binary, Bundle, DocumentReference, OperationOutcome } from '@medplum/fhirtypes';
import { PERSONAS } from '../../src/demo/personas.ts';
import { DEMO_PRESCRIPTIONS, seedDemoPrescriptions } from '../../src/eprescription/demo.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import { seedDemoSummarySources } from '../../src/summary/seed.ts';
import { engines, openIsolatedDb } from '../support/db.ts';
import type { Db } from '../../src/store/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { validateXmlAll } from '../support/xsd.ts';
import { extractText, getDocumentProxy } from 'unpdf';

const NCP_SCOPE = [
  'system/DocumentReference.rs system/Binary.r system/Patient.r system/MedicationRequest.rs',
  'system/Condition.rs system/AllergyIntolerance.rs system/MedicationStatement.rs system/Procedure.rs system/DeviceUseStatement.rs system/Flag.rs',
].join(' ');
const ADDISON = `${OID.fnr}|${PERSONAS.addison.fnr}`;

const docsOf = (b: Bundle) => (b.entry ?? []).map((e) => e.resource as DocumentReference);
const label = (d: DocumentReference) => `${d.type!.coding![0]!.code} ${d.content[0]!.format!.code}`;

describe.each(engines)('MHD document list and retrieval (%s)', (engine) => {
  let srv: TestServer;
  const ncp = (path: string, init: RequestInit = {}, client = 'ncp-no') => srv.fetchAs(NCP_SCOPE, path, init, { client });

  let db: Db;
  // A store of its own: the list is compared with exactly the demo prescriptions, which other test files
  // in the same worker would add to in the shared store.
  beforeAll(async () => {
    db = await openIsolatedDb(engine);
    await seedDemoSummarySources(db);
    // Two NCP clients: a summary made for one cannot be read back by the other.
    srv = await startTestServer(engine, { OUTBOX_WORKERS: '0', SYSTEM_CLIENTS: 'ncp-*=ncp' }, { db });
    await seedDemoPrescriptions(db, srv.config);
  });
  afterAll(async () => {
    await srv.close();
    await db.close();
  });

  it("lists the Addison persona's patient summary (L3, L1) and exportable prescriptions, and every attachment URL answers", async () => {
    const requestId = `mhd-${engine}-list`;
    const res = await ncp(`/fhir/DocumentReference?patient.identifier=${encodeURIComponent(ADDISON)}&status=current`, { headers: { 'x-request-id': requestId } });
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as Bundle;
    expect(JSON.stringify(bundle.link)).not.toContain(PERSONAS.addison.fnr);
    const docs = docsOf(bundle);
    const labels = docs.map(label);
    expect(labels.filter((l) => l === '60591-5 urn:epSOS:ps:ps:2010')).toHaveLength(1);
    expect(labels.filter((l) => l === '60591-5 urn:ihe:iti:xds-sd:pdf:2008')).toHaveLength(1);
    const exportable = DEMO_PRESCRIPTIONS.filter((p) => p.persona.id === 'addison' && p.exportable).length;
    expect(exportable).toBeGreaterThan(0);
    expect(labels.filter((l) => l === '57833-6 urn:epSOS:ep:pre:2010')).toHaveLength(exportable);
    expect(labels.filter((l) => l === '57833-6 urn:ihe:iti:xds-sd:pdf:2008')).toHaveLength(exportable);

    const xmls: string[] = [];
    for (const d of docs) {
      expect(d.status).toBe('current');
      expect(d.category![0]!.coding![0]!.code).toBe(d.type!.coding![0]!.code);
      expect(d.subject!.reference).toBe('Patient/addison');
      expect(d.custodian!.identifier!.system).toBe(OID.orgnr);
      expect(d.author![0]!.display).toBeTruthy();
      expect(d.date).toBeTruthy();
      const a = d.content[0]!.attachment;
      expect(a.contentType).toBe('text/xml');
      const got = await ncp(new URL(a.url!).pathname);
      expect(got.status, a.url).toBe(200);
      expect(got.headers.get('content-type')).toMatch(/^text\/xml/);
      const body = await got.text();
      expect(Buffer.byteLength(body, 'utf8')).toBe(a.size);
      expect(createHash('sha1').update(body, 'utf8').digest('base64')).toBe(a.hash);
      xmls.push(body);
      // The entry's fullUrl answers a read with the same DocumentReference.
      const entry = bundle.entry!.find((e) => e.resource === d)!;
      const read = await ncp(new URL(entry.fullUrl!).pathname);
      expect(read.status, entry.fullUrl).toBe(200);
      expect(await read.json()).toEqual(d);
    }
    const ps1 = docs.find((d) => label(d) === '60591-5 urn:ihe:iti:xds-sd:pdf:2008')!;
    expect(ps1.relatesTo![0]!.target.reference).toBe(`DocumentReference/${docs.find((d) => label(d) === '60591-5 urn:epSOS:ps:ps:2010')!.id}`);
    // Each ePrescription's Level 1 transforms its Level 3, and says so.
    for (const ep1 of docs.filter((d) => label(d) === '57833-6 urn:ihe:iti:xds-sd:pdf:2008')) {
      expect(ep1.relatesTo![0]!.code).toBe('transforms');
      expect(ep1.relatesTo![0]!.target.reference).toBe(`DocumentReference/${ep1.id!.replace(/-l1$/, '-l3')}`);
    }
    // Every listed document, summaries and prescriptions at both levels, passes the CDA schema.
    const results = await validateXmlAll(xmls, 'cda');
    results.forEach((r, i) => expect(r.errors, docs[i]!.id).toEqual([]));

    const audit = await db.query<{ resource: AuditEvent }>('select resource from audit_event where request_id = $1', [requestId]);
    expect(audit.rows).toHaveLength(1);
    expect(JSON.stringify(audit.rows[0]!.resource)).toContain('Patient/addison');
  });

  it('wraps the document in a FHIR Binary for Accept: application/fhir+json', async () => {
    const docs = docsOf((await (await ncp(`/fhir/DocumentReference?patient=Patient/addison&type=${encodeURIComponent('http://loinc.org|57833-6')}`)).json()) as Bundle);
    expect(docs.length).toBeGreaterThan(0);
    expect(docs.every((d) => d.type!.coding![0]!.code === '57833-6')).toBe(true);
    // OpenNCP's document list wants the ATC code first in the description.
    const l3 = docs.filter((d) => d.content[0]!.format!.code === 'urn:epSOS:ep:pre:2010');
    expect(l3.map((d) => d.description).sort()).toEqual(['H02AA02 Florinef Tab 0,1 mg', 'H02AB09 Hydrokortison Orifarm Tab 10 mg']);
    const res = await ncp(new URL(docs[0]!.content[0]!.attachment.url!).pathname, { headers: { accept: 'application/fhir+json' } });
    expect(res.status).toBe(200);
    const binary = (await res.json()) as Binary;
    expect(binary.resourceType).toBe('Binary');
    expect(binary.contentType).toBe('text/xml');
    expect(Buffer.from(binary.data!, 'base64').toString('utf8')).toContain('57833-6');
  });

  it('serves the PDF of a Level 1 summary itself with Accept: application/pdf', async () => {
    const docs = docsOf((await (await ncp('/fhir/DocumentReference?patient=Patient/ms&type=60591-5')).json()) as Bundle);
    const l1 = docs.find((d) => d.content[0]!.format!.code === 'urn:ihe:iti:xds-sd:pdf:2008')!;
    const res = await ncp(new URL(l1.content[0]!.attachment.url!).pathname, { headers: { accept: 'application/pdf' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    // A Level 3 document has no PDF: it is served as itself.
    const l3 = docs.find((d) => d.content[0]!.format!.code === 'urn:epSOS:ps:ps:2010')!;
    const asXml = await ncp(new URL(l3.content[0]!.attachment.url!).pathname, { headers: { accept: 'application/pdf, text/xml;q=0.5' } });
    expect(asXml.headers.get('content-type')).toMatch(/^text\/xml/);
    expect((await ncp(new URL(l3.content[0]!.attachment.url!).pathname, { headers: { accept: 'application/pdf' } })).status).toBe(406);
  });

  it("serves an ePrescription's Level 1 as the same bytes the list hashed, its PDF naming the medicine in English and bokmål, whatever language is asked", async () => {
    const list = async (lang?: string) =>
      docsOf((await (await ncp('/fhir/DocumentReference?patient=Patient/addison&type=57833-6', lang ? { headers: { 'accept-language': lang } } : {})).json()) as Bundle);
    const l1 = (await list()).filter((d) => d.content[0]!.format!.code === 'urn:ihe:iti:xds-sd:pdf:2008');
    expect(l1.length).toBeGreaterThan(0);
    for (const d of l1) {
      const path = new URL(d.content[0]!.attachment.url!).pathname;
      // Made again on each retrieval, yet byte for byte what was listed.
      const [first, second] = [await (await ncp(path)).text(), await (await ncp(path)).text()];
      expect(second).toBe(first);
      expect(createHash('sha1').update(first, 'utf8').digest('base64')).toBe(d.content[0]!.attachment.hash);
      const pdf = await ncp(path, { headers: { accept: 'application/pdf' } });
      expect(pdf.headers.get('content-type')).toBe('application/pdf');
      const { text } = await extractText(await getDocumentProxy(new Uint8Array(await pdf.arrayBuffer())), { mergePages: true });
      expect(text).toContain(d.description!.split(' ').slice(1, 2).join(' '));
      expect(text).toContain(PERSONAS.addison.family);
      expect(text).toContain('ePrescription from Norway / Resept fra Norge');
      expect(text).toContain('Patient / Pasient:');
    }
    // An NCP asking in English (or in nothing) gets the same bilingual document: same id, size and hash.
    const english = (await list('en')).filter((d) => d.content[0]!.format!.code === 'urn:ihe:iti:xds-sd:pdf:2008');
    expect(english.map((d) => [d.id, d.content[0]!.attachment.hash, d.content[0]!.attachment.language])).toEqual(
      l1.map((d) => [d.id, d.content[0]!.attachment.hash, 'nb-NO']),
    );
    expect(english[0]!.id).toMatch(/-l1$/);
    const path = new URL(english[0]!.content[0]!.attachment.url!).pathname;
    const xml = await (await ncp(path)).text();
    expect(xml).toContain('languageCode code="nb-NO"');
    // An id listed when there was an English-only Level 1 still names the Level 1 document.
    const legacy = await ncp(path.replace(/-l1$/, '-l1en'));
    expect(legacy.status).toBe(200);
    expect(await legacy.text()).toBe(xml);
  });

  it('takes the search in a POSTed form, and filters by type', async () => {
    const res = await ncp('/fhir/DocumentReference/_search', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ 'patient.identifier': `${OID.fnr}|${PERSONAS.ms.fnr}`, type: 'http://loinc.org|60591-5' }).toString(),
    });
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as Bundle;
    expect(docsOf(bundle).map(label).sort()).toEqual(['60591-5 urn:epSOS:ps:ps:2010', '60591-5 urn:ihe:iti:xds-sd:pdf:2008']);
    expect(JSON.stringify(bundle)).not.toContain(PERSONAS.ms.fnr.slice(0, 6) + '"');
  });

  it('serves a patient summary only to the caller it was made for, and not after it expired or for unknown ids', async () => {
    const docs = docsOf((await (await ncp(`/fhir/DocumentReference?patient=Patient/ms&type=60591-5`)).json()) as Bundle);
    const path = new URL(docs[0]!.content[0]!.attachment.url!).pathname;
    expect((await ncp(path)).status).toBe(200);
    expect((await ncp(path, {}, 'ncp-other-client')).status).toBe(404);
    await db.query("update ncp_document set expires_at = now() - interval '1 second' where id = $1", [docs[0]!.id]);
    expect((await ncp(path)).status).toBe(404);
    for (const id of ['nothing', 'ps-00000000-0000-0000-0000-000000000000', 'ep-nonexistent-l3', '..%2F..%2Fetc']) {
      const res = await ncp(`/fhir/Binary/${id}`);
      expect(res.status, id).toBe(404);
      expect(((await res.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
    }
  });

  it.each([
    ['no patient', '/fhir/DocumentReference', 400, 'patient'],
    ['an identifier without a system', '/fhir/DocumentReference?patient.identifier=12839410075', 400, 'patient.identifier'],
    ['an unknown status', '/fhir/DocumentReference?patient=Patient/addison&status=draft', 400, 'status'],
    ['an unknown parameter', '/fhir/DocumentReference?patient=Patient/addison&author=x', 400, 'author'],
    ['an unknown patient', `/fhir/DocumentReference?patient.identifier=${encodeURIComponent(`${OID.fnr}|01010112345`)}`, 404, undefined],
  ])('answers %s with an OperationOutcome', async (_label, path, status, expression) => {
    const res = await ncp(path);
    expect(res.status).toBe(status);
    const oo = (await res.json()) as OperationOutcome;
    expect(oo.resourceType).toBe('OperationOutcome');
    if (expression) expect(oo.issue[0]!.expression).toContain(expression);
  });

  it('lists nothing for a status Helsebro does not keep, and refuses callers without the scope or another citizen', async () => {
    const superseded = (await (await ncp('/fhir/DocumentReference?patient=Patient/addison&status=superseded')).json()) as Bundle;
    expect(superseded.total).toBe(0);
    const noScope = await srv.fetchAs('system/Patient.r', '/fhir/DocumentReference?patient=Patient/addison', {}, { client: 'ncp-no' });
    expect(noScope.status).toBe(403);
    const citizen = await srv.fetchAs('patient/DocumentReference.s patient/Patient.r', '/fhir/DocumentReference?patient=Patient/addison', {}, { patient: PERSONAS.ms.fnr });
    expect(citizen.status).toBe(403);
  });
});
