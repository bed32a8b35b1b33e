// Who may do what with an EU prescription's dispensations, and what of the pharmacy's M10 is kept (audit2
// findings 2, 6, 7, 8, 9 and 14), over real HTTP with demo tokens of every kind:
//   - a pharmacy reads, withdraws and replays only the dispensations it reported (same client, same org);
//   - it reports only in its own organisation's name (MsgHead Sender ENH/HER, Utleverer, performer);
//   - an annullering without AnnulleringsId never guesses among several dispensations;
//   - Avsluttet 1 closes the prescription, and the eDispensation says so;
//   - an M10 naming another patient (by name and birth date) is refused;
//   - Batchnr, ByttereservasjonKunde and dosage interventions reach the eDispensation; what cannot is refused;
//   - refusals point at M10 elements; AuditEvents name the prescription and the EU patient.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Binary, Bundle, MedicationDispense, OperationOutcome } from '@medplum/fhirtypes';
import type { DemoTokenOptions } from '../../src/auth/demo-issuer.ts';
import type { Db } from '../../src/store/db.ts';
import { loadDemoFest } from '../../src/registries/fest/ingest.ts';
import { outboxForDispensation } from '../../src/edispensation/outbox/repository.ts';
import { comparePatients } from '../../src/edispensation/checks.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { engines, openIsolatedDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';
import { euPrescriptionCda, pharmacyM10 as sampleM10, type M10Options } from './support/messages.ts';
import { prescriptionCounters } from './support/store.ts';

const NCP_SCOPE = 'system/MedicationRequest.cruds system/MedicationDispense.cruds';
const PHARMACY_SCOPE = 'system/MedicationRequest.rs system/MedicationDispense.cruds';
/** Apotek 1 Ski Storsenter, the sender of the official sample M10s (ENH 983044778, HER 8090688). */
const SKI = { client: 'pharmacy-apotek-1-ski', org: '983044778' };
/** Another pharmacy (synthetic numbers). */
const BERGEN = { client: 'pharmacy-vitus-bergen', org: '912345678', her: '8080808' };
/** The sample M10 dispensing what the EU prescription prescribes (Metformin Mylan 500 mg), as the dispensing rules require. */
const pharmacyM10 = (prescriptionId: string, o: M10Options = {}) => sampleM10(prescriptionId, { product: 'metformin', ...o });
const bergenM10 = (o: M10Options = {}): M10Options => ({ senderOrgnr: BERGEN.org, herId: BERGEN.her, ...o });

const TOKENS: Record<string, Partial<DemoTokenOptions> | undefined> = {
  'owning pharmacy': { ...SKI, scope: PHARMACY_SCOPE },
  'other pharmacy': { client: BERGEN.client, org: BERGEN.org, scope: PHARMACY_SCOPE },
  'same client, other organisation': { client: SKI.client, org: '998877665', scope: PHARMACY_SCOPE },
  'same client, no organisation': { client: SKI.client, scope: PHARMACY_SCOPE },
  ncp: { client: 'ncp-no', scope: NCP_SCOPE },
  operator: { client: 'operator', scope: 'system/MedicationDispense.cruds system/MedicationRequest.rs' },
  auditor: { client: 'auditor', scope: 'system/AuditEvent.rs system/MedicationDispense.rs' },
  clinician: { hpr: '9144889', scope: 'user/MedicationRequest.rs user/MedicationDispense.cruds' },
  citizen: { patient: PERSONAS.addison.fnr, scope: 'patient/MedicationRequest.rs patient/MedicationDispense.crs' },
  'no token': undefined,
};

describe.each(engines)('pharmacy access and M10 content for EU prescriptions (%s)', (engine) => {
  let srv: TestServer;
  let db: Db;

  beforeAll(async () => {
    db = await openIsolatedDb(engine);
    await loadDemoFest(db);
    srv = await startTestServer(
      engine,
      {
        OUTBOX_WORKERS: '0',
        RATE_LIMIT_PER_MINUTE: '100000',
        // One pharmacy registered with its organisation and HER-id; the rest by prefix, their organisation from the token.
        SYSTEM_CLIENTS: 'ncp-no=ncp,pharmacy-registered-ski=pharmacy@983044778/8090688,pharmacy-*=pharmacy,operator=operator,auditor=auditor',
      },
      { db },
    );
  });
  afterAll(async () => {
    await srv.close();
  });

  const as = async (who: Partial<DemoTokenOptions> | undefined, path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (who) headers.set('authorization', `Bearer ${await srv.token(who)}`);
    return fetch(`${srv.url}${path}`, { ...init, headers });
  };
  const ski = { ...SKI, scope: PHARMACY_SCOPE };
  const bergen = { client: BERGEN.client, org: BERGEN.org, scope: PHARMACY_SCOPE };
  const m10As = (who: Partial<DemoTokenOptions>, xml: string) => as(who, '/fhir/MedicationDispense/$import-m10', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
  const outcome = async (res: Response) => ((await res.json()) as OperationOutcome).issue;
  const codes = async (res: Response) => (await outcome(res)).map((i) => i.details?.coding?.[0]?.code);

  async function euPrescription(): Promise<{ rxId: string; prescriptionId: string }> {
    const { xml, prescriptionId } = euPrescriptionCda('metformin');
    const res = await as({ client: 'ncp-no', scope: NCP_SCOPE }, '/fhir/MedicationRequest/$import-ehdsi-cda', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
    expect(res.status).toBe(201);
    const b = (await res.json()) as Bundle;
    return { rxId: b.entry![0]!.response!.location!.split('/')[1]!, prescriptionId };
  }

  async function dispensed(who: Partial<DemoTokenOptions>, prescriptionId: string, o: M10Options = {}): Promise<{ id: string; msgId: string }> {
    const m10 = pharmacyM10(prescriptionId, o);
    const res = await m10As(who, m10.xml);
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(201);
    return { id: ((await res.json()) as MedicationDispense).id!, msgId: m10.msgId };
  }

  async function ncpMessage(dispensationId: string): Promise<{ md: MedicationDispense; cda: string }> {
    const messages = (await outboxForDispensation(db, dispensationId)).filter((m) => m.channel === 'ncp');
    expect(messages).toHaveLength(1);
    const bundle = JSON.parse(messages[0]!.payload) as Bundle;
    const md = bundle.entry!.find((e) => e.resource?.resourceType === 'MedicationDispense')!.resource as MedicationDispense;
    const binary = bundle.entry!.find((e) => e.resource?.resourceType === 'Binary')!.resource as Binary;
    const cda = Buffer.from(binary.data!, 'base64').toString('utf8');
    await expectSchemaValidCda(cda);
    return { md, cda };
  }

  const ncpMessages = async (rxId: string) => Number((await db.query<{ n: number }>('select count(*)::int as n from outbox where order_key = $1', [rxId])).rows[0]!.n);

  describe('finding 2: a pharmacy acts only on its own dispensations, in its own name', () => {
    it('reads, fetches the M10 of, and withdraws a dispensation: the owner only, among every kind of token', async () => {
      const { rxId, prescriptionId } = await euPrescription();
      const { id } = await dispensed(ski, prescriptionId);
      const expected: Record<string, { read: number; m10: number; discard: number }> = {
        'other pharmacy': { read: 403, m10: 403, discard: 403 },
        'same client, other organisation': { read: 403, m10: 403, discard: 403 },
        'same client, no organisation': { read: 403, m10: 403, discard: 403 },
        ncp: { read: 200, m10: 200, discard: 403 },
        operator: { read: 403, m10: 403, discard: 403 },
        auditor: { read: 403, m10: 403, discard: 403 },
        clinician: { read: 200, m10: 200, discard: 403 },
        citizen: { read: 403, m10: 403, discard: 403 },
        'no token': { read: 401, m10: 401, discard: 401 },
        // Last: the owner withdraws it.
        'owning pharmacy': { read: 200, m10: 200, discard: 200 },
      };
      for (const [kind, want] of Object.entries(expected)) {
        const who = TOKENS[kind];
        const read = await as(who, `/fhir/MedicationDispense/${id}`);
        expect(read.status, `${kind} read`).toBe(want.read);
        const m10 = await as(who, `/fhir/MedicationDispense/${id}/$m10`, { headers: { accept: 'application/xml' } });
        expect(m10.status, `${kind} $m10`).toBe(want.m10);
        const discard = await as(who, `/fhir/MedicationDispense/${id}/$discard`, { method: 'POST' });
        expect(discard.status, `${kind} $discard`).toBe(want.discard);
        if (kind.startsWith('other pharmacy') || kind.startsWith('same client')) {
          expect(await codes(read)).toContain('ACCESS-PHARMACY-OWN-ONLY');
          expect(await codes(discard)).toContain('ACCESS-PHARMACY-OWN-ONLY');
          // The refusal names no MsgId the caller could act with.
          expect(await m10.text()).not.toMatch(/MsgId/);
        }
      }
      // One dispensation and one discard went to the NCP, both from the owner.
      expect(await ncpMessages(rxId)).toBe(2);
    });

    it('refuses another pharmacy\u2019s M10 annullering of it with 403 naming AnnulleringsId, and sends nothing', async () => {
      const { rxId, prescriptionId } = await euPrescription();
      const { id, msgId } = await dispensed(ski, prescriptionId);
      const res = await m10As(bergen, pharmacyM10(prescriptionId, bergenM10({ annullering: true, annulleringsId: msgId })).xml);
      expect(res.status).toBe(403);
      const [issue] = await outcome(res);
      expect(issue!.details?.coding?.[0]?.code).toBe('ACCESS-PHARMACY-OWN-ONLY');
      expect(issue!.expression).toEqual(['MsgHead.Document.RefDoc.Content.Utleveringsrapport.Utlevering.AnnulleringsId']);
      expect(((await (await as(ski, `/fhir/MedicationDispense/${id}`)).json()) as MedicationDispense).status).toBe('completed');
      expect(await ncpMessages(rxId)).toBe(1);
      // The owner may.
      expect((await m10As(ski, pharmacyM10(prescriptionId, { annullering: true, annulleringsId: msgId }).xml)).status).toBe(200);
    });

    it('never answers a replay of another pharmacy\u2019s MsgId with its dispensation', async () => {
      const { prescriptionId } = await euPrescription();
      const original = pharmacyM10(prescriptionId);
      const first = (await (await m10As(ski, original.xml)).json()) as MedicationDispense;
      // The same bytes from another pharmacy: they name Apotek 1 Ski as sender, which is not Bergen.
      const same = await m10As(bergen, original.xml);
      expect(same.status).toBe(403);
      expect(await codes(same)).toEqual(['ACCESS-PHARMACY-ORGANISATION']);
      // Bergen's own M10 under Ski's MsgId: the identifier is taken; nothing of Ski's dispensation comes back.
      const own = await m10As(bergen, pharmacyM10(prescriptionId, bergenM10({ msgId: original.msgId })).xml);
      expect(own.status).toBe(409);
      const text = await own.text();
      expect(text).toContain('DISP-IDENTIFIER-CONFLICT');
      expect(text).not.toContain(first.id!);
      // The same client for another organisation is another pharmacy too.
      const otherOrg = await m10As({ client: SKI.client, org: '998877665', scope: PHARMACY_SCOPE }, pharmacyM10(prescriptionId, { msgId: original.msgId, senderOrgnr: '998877665' }).xml);
      expect(otherOrg.status).toBe(409);
      expect(await otherOrg.text()).not.toContain(first.id!);
      // The owner's replay is still a replay.
      const replay = await m10As(ski, original.xml);
      expect(replay.status).toBe(200);
      expect(((await replay.json()) as MedicationDispense).id).toBe(first.id);
    });

    it('refuses an M10 in another pharmacy\u2019s name, naming the element', async () => {
      const { rxId, prescriptionId } = await euPrescription();
      const cases: [string, Partial<DemoTokenOptions>, M10Options, string][] = [
        ['sender ENH of another pharmacy', bergen, {}, 'MsgHead.MsgInfo.Sender.Organisation.Ident'],
        ['Utleverer HER-id other than the sender\u2019s', ski, {}, 'MsgHead.Document.RefDoc.Content.Utleveringsrapport.Utlevering.Utleverer.HerId'],
        ['a client with no organisation', { client: SKI.client, scope: PHARMACY_SCOPE }, {}, 'MsgHead.MsgInfo.Sender.Organisation.Ident'],
        ['a registered HER-id other than the message\u2019s', { client: 'pharmacy-registered-ski', scope: PHARMACY_SCOPE }, { herId: '8143811' }, 'MsgHead.MsgInfo.Sender.Organisation.Ident'],
      ];
      for (const [title, who, o, expression] of cases) {
        let xml = pharmacyM10(prescriptionId, o).xml;
        if (title.startsWith('Utleverer')) xml = xml.replace(/(<HerId>\s*<Id[^>]*>)8090688</, '$18143811<');
        const res = await m10As(who, xml);
        expect(res.status, title).toBe(403);
        const [issue] = await outcome(res);
        expect(issue!.details?.coding?.[0]?.code, title).toBe('ACCESS-PHARMACY-ORGANISATION');
        expect(issue!.expression, title).toEqual([expression]);
      }
      expect(await ncpMessages(rxId)).toBe(0);
      // The registered client reports under its registered HER-id with no organisation in its token.
      expect((await m10As({ client: 'pharmacy-registered-ski', scope: PHARMACY_SCOPE }, pharmacyM10(prescriptionId).xml)).status).toBe(201);
    });

    it('refuses a MedicationDispense whose performer is another pharmacy', async () => {
      const { rxId, prescriptionId } = await euPrescription();
      const md = (orgnr: string): MedicationDispense => ({
        resourceType: 'MedicationDispense',
        identifier: [{ system: 'urn:oid:2.16.578.1.12.4.1.2.8090688', value: `UTL-${orgnr}-${prescriptionId}` }],
        status: 'completed',
        medicationReference: { reference: '#med' },
        contained: [
          { resourceType: 'Medication', id: 'med', identifier: [{ system: 'https://helsebro.no/fhir/NamingSystem/no-varenummer', value: '181457' }], code: { text: 'Metformin Mylan Tab 500 mg' } },
          { resourceType: 'Organization', id: 'apotek', identifier: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.101', value: orgnr }], name: 'Apotek' },
        ],
        subject: { display: 'Robert Schuman' },
        performer: [{ actor: { reference: '#apotek' } }],
        authorizingPrescription: [{ reference: `MedicationRequest/${rxId}` }],
        quantity: { value: 1, system: 'http://unitsofmeasure.org', code: '1' },
        whenHandedOver: new Date().toISOString(),
      });
      const post = (who: Partial<DemoTokenOptions>, body: MedicationDispense) =>
        as(who, '/fhir/MedicationDispense', { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
      const res = await post(bergen, md(SKI.org));
      expect(res.status).toBe(403);
      const [issue] = await outcome(res);
      expect(issue).toMatchObject({ expression: ['MedicationDispense.performer'], details: { coding: [{ code: 'ACCESS-PHARMACY-ORGANISATION' }] } });
      expect((await post(ski, md(SKI.org))).status).toBe(201);
    });
  });

  describe('finding 7: an annullering without AnnulleringsId', () => {
    it('is refused with 422 naming AnnulleringsId while the prescription has two dispensations, and never withdraws another pharmacy\u2019s', async () => {
      const { rxId, prescriptionId } = await euPrescription();
      const mine = await dispensed(ski, prescriptionId);
      const theirs = await dispensed(bergen, prescriptionId, bergenM10());
      const unnamed = () => pharmacyM10(prescriptionId, { annullering: true }).xml;
      const ambiguous = await m10As(ski, unnamed());
      expect(ambiguous.status).toBe(422);
      const [issue] = await outcome(ambiguous);
      expect(issue).toMatchObject({
        expression: ['MsgHead.Document.RefDoc.Content.Utleveringsrapport.Utlevering.AnnulleringsId'],
        details: { coding: [{ code: 'DISP-DISCARD-AMBIGUOUS' }] },
      });
      // Ski withdraws its own by name; then the one left is Bergen's, which an unnamed annullering by Ski may not touch.
      expect((await m10As(ski, pharmacyM10(prescriptionId, { annullering: true, annulleringsId: mine.msgId }).xml)).status).toBe(200);
      const notMine = await m10As(ski, unnamed());
      expect(notMine.status).toBe(403);
      expect(await codes(notMine)).toEqual(['ACCESS-PHARMACY-OWN-ONLY']);
      expect(((await (await as(bergen, `/fhir/MedicationDispense/${theirs.id}`)).json()) as MedicationDispense).status).toBe('completed');
      // Bergen's unnamed annullering withdraws the one dispensation left, its own.
      const own = await m10As(bergen, pharmacyM10(prescriptionId, bergenM10({ annullering: true })).xml);
      expect(own.status).toBe(200);
      expect(((await own.json()) as MedicationDispense).id).toBe(theirs.id);
      expect(await prescriptionCounters(db, rxId)).toMatchObject({ done: 0, quantity: 0 });
    });
  });

  describe('finding 6: Avsluttet', () => {
    it('closes the EU prescription, tells the NCP in the eDispensation, and refuses later dispensings', async () => {
      const { rxId, prescriptionId } = await euPrescription();
      const { id } = await dispensed(ski, prescriptionId, { avsluttet: '1' });
      expect(await prescriptionCounters(db, rxId)).toEqual({ done: 1, quantity: 1, status: 'completed' });
      const { md, cda } = await ncpMessage(id);
      expect(md.note?.map((n) => n.text).join(' ')).toMatch(/closed the prescription/);
      // The related prescription (REFR) is stated completed.
      expect(cda).toMatch(/<entryRelationship typeCode="REFR">\s*<substanceAdministration[^>]*>\s*<id [^>]*\/>\s*<statusCode code="completed"\/>/);
      const later = await m10As(ski, pharmacyM10(prescriptionId).xml);
      expect(later.status).toBe(422);
      expect(await codes(later)).toContain('DISP-NOT-DISPENSABLE');
      // Avsluttet 2 leaves it open.
      const open = await euPrescription();
      const { id: id2 } = await dispensed(ski, open.prescriptionId, { avsluttet: '2' });
      expect(await prescriptionCounters(db, open.rxId)).toMatchObject({ status: 'active' });
      expect((await ncpMessage(id2)).cda).toMatch(/<entryRelationship typeCode="REFR">\s*<substanceAdministration[^>]*>\s*<id [^>]*\/>\s*<statusCode code="active"\/>/);
    });
  });

  describe('finding 8: the patient the M10 names', () => {
    it('is compared by name and birth date when no identifier system is shared; a clear mismatch is refused', async () => {
      const { rxId, prescriptionId } = await euPrescription();
      const other = await m10As(ski, pharmacyM10(prescriptionId, { patient: 'sample' }).xml);
      expect(other.status).toBe(422);
      const [issue] = await outcome(other);
      expect(issue).toMatchObject({ expression: ['MsgHead.MsgInfo.Patient'], details: { coding: [{ code: 'DISP-PATIENT-MISMATCH' }] } });
      const wrongBirth = await m10As(ski, pharmacyM10(prescriptionId, { patient: { family: 'Schuman', given: 'Robert', birthDate: '1986-06-29' } }).xml);
      expect(await codes(wrongBirth)).toEqual(['DISP-PATIENT-MISMATCH']);
      expect(await ncpMessages(rxId)).toBe(0);
      // Case, diacritics and the order of given names do not matter.
      await dispensed(ski, prescriptionId, { patient: { family: 'SCHÜMAN', given: 'Jean Robert', birthDate: '1886-06-29' } });
    });

    it('returns what could not be cross-checked in a Warning header with the 201', async () => {
      const { prescriptionId } = await euPrescription();
      const xml = pharmacyM10(prescriptionId).xml.replace(/<Patient>[\s\S]*?<\/Patient>/, '');
      const res = await m10As(ski, xml);
      expect(res.status).toBe(201);
      expect(res.headers.get('warning')).toMatch(/^299 helsebro ".*could not be cross-checked/);
    });

    it('normalises names before comparing them', () => {
      const rx = { patientName: { family: 'Kowalska-Nowak', given: ['Zoë', 'Anna'] }, patientBirthDate: '1970-01-02' };
      expect(comparePatients({ family: 'KOWALSKA NOWAK', given: ['anna', 'zoe'], identifiers: [] }, rx)).toBe('match');
      expect(comparePatients({ family: 'Nowak', given: ['A.'], identifiers: [], birthDate: '1970-01-02' }, rx)).toBe('match');
      expect(comparePatients({ family: 'Kowalski', given: ['Anna'], identifiers: [] }, rx)).toBe('mismatch');
      expect(comparePatients({ family: 'Kowalska', given: ['Piotr'], identifiers: [] }, rx)).toBe('mismatch');
      expect(comparePatients({ given: [], identifiers: [] }, rx)).toBe('not-compared');
      // A name in another script cannot be held against a Latin spelling.
      expect(comparePatients({ family: 'Κοβάλσκα', given: [], identifiers: [] }, rx)).toBe('not-compared');
      expect(comparePatients({ family: 'Søreide', given: ['Ærlig'], identifiers: [] }, { patientName: { family: 'Soreide', given: ['Aerlig'] } })).toBe('match');
    });
  });

  describe('finding 9: M10 content is carried or refused, never dropped', () => {
    it('carries the batch number, the customer\u2019s substitution reservation and a dosage intervention into the stored dispensation and the eDispensation', async () => {
      const { prescriptionId } = await euPrescriptionFor();
      const intervention =
        '<Intervensjon><Kode V="5" S="2.16.578.1.12.4.1.1.7412" DN="Dosering"/><EndringsType V="D" DN="Dosering"/><KonfKunde>true</KonfKunde>' +
        '<Begrunnelse>Dosering endret etter samtale med forskriver: 5 ml 3 ganger daglig</Begrunnelse></Intervensjon>';
      const { id } = await dispensed(ski, prescriptionId, { batchnr: 'LOT-4711', byttereservasjonKunde: true, intervensjon: intervention });
      const stored = (await (await as(ski, `/fhir/MedicationDispense/${id}`)).json()) as MedicationDispense;
      const med = stored.contained?.find((r) => r.resourceType === 'Medication') as { batch?: { lotNumber?: string } };
      expect(med.batch?.lotNumber).toBe('LOT-4711');
      const notes = stored.note?.map((n) => n.text).join('\n') ?? '';
      expect(notes).toMatch(/declined generic substitution/);
      expect(notes).toMatch(/Dosering endret \(konferert med kunden\): Dosering endret etter samtale med forskriver: 5 ml 3 ganger daglig/);
      const { md, cda } = await ncpMessage(id);
      expect(md.note).toEqual(stored.note);
      expect(cda).toContain('<lotNumberText>LOT-4711</lotNumberText>');
      expect(cda).toContain('Dosering endret etter samtale med forskriver');
      expect(cda).toContain('declined generic substitution');
    });

    it('refuses what the eDispensation cannot carry with 422 DISP-ELEMENT-NOT-CARRIED naming each element', async () => {
      const { rxId, prescriptionId } = await euPrescriptionFor();
      const xml = pharmacyM10(prescriptionId, {
        kanselleringskode: '<Kanselleringskode V="4" DN="Annen årsak"/>',
        intervensjon: '<Intervensjon><EndringsType V="X" DN="Ukjent"/><Begrunnelse>?</Begrunnelse></Intervensjon>',
      }).xml;
      const res = await m10As(ski, xml);
      expect(res.status).toBe(422);
      const issues = await outcome(res);
      expect(issues.map((i) => i.details?.coding?.[0]?.code)).toEqual(['DISP-ELEMENT-NOT-CARRIED', 'DISP-ELEMENT-NOT-CARRIED']);
      expect(issues.map((i) => i.expression?.[0]).sort()).toEqual([
        'MsgHead.Document.RefDoc.Content.Utleveringsrapport.Kanselleringskode',
        'MsgHead.Document.RefDoc.Content.Utleveringsrapport.Utlevering.Intervensjon.EndringsType',
      ]);
      expect(await ncpMessages(rxId)).toBe(0);
    });

    it('refuses an M10 that breaks the schema\u2019s element order with 400 naming the element', async () => {
      const { prescriptionId } = await euPrescriptionFor();
      const misordered = pharmacyM10(prescriptionId, { batchnr: 'LOT-1' }).xml.replace(
        /(<ByttereservasjonKunde>false<\/ByttereservasjonKunde>)\s*(<Batchnr>LOT-1<\/Batchnr>)/,
        '$2\n$1',
      );
      expect(misordered).toMatch(/<Batchnr>LOT-1<\/Batchnr>\s*<ByttereservasjonKunde>/);
      const res = await m10As(ski, misordered);
      expect(res.status).toBe(400);
      const [issue] = await outcome(res);
      expect(issue!.expression).toEqual(['MsgHead.Document.RefDoc.Content.Utleveringsrapport.Utlevering.ByttereservasjonKunde']);
      const unknown = await m10As(ski, pharmacyM10(prescriptionId).xml.replace('<Annullering>false</Annullering>', '<Annullering>false</Annullering><Ekstra>1</Ekstra>'));
      expect(unknown.status).toBe(400);
    });

    // The EU prescription of these tests forbids nothing the Cosylan sample M10 does except what is tested.
    async function euPrescriptionFor() {
      return euPrescription();
    }
  });

  describe('finding 14: refusals in M10 terms, and audit by prescription and patient', () => {
    it('points business refusals at the M10 element, and audits them under the prescription and the EU patient', async () => {
      const { rxId, prescriptionId } = await euPrescription();
      const res = await m10As(ski, pharmacyM10(prescriptionId, { antall: '6.000', utleveringsdato: '2099-01-01' }).xml);
      expect(res.status).toBe(422);
      const requestId = res.headers.get('x-request-id')!;
      const expressions = (await outcome(res)).map((i) => i.expression?.[0]);
      expect(expressions).toContain('MsgHead.Document.RefDoc.Content.Utleveringsrapport.Utlevering.ReseptDokLegemiddel.Antall');
      expect(expressions).toContain('MsgHead.Document.RefDoc.Content.Utleveringsrapport.Utlevering.Utleveringsdato');
      expect(expressions.join(' ')).not.toMatch(/MedicationDispense/);
      const event = await auditOf(requestId);
      expect(event.entity?.some((e) => e.what?.reference === `MedicationRequest/${rxId}`)).toBe(true);
      expect(event.entity?.some((e) => e.role?.code === '1' && e.what?.identifier?.value === '1-1234-W8')).toBe(true);
    });

    it('audits a pharmacy reading the EU prescription under the EU patient', async () => {
      const { rxId } = await euPrescription();
      const res = await as(ski, `/fhir/MedicationRequest/${rxId}`);
      expect(res.status).toBe(200);
      const event = await auditOf(res.headers.get('x-request-id')!);
      expect(event.entity?.some((e) => e.role?.code === '1' && e.what?.identifier?.value === '1-1234-W8')).toBe(true);
    });

    async function auditOf(requestId: string): Promise<AuditEvent> {
      for (let i = 0; i < 50; i++) {
        const rows = await db.query<{ resource: AuditEvent }>('select resource from audit_event where request_id = $1', [requestId]);
        if (rows.rows[0]) return rows.rows[0].resource;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no AuditEvent for request ${requestId}`);
    }
  });
});
