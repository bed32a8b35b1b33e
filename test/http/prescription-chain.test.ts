// What a pharmacist abroad reads of a Norwegian prescription is what the prescription chain says now. Over
// real HTTP: dispensings made in Norway count (11 of 12 made there shows 1 of 12 in FHIR, in the CDA and in
// the PDF); a dispensing abroad counts once, before and after its M10 reached Reseptformidleren; RF's status
// refuses (recalled, being dispensed, finished, expired, invalid, unknown to RF); and when RF does not answer
// nothing is stated: 503 for a read, the CDA at either level and the document itself, the prescription left
// out of a search with an outcome entry. A dispensing reported from abroad is checked against the true count.
import { randomUUID } from 'node:crypto';
import { extractText, getDocumentProxy } from 'unpdf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, DocumentReference, MedicationRequest, OperationOutcome } from '@medplum/fhirtypes';
import { PERSONAS } from '../../src/demo/personas.ts';
import { DEMO_RESEPT_IDS } from '../../src/demo/prescription-chain.ts';
import { DEMO_PRESCRIPTIONS, demoM1, seedDemoPrescriptions, type DemoPrescription } from '../../src/eprescription/demo.ts';
import { EXPORT_RULE_SYSTEM } from '../../src/eprescription/rules.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import { CHAIN_ISSUE_SYSTEM, chainFactsOf } from '../../src/http/prescription-chain.ts';
import { recordDemoM10, seedDemoReseptformidleren, storeDemoChainState } from '../../src/sources/reseptformidleren/demo-store.ts';
import type { Db } from '../../src/store/db.ts';
import { mpdDispense } from '../edispensation/support/messages.ts';
import { insertNoPrescription } from '../edispensation/support/store.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';
import { engines, getTestDb, openIsolatedDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startFakeRf, type FakeRf, type RfBehaviour } from '../fixtures/reseptformidleren/fake-rf.ts';

const SCOPE = 'system/MedicationRequest.crs system/MedicationDispense.cruds system/DocumentReference.rs system/Binary.r system/Patient.r';
const SUMATRIPTAN = 5;
const demo = (key: number, changes: Partial<DemoPrescription> = {}): DemoPrescription => ({ ...DEMO_PRESCRIPTIONS[key]!, msgId: randomUUID(), ...changes });

/** The PDF a Level 1 CDA carries, as text. */
async function pdfText(cda: string): Promise<string> {
  const b64 = /<text mediaType="application\/pdf" representation="B64">([^<]+)<\/text>/.exec(cda)?.[1];
  if (!b64) throw new Error('no PDF in the Level 1 document');
  const { text } = await extractText(await getDocumentProxy(new Uint8Array(Buffer.from(b64, 'base64'))), { mergePages: true });
  return text.replace(/\s+/g, ' ');
}

/** The CDA operation answers XML (its errors as OperationOutcome JSON); a Binary read as a FHIR Binary on request. */
const acceptFor = (path: string): RequestInit => (path.startsWith('/fhir/Binary/') ? { headers: { accept: 'application/fhir+json' } } : {});

const ruleCodes = (oo: OperationOutcome) => oo.issue.flatMap((i) => i.details?.coding?.filter((c) => c.system === EXPORT_RULE_SYSTEM).map((c) => c.code) ?? []);

describe("RF's answer as the export rules' facts (chainFactsOf)", () => {
  const listed = (status: string) => ({ reseptId: 'r', status });
  it('takes the count with the undelivered own dispensings, the status, and RF not knowing the prescription', () => {
    expect(chainFactsOf({ dispensings: { kind: 'count', count: 11 }, listed: listed('E') }, [{ deliveredBeforeAsked: false }])).toEqual({
      dispensingsSoFar: 12,
      recalled: false,
      patientRestricted: false,
      chain: { known: true, status: 'E' },
    });
    expect(chainFactsOf({ dispensings: { kind: 'count', count: 2 }, listed: listed('T') }, [])).toMatchObject({ recalled: true, chain: { known: true, status: 'T' } });
    // Listed but with no count, or counted but not listed: RF does not (consistently) know it.
    expect(chainFactsOf({ dispensings: { kind: 'no-prescription' }, listed: listed('E') }, []).chain).toEqual({ known: false });
    expect(chainFactsOf({ dispensings: { kind: 'count', count: 0 }, listed: undefined }, []).chain).toEqual({ known: false });
    expect(chainFactsOf({ dispensings: { kind: 'patient-reservation' }, listed: listed('E') }, []).patientRestricted).toBe(true);
    // Never below what Helsebro recorded itself.
    expect(chainFactsOf({ dispensings: { kind: 'count', count: 0 }, listed: listed('E') }, [], 2).dispensingsSoFar).toBe(2);
  });
});

describe.each(engines)("the prescription chain's word, over HTTP (%s)", (engine) => {
  let srv: TestServer;
  let db: Db;
  const ncp = (path: string, init: RequestInit = {}) => srv.fetchAs(SCOPE, path, init, { client: 'ncp-no' });
  const importXml = (xml: string) => ncp('/fhir/MedicationRequest/$import-m1', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
  const search = async (patient: string) => {
    const res = await ncp(`/fhir/MedicationRequest?patient=${patient}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Bundle;
  };
  const requests = (b: Bundle) => (b.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as MedicationRequest);
  /** Imports an M1 and answers Helsebro's MedicationRequest id. */
  const imported = async (p: DemoPrescription, daysAgo = 14): Promise<string> => {
    const res = await importXml(demoM1(p, new Date(), daysAgo));
    expect(res.status).toBe(201);
    return ((await res.json()) as Bundle).entry!.find((e) => e.resource?.resourceType === 'MedicationRequest')!.resource!.id!;
  };

  beforeAll(async () => {
    db = await getTestDb(engine);
    srv = await startTestServer(engine, { OUTBOX_WORKERS: '0' });
    await seedDemoPrescriptions(db, srv.config);
    await seedDemoReseptformidleren(db);
  });
  afterAll(async () => {
    await srv.close();
  });

  describe('dispensings made in Norway count', () => {
    it('a prescription dispensed 11 of 12 times in Norway shows 1 of 12 in FHIR, in the CDA (repeatNumber and narrative) and in the PDF', async () => {
      const p = demo(SUMATRIPTAN);
      const id = await imported(p);
      await storeDemoChainState(db, { reseptId: p.msgId, status: 'E', dispensings: 11, patientReservation: false });

      const read = (await (await ncp(`/fhir/MedicationRequest/${id}`)).json()) as MedicationRequest;
      // FHIR counts repeats after this dispensing: one dispensing left is no repeat.
      expect(read.dispenseRequest?.numberOfRepeatsAllowed).toBe(0);
      const found = requests(await search(PERSONAS.ms.id)).find((r) => r.id === id);
      expect(found?.dispenseRequest?.numberOfRepeatsAllowed).toBe(0);

      const l3 = await (await ncp(`/fhir/MedicationRequest/${id}/$ehdsi-cda`)).text();
      expect(l3).toContain('<repeatNumber value="1"/>');
      expect(l3).toMatch(/Dispensings remaining \/ Gjenstående utleveringer[\s\S]{0,200}1 of 12/);
      await expectSchemaValidCda(l3);

      const nb = await (await ncp(`/fhir/MedicationRequest/${id}/$ehdsi-cda?level=1`)).text();
      await expectSchemaValidCda(nb);
      expect(await pdfText(nb)).toContain('Dispensings remaining / Gjenstående utleveringer: 1 of 12 / 1 av 12');
      const en = await (await ncp(`/fhir/MedicationRequest/${id}/$ehdsi-cda?level=1`, { headers: { 'accept-language': 'en' } })).text();
      expect(await pdfText(en)).toContain('Dispensings remaining / Gjenstående utleveringer: 1 of 12 / 1 av 12');

      // The document list offers the same.
      const list = (await (
        await ncp(`/fhir/DocumentReference?patient.identifier=${encodeURIComponent(`${OID.fnr}|${PERSONAS.ms.fnr}`)}&type=${encodeURIComponent('http://loinc.org|57833-6')}`)
      ).json()) as Bundle;
      const ref = list.entry?.map((e) => e.resource as DocumentReference).find((d) => d.id === `ep-${id}-l3`);
      expect(await (await ncp(new URL(ref!.content[0]!.attachment.url!).pathname)).text()).toContain('<repeatNumber value="1"/>');
    });

    it("shows the MS persona's demo sumatriptan (11 of 12 made in Norway) as 1 of 12", async () => {
      const { rows } = await db.query<{ id: string }>('select id from prescription where prescription_id = $1', [DEMO_RESEPT_IDS.msSumatriptan]);
      const mr = requests(await search(PERSONAS.ms.id)).find((r) => r.id === rows[0]!.id);
      expect(mr?.dispenseRequest?.numberOfRepeatsAllowed).toBe(0);
      expect(await (await ncp(`/fhir/MedicationRequest/${rows[0]!.id}/$ehdsi-cda`)).text()).toContain('<repeatNumber value="1"/>');
    });

    it('counts the last dispensing, made abroad, once: before its M10 reached RF, after, and once withdrawn', async () => {
      const p = demo(SUMATRIPTAN);
      const id = await imported(p);
      await storeDemoChainState(db, { reseptId: p.msgId, status: 'E', dispensings: 11, patientReservation: false });
      const dispensed = await ncp('/fhir/MedicationDispense', {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify(mpdDispense(p.msgId, { quantity: 1, patientFnr: PERSONAS.ms.fnr })),
      });
      expect(dispensed.status).toBe(201);
      const dispensationId = ((await dispensed.json()) as { id: string }).id;
      const [m10] = (await db.query<{ payload: string; state: string }>(`select payload, state from outbox where dispensation_id = $1`, [dispensationId])).rows;
      expect(m10!.state).toBe('pending');
      // The last of twelve: the M10 tells RF the prescription is finished.
      expect(m10!.payload).toContain('<Avsluttet V="1" DN="Ja"/>');

      const usedUp = async (soFar: number) => {
        const res = await ncp(`/fhir/MedicationRequest/${id}`, { headers: { 'accept-language': 'nb' } });
        expect(res.status).toBe(404);
        const oo = (await res.json()) as OperationOutcome;
        expect(ruleCodes(oo)).toEqual(['NO-EXPORT-NO-DISPENSINGS-LEFT']);
        expect(oo.issue.map((i) => i.diagnostics).join(' ')).toContain(`${soFar} av 12 utleveringer er brukt`);
      };
      // 11 in Norway + 1 abroad whose M10 RF has not received.
      await usedUp(12);
      expect(requests(await search(PERSONAS.ms.id)).map((r) => r.id)).not.toContain(id);
      // The M10 reaches RF (what the demo outbox does): RF counts 12, and Helsebro no longer adds its own.
      expect(await recordDemoM10(db, m10!.payload)).toBe(true);
      await db.query(`update outbox set state = 'delivered', delivered_at = now() - interval '1 second' where dispensation_id = $1`, [dispensationId]);
      await usedUp(12);

      // Withdrawn within 24 hours: the annullering has not reached RF, which still counts 12; 11 remain made.
      const discarded = await ncp(`/fhir/MedicationDispense/${dispensationId}/$discard`, { method: 'POST' });
      expect(discarded.status).toBe(200);
      const again = (await (await ncp(`/fhir/MedicationRequest/${id}`)).json()) as MedicationRequest;
      expect(again.dispenseRequest?.numberOfRepeatsAllowed).toBe(0);
      expect(await (await ncp(`/fhir/MedicationRequest/${id}/$ehdsi-cda`)).text()).toContain('<repeatNumber value="1"/>');
    });
  });

  describe("RF's status", () => {
    it('refuses a recalled prescription with NO-EXPORT-RECALLED: at import, on read, as CDA, and not in a search', async () => {
      const p = demo(0);
      await storeDemoChainState(db, { reseptId: p.msgId, status: 'T', dispensings: 1, patientReservation: false });
      const res = await importXml(demoM1(p, new Date()));
      expect(res.status).toBe(422);
      expect(ruleCodes((await res.json()) as OperationOutcome)).toEqual(['NO-EXPORT-RECALLED']);
      // The M1 is stored as one that may leave Norway; the chain keeps it from being served.
      const { rows } = await db.query<{ id: string; exportable: boolean }>('select id, exportable from prescription where prescription_id = $1', [p.msgId]);
      expect(rows[0]!.exportable).toBe(true);
      const id = rows[0]!.id;
      for (const path of [`/fhir/MedicationRequest/${id}`, `/fhir/MedicationRequest/${id}/$ehdsi-cda`, `/fhir/MedicationRequest/${id}/$ehdsi-cda?level=1`, `/fhir/Binary/ep-${id}-l3`]) {
        const r = await ncp(path, acceptFor(path));
        expect(r.status, path).toBe(404);
        expect(ruleCodes((await r.json()) as OperationOutcome), path).toEqual(['NO-EXPORT-RECALLED']);
      }
      const b = await search(PERSONAS.addison.id);
      expect(requests(b).map((r) => r.id)).not.toContain(id);
      expect(b.entry?.some((e) => e.search?.mode === 'outcome')).toBe(false);
      // The same M1 again: the same answer.
      expect((await importXml(demoM1(p, new Date()))).status).toBe(422);
    });

    it('stops serving a prescription recalled after it was served: the stored outputs are not served', async () => {
      const p = demo(0);
      const id = await imported(p);
      expect((await ncp(`/fhir/MedicationRequest/${id}`)).status).toBe(200);
      await storeDemoChainState(db, { reseptId: p.msgId, status: 'T', dispensings: 0, patientReservation: false });
      const r = await ncp(`/fhir/MedicationRequest/${id}`);
      expect(r.status).toBe(404);
      expect(ruleCodes((await r.json()) as OperationOutcome)).toEqual(['NO-EXPORT-RECALLED']);
    });

    it("keeps the knee persona's amlodipine, recalled in Norway, from abroad", async () => {
      const { rows } = await db.query<{ id: string }>('select id from prescription where prescription_id = $1', [DEMO_RESEPT_IDS.kneeAmlodipin]);
      const r = await ncp(`/fhir/MedicationRequest/${rows[0]!.id}`);
      expect(r.status).toBe(404);
      expect(ruleCodes((await r.json()) as OperationOutcome)).toEqual(['NO-EXPORT-RECALLED']);
      expect((await search(PERSONAS.knee.id)).total).toBe(0);
    });

    it.each([
      ['U', 'NO-EXPORT-BEING-DISPENSED'],
      ['R', 'NO-EXPORT-NO-DISPENSINGS-LEFT'],
      ['F', 'NO-EXPORT-EXPIRED'],
      ['X', 'NO-EXPORT-INVALID'],
      ['A', 'NO-EXPORT-CHAIN-STATUS'],
      [null, 'NO-EXPORT-UNKNOWN-TO-CHAIN'],
    ] as const)('status %s: %s on read, and the prescription is served again once RF says E', async (status, code) => {
      const p = demo(1);
      const id = await imported(p);
      await storeDemoChainState(db, { reseptId: p.msgId, status, dispensings: 0, patientReservation: false });
      const r = await ncp(`/fhir/MedicationRequest/${id}`);
      expect(r.status).toBe(404);
      const oo = (await r.json()) as OperationOutcome;
      expect(ruleCodes(oo)).toEqual([code]);
      expect(requests(await search(PERSONAS.addison.id)).map((x) => x.id)).not.toContain(id);
      await storeDemoChainState(db, { reseptId: p.msgId, status: 'E', dispensings: 0, patientReservation: false });
      expect((await ncp(`/fhir/MedicationRequest/${id}`)).status).toBe(200);
    });

    it('a patient reservation (M9.8 Pasientreservasjon) is a patient restriction', async () => {
      const p = demo(1);
      const id = await imported(p);
      await storeDemoChainState(db, { reseptId: p.msgId, status: 'E', dispensings: 0, patientReservation: true });
      const r = await ncp(`/fhir/MedicationRequest/${id}`);
      expect(r.status).toBe(404);
      expect(ruleCodes((await r.json()) as OperationOutcome)).toEqual(['NO-EXPORT-PATIENT-RESTRICTION']);
    });

    it('tells a being-dispensed prescription at import with its own code, in bokmål when asked', async () => {
      const p = demo(1);
      await storeDemoChainState(db, { reseptId: p.msgId, status: 'U', dispensings: 0, patientReservation: false });
      const res = await ncp('/fhir/MedicationRequest/$import-m1', {
        method: 'POST',
        headers: { 'content-type': 'application/xml', 'accept-language': 'nb' },
        body: demoM1(p, new Date()),
      });
      expect(res.status).toBe(422);
      const oo = (await res.json()) as OperationOutcome;
      expect(ruleCodes(oo)).toEqual(['NO-EXPORT-BEING-DISPENSED']);
      expect(oo.issue[0]?.diagnostics).toContain('under ekspedering i et apotek i Norge');
    });
  });

  describe('a dispensing reported from abroad is checked against the true count', () => {
    const dispense = (prescriptionId: string, o: { prefer?: string } = {}) =>
      ncp('/fhir/MedicationDispense', {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', ...(o.prefer ? { prefer: o.prefer } : {}) },
        body: JSON.stringify(mpdDispense(prescriptionId, { quantity: 1 })),
      });

    it('takes one dispensing abroad that raced the last one in Norway, with a warning, and refuses a further one', async () => {
      // Helsebro served it with dispensings left; Norway dispensed the last one before the report from abroad came.
      const rx = await insertNoPrescription(db, { dispensingsAllowed: 3, quantityPrescribed: 6 });
      await storeDemoChainState(db, { reseptId: rx.prescriptionId, status: 'E', dispensings: 3, patientReservation: false });
      const res = await dispense(rx.prescriptionId, { prefer: 'return=OperationOutcome' });
      expect(res.status).toBe(201);
      const issues = ((await res.json()) as OperationOutcome).issue;
      expect(issues.some((i) => i.severity === 'warning' && /counts no dispensings left/.test(i.diagnostics ?? ''))).toBe(true);
      const { rows } = await db.query<{ payload: string }>("select o.payload from outbox o join dispensation d on d.id = o.dispensation_id where d.prescription_row = $1 and o.channel = 'm10'", [rx.id]);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.payload).toContain('<Avsluttet V="1" DN="Ja"/>');
      const again = await dispense(rx.prescriptionId);
      expect(again.status).toBe(422);
      expect(((await again.json()) as OperationOutcome).issue.map((i) => i.details?.coding?.[0]?.code)).toEqual(['DISP-NOT-DISPENSABLE']);
    });

    it('accepts the last one left after Norway\'s, and its M10 says the prescription is finished', async () => {
      const rx = await insertNoPrescription(db, { dispensingsAllowed: 3, quantityPrescribed: 6 });
      await storeDemoChainState(db, { reseptId: rx.prescriptionId, status: 'E', dispensings: 2, patientReservation: false });
      const res = await dispense(rx.prescriptionId);
      expect(res.status).toBe(201);
      const id = ((await res.json()) as { id: string }).id;
      const { rows } = await db.query<{ payload: string }>('select payload from outbox where dispensation_id = $1', [id]);
      expect(rows[0]!.payload).toContain('<Avsluttet V="1" DN="Ja"/>');
      expect((await dispense(rx.prescriptionId)).status).toBe(422);
    });
  });
});

describe.each(engines)('when Reseptformidleren does not answer (%s)', (engine) => {
  let srv: TestServer;
  let db: Db;
  let rf: FakeRf;
  const ncp = (path: string, init: RequestInit = {}) => srv.fetchAs(SCOPE, path, init, { client: 'ncp-no' });
  let id = '';
  let prescriptionId = '';

  beforeAll(async () => {
    // A store of its own: the patient then has only the prescriptions of these tests, so each misbehaving
    // answer is asked for a few times, not once per prescription other files in the worker imported.
    db = await openIsolatedDb(engine);
    rf = await startFakeRf();
    srv = await startTestServer(engine, { OUTBOX_WORKERS: '0', RESEPTFORMIDLEREN_BASE_URL: rf.url, RESEPTFORMIDLEREN_TIMEOUT_MS: '1000' }, { db });
    const p = demo(0);
    prescriptionId = p.msgId;
    rf.dispensings.set(p.msgId, { kind: 'count', count: 1 });
    rf.lists.set(PERSONAS.addison.fnr, [{ reseptId: p.msgId, status: 'E' }]);
    const res = await ncp('/fhir/MedicationRequest/$import-m1', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: demoM1(p, new Date()) });
    expect(res.status).toBe(201);
    const mr = ((await res.json()) as Bundle).entry!.find((e) => e.resource?.resourceType === 'MedicationRequest')!.resource as MedicationRequest;
    id = mr.id!;
    // RF's count is in the answer to the import: one of four used.
    expect(mr.dispenseRequest?.numberOfRepeatsAllowed).toBe(2);
  });
  afterAll(async () => {
    await srv.close();
    await rf.close();
    await db.close();
  });

  const chainIssue = (oo: OperationOutcome) => oo.issue.flatMap((i) => i.details?.coding?.filter((c) => c.system === CHAIN_ISSUE_SYSTEM).map((c) => c.code) ?? []);

  it.each<[RfBehaviour, string]>([
    ['hang', 'chain-timeout'],
    ['stall-body', 'chain-timeout'],
    ['fail', 'chain-failed'],
    ['garbage', 'chain-malformed'],
    ['xxe', 'chain-malformed'],
    ['huge', 'chain-malformed'],
    ['old-version', 'chain-malformed'],
    ['other-query', 'chain-malformed'],
    ['negative', 'chain-malformed'],
    ['absurd', 'chain-malformed'],
  ])('RF %s: a read, the CDA at both levels and the document answer 503 with Retry-After; a search leaves it out and says so', async (behaviour, code) => {
    // Served once while RF answered, so stored outputs exist: they must not be served instead.
    rf.behaviour = 'ok';
    expect((await ncp(`/fhir/MedicationRequest/${id}`)).status).toBe(200);
    rf.behaviour = behaviour;
    for (const path of [`/fhir/MedicationRequest/${id}`, `/fhir/MedicationRequest/${id}/$ehdsi-cda`, `/fhir/MedicationRequest/${id}/$ehdsi-cda?level=1`, `/fhir/Binary/ep-${id}-l1`]) {
      const res = await ncp(path, acceptFor(path));
      expect(res.status, path).toBe(503);
      expect(res.headers.get('retry-after'), path).toBe('5');
      const oo = (await res.json()) as OperationOutcome;
      expect(chainIssue(oo), path).toEqual([code]);
      expect(oo.issue[0]?.diagnostics).toContain('the dispensings remaining on this prescription cannot be stated');
      expect(JSON.stringify(oo)).not.toMatch(/Ola Nordmann|passwd/);
    }
    const res = await ncp(`/fhir/MedicationRequest?patient=${PERSONAS.addison.id}`);
    expect(res.status).toBe(200);
    const b = (await res.json()) as Bundle;
    const matches = (b.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource?.id);
    expect(matches).not.toContain(id);
    const outcome = b.entry?.find((e) => e.search?.mode === 'outcome')?.resource as OperationOutcome;
    expect(outcome.issue.find((i) => i.diagnostics?.includes(`MedicationRequest/${id}`))).toMatchObject({ severity: 'warning', code: 'incomplete' });
    expect(chainIssue(outcome)).toContain(code);
    // The document list does the same.
    const list = (await (
      await ncp(`/fhir/DocumentReference?patient.identifier=${encodeURIComponent(`${OID.fnr}|${PERSONAS.addison.fnr}`)}&type=${encodeURIComponent('http://loinc.org|57833-6')}`)
    ).json()) as Bundle;
    expect(list.entry?.map((e) => e.resource?.id)).not.toContain(`ep-${id}-l3`);
    expect(chainIssue(list.entry?.find((e) => e.search?.mode === 'outcome')?.resource as OperationOutcome)).toContain(code);
  });

  it('answers an import 503 while RF does not answer (the M1 is kept), and the Bundle once it does', async () => {
    const p = demo(1);
    rf.dispensings.set(p.msgId, { kind: 'count', count: 0 });
    rf.lists.set(PERSONAS.addison.fnr, [{ reseptId: prescriptionId, status: 'E' }, { reseptId: p.msgId, status: 'E' }]);
    rf.behaviour = 'hang';
    const xml = demoM1(p, new Date());
    const first = await ncp('/fhir/MedicationRequest/$import-m1', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('5');
    rf.behaviour = 'ok';
    const again = await ncp('/fhir/MedicationRequest/$import-m1', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
    expect(again.status).toBe(200);
    expect(((await again.json()) as Bundle).entry?.some((e) => e.resource?.resourceType === 'MedicationRequest')).toBe(true);
  });

  it('still takes a report of a dispensing abroad while RF does not answer, counting what Helsebro knows, with a warning', async () => {
    rf.behaviour = 'hang';
    const res = await ncp('/fhir/MedicationDispense', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', prefer: 'return=OperationOutcome' },
      body: JSON.stringify(mpdDispense(prescriptionId, { quantity: 1 })),
    });
    expect(res.status).toBe(201);
    const oo = (await res.json()) as OperationOutcome;
    expect(oo.issue.map((i) => i.diagnostics).join(' ')).toContain('Dispensings made in Norway were not counted in the checks');
    rf.behaviour = 'ok';
  });

  it('checks a report against RF\'s count when it answers', async () => {
    rf.behaviour = 'ok';
    rf.dispensings.set(prescriptionId, { kind: 'count', count: 4 });
    const res = await ncp('/fhir/MedicationDispense', { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(mpdDispense(prescriptionId, { quantity: 1 })) });
    expect(res.status).toBe(422);
    const oo = (await res.json()) as OperationOutcome;
    expect(oo.issue.map((i) => i.details?.coding?.[0]?.code)).toEqual(['DISP-NOT-DISPENSABLE']);
  });
});
