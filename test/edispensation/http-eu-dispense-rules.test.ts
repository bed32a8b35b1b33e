// The Norwegian dispensing rules on EU prescriptions dispensed in Norway, over HTTP, for both ways a pharmacy
// reports (M10 and MedicationDispense): the product must be the prescribed substance, strength and form, a
// prescription that forbids substitution gets the prescribed product or nothing, a different product is
// reported to the NCP as substituted, narcotics and habit-forming medicines are outside the scope, the
// quantity is compared in a common unit, and a prescription without a validity period expires after the
// Norwegian year (audit2-view-eu findings 1, 4, 5, 10). A refusal stores and sends nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Binary, Bundle, MedicationDispense, OperationOutcome } from '@medplum/fhirtypes';
import type { Db } from '../../src/store/db.ts';
import { loadDemoFest } from '../../src/registries/fest/ingest.ts';
import { outboxForDispensation } from '../../src/edispensation/outbox/repository.ts';
import { cdaPackContent } from '../../src/edispensation/eu/prescribed-pack.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';
import { viewClient } from '../view/support/client.ts';
import { textOf } from '../view/support/html.ts';
import { euProductCda, productM10, ENGINE } from './support/eu-dispense.ts';
import { fixture } from './support/fixtures.ts';
import { euPrescriptionBundle } from './support/messages.ts';
import { count, prescriptionCounters } from './support/store.ts';

const NCP = 'system/MedicationRequest.cruds system/MedicationDispense.cruds';
const PHARMACY = 'system/MedicationRequest.rs system/MedicationDispense.cruds';
const U = 'MsgHead.Document.RefDoc.Content.Utleveringsrapport.Utlevering';
const PACK = `${U}.ReseptDokLegemiddel.Forskrivning.Legemiddelpakning`;
const daysAgo = (n: number) => new Date(Date.now() - n * 86400_000);

describe.each(engines)('the Norwegian dispensing rules on EU prescriptions (%s)', (engine) => {
  let srv: TestServer;
  let db: Db;

  beforeAll(async () => {
    db = await getTestDb(engine);
    await loadDemoFest(db);
    srv = await startTestServer(engine, { OUTBOX_WORKERS: '0' });
  });
  afterAll(async () => {
    await srv.close();
  });

  const asNcp = (path: string, init: RequestInit = {}) => srv.fetchAs(NCP, path, init, { client: 'ncp-no' });
  const asPharmacy = (path: string, init: RequestInit = {}) => srv.fetchAs(PHARMACY, path, init, { client: 'pharmacy-apotek-1-ski' });
  const deliverCda = (xml: string) => asNcp('/fhir/MedicationRequest/$import-ehdsi-cda', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
  const deliverBundle = (b: unknown) => asNcp('/fhir/Bundle', { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(b) });
  const reportM10 = (xml: string) => asPharmacy('/fhir/MedicationDispense/$import-m10', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
  const reportMd = (md: MedicationDispense) => asPharmacy('/fhir/MedicationDispense', { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(md) });
  const issuesOf = async (res: Response) => ((await res.json()) as OperationOutcome).issue.map((i) => ({ code: i.details?.coding?.[0]?.code, at: i.expression?.[0], text: i.diagnostics }));
  const codesOf = async (res: Response) => (await issuesOf(res)).map((i) => i.code).sort();

  async function stored(xml: string): Promise<{ rxId: string }> {
    const res = await deliverCda(xml);
    expect(res.status, await res.clone().text()).toBe(201);
    const b = (await res.json()) as Bundle;
    return { rxId: b.entry![0]!.response!.location!.split('/')[1]! };
  }

  /** Nothing stored, nothing sent for this prescription. */
  async function nothingFor(rxId: string) {
    expect(await count(db, 'select 1 from dispensation where prescription_row = $1', [rxId])).toBe(0);
    expect(await count(db, 'select 1 from outbox where order_key = $1', [rxId])).toBe(0);
  }

  async function sent(dispensationId: string) {
    const messages = (await outboxForDispensation(db, dispensationId)).filter((m) => m.channel === 'ncp');
    expect(messages).toHaveLength(1);
    const bundle = JSON.parse(messages[0]!.payload) as Bundle;
    const md = bundle.entry!.find((e) => e.resource?.resourceType === 'MedicationDispense')!.resource as MedicationDispense;
    const cda = Buffer.from((bundle.entry!.find((e) => e.resource?.resourceType === 'Binary')!.resource as Binary).data!, 'base64').toString('utf8');
    await expectSchemaValidCda(cda);
    return { md, cda };
  }

  /** A Norwegian pharmacy's MedicationDispense for an EU prescription. */
  function pharmacyDispense(rxId: string, medication: Record<string, unknown>, o: { quantity?: MedicationDispense['quantity']; wasSubstituted?: boolean } = {}): MedicationDispense {
    return {
      resourceType: 'MedicationDispense',
      identifier: [{ system: 'urn:oid:2.16.578.1.12.4.1.2.8090688', value: `UTL-${crypto.randomUUID()}` }],
      status: 'completed',
      medicationReference: { reference: '#med' },
      contained: [
        { resourceType: 'Medication', id: 'med', ...medication } as never,
        { resourceType: 'Organization', id: 'apotek', identifier: [{ system: 'urn:oid:2.16.578.1.12.4.1.2', value: '8090688' }], name: 'Apotek 1 Ski Storsenter' },
      ],
      subject: { display: 'Robert Schuman' },
      performer: [{ actor: { reference: '#apotek' } }],
      authorizingPrescription: [{ reference: `MedicationRequest/${rxId}` }],
      quantity: o.quantity ?? { value: 1, system: 'http://unitsofmeasure.org', code: '1' },
      whenHandedOver: new Date().toISOString(),
      ...(o.wasSubstituted !== undefined ? { substitution: { wasSubstituted: o.wasSubstituted } } : {}),
    };
  }
  const metforminMylan = { identifier: [{ system: 'https://helsebro.no/fhir/NamingSystem/no-varenummer', value: '181457' }], code: { text: 'Metformin Mylan Tab 500 mg' } };
  const hydrocortisone = { identifier: [{ system: 'https://helsebro.no/fhir/NamingSystem/no-varenummer', value: '138545' }], code: { text: 'Hydrokortison Orifarm Tab 10 mg' } };

  describe('finding 1: the product is the prescribed substance, strength and form', () => {
    it('refuses another substance for a prescription that forbids substitution, on both routes, naming the M10 element', async () => {
      const { xml, prescriptionId } = euProductCda({ subst: 'N' });
      const { rxId } = await stored(xml);
      // The audit's case a: Cosylan (ethylmorphine, reseptgruppe B) reported for the prescription.
      const cosylan = await reportM10(productM10(prescriptionId, { varenr: '541409' }).xml);
      expect(cosylan.status).toBe(422);
      const issues = await issuesOf(cosylan);
      expect(issues.map((i) => i.code).sort()).toEqual(['DISP-CONTROLLED-PRODUCT', 'DISP-PRODUCT-MISMATCH', 'DISP-SUBSTITUTION-NOT-ALLOWED']);
      expect(issues.find((i) => i.code === 'DISP-PRODUCT-MISMATCH')).toMatchObject({ at: PACK, text: expect.stringContaining('ATC R05DA01') });
      expect(issues.find((i) => i.code === 'DISP-CONTROLLED-PRODUCT')!.at).toBe(`${PACK}.Reseptgruppe`);
      // Case b: Paracet with an Intervensjon V.
      expect(await codesOf(await reportM10(productM10(prescriptionId, { varenr: '017426', substituted: true }).xml))).toEqual(['DISP-PRODUCT-MISMATCH', 'DISP-SUBSTITUTION-NOT-ALLOWED']);
      // Case d: hydrocortisone reported as a MedicationDispense.
      const md = await reportMd(pharmacyDispense(rxId, hydrocortisone));
      expect(md.status).toBe(422);
      const mdIssues = await issuesOf(md);
      expect(mdIssues.map((i) => i.code).sort()).toEqual(['DISP-PRODUCT-MISMATCH', 'DISP-SUBSTITUTION-NOT-ALLOWED']);
      expect(mdIssues[0]!.at).toBe('MedicationDispense.medication[x]');
      await nothingFor(rxId);
    });

    it('refuses another strength of the same substance, read from FEST or from the name when FEST does not know the pack', async () => {
      const { xml, prescriptionId } = euProductCda({ subst: 'N' });
      const { rxId } = await stored(xml);
      // Case c: "Metformin Annet Tab 850 mg", unknown varenummer, same ATC, no Intervensjon: was 201 and "not substituted".
      const res = await reportM10(productM10(prescriptionId, { varenr: '999002', name: 'Metformin Annet Tab 850 mg' }).xml);
      expect(res.status).toBe(422);
      const issues = await issuesOf(res);
      expect(issues.map((i) => i.code).sort()).toEqual(['DISP-PRODUCT-MISMATCH', 'DISP-SUBSTITUTION-NOT-ALLOWED']);
      expect(issues.find((i) => i.code === 'DISP-PRODUCT-MISMATCH')!.text).toMatch(/850 mg.*500 mg/);
      // Where the strength cannot be established it cannot be shown to be the prescribed one either.
      const unknown = await reportM10(productM10(prescriptionId, { varenr: '999002', name: 'Metformin Annet Tab' }).xml);
      expect((await issuesOf(unknown)).find((i) => i.code === 'DISP-PRODUCT-MISMATCH')!.text).toMatch(/cannot be established/);
      // The same on a prescription that allows substitution: a strength change is never a substitution.
      const allowed = euProductCda({ subst: 'G' });
      await stored(allowed.xml);
      expect(await codesOf(await reportM10(productM10(allowed.prescriptionId, { varenr: '999002', name: 'Metformin Annet Tab 850 mg' }).xml))).toEqual(['DISP-PRODUCT-MISMATCH']);
      await nothingFor(rxId);
    });

    it('refuses another dose form family (prolonged-release for a film-coated tablet)', async () => {
      const { xml, prescriptionId } = euProductCda({ subst: 'G', form: { code: '10226000', display: 'Prolonged-release tablet' } });
      await stored(xml);
      const res = await reportM10(productM10(prescriptionId).xml);
      expect(await codesOf(res)).toEqual(['DISP-PRODUCT-MISMATCH']);
    });

    it('takes the prescribed product as not substituted, on both routes', async () => {
      const { xml, prescriptionId } = euProductCda({ subst: 'N', packages: 3 });
      const { rxId } = await stored(xml);
      const res = await reportM10(productM10(prescriptionId).xml);
      expect(res.status, await res.clone().text()).toBe(201);
      const { md, cda } = await sent(((await res.json()) as MedicationDispense).id!);
      expect(md.substitution?.wasSubstituted).toBe(false);
      expect(cda).not.toContain('code="SUBST"');
      const viaFhir = await reportMd(pharmacyDispense(rxId, metforminMylan, { wasSubstituted: false }));
      expect(viaFhir.status, await viaFhir.clone().text()).toBe(201);
      expect((await sent(((await viaFhir.json()) as MedicationDispense).id!)).md.substitution?.wasSubstituted).toBe(false);
    });

    it('reports another brand of the same substance, strength and form as substituted, whatever the pharmacy said', async () => {
      const { xml, prescriptionId } = euProductCda({ subst: 'G', packages: 4 });
      const { rxId } = await stored(xml);
      // No Intervensjon in the M10: the other name alone makes it a substitution.
      const res = await reportM10(productM10(prescriptionId, { varenr: '999002', size: '100' }).xml);
      expect(res.status, await res.clone().text()).toBe(201);
      const { md, cda } = await sent(((await res.json()) as MedicationDispense).id!);
      expect(md.substitution?.wasSubstituted).toBe(true);
      expect(md.substitution?.reason?.[0]?.text).toContain('Metformin Annet');
      expect(cda).toContain('code="SUBST"');
      // A MedicationDispense saying "not substituted" for another brand is corrected, not forwarded.
      const other = { code: { text: 'Metformin Annet 500 mg' }, extension: [{ url: 'https://profiles.ihe.net/PHARM/MPD/StructureDefinition/ihe-ext-medication-classification', valueCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'A10BA02' }] } }], amount: { numerator: { value: 100, unit: 'tablet', system: 'http://unitsofmeasure.org', code: '1' }, denominator: { value: 1 } } };
      const viaFhir = await reportMd(pharmacyDispense(rxId, other, { wasSubstituted: false }));
      expect(viaFhir.status, await viaFhir.clone().text()).toBe(201);
      const fromFhir = await sent(((await viaFhir.json()) as MedicationDispense).id!);
      expect(fromFhir.md.substitution?.wasSubstituted).toBe(true);
      expect(fromFhir.cda).toContain('code="SUBST"');
      // With substitution not allowed the same brand change is refused.
      const strict = euProductCda({ subst: 'N' });
      await stored(strict.xml);
      expect(await codesOf(await reportM10(productM10(strict.prescriptionId, { varenr: '999002', size: '100' }).xml))).toEqual(['DISP-SUBSTITUTION-NOT-ALLOWED']);
    });
  });

  describe('finding 5: narcotics and habit-forming medicines are outside cross-border ePrescription', () => {
    it('refuses an EU prescription for a controlled ATC class at intake, as CDA and as MPD Bundle', async () => {
      const metadon = euProductCda({ name: 'Metadon', atc: 'N07BC02', strengthMg: 20 });
      const res = await deliverCda(metadon.xml);
      expect(res.status).toBe(422);
      const [issue] = await issuesOf(res);
      expect(issue!.code).toBe('DISP-RX-CONTROLLED-PRODUCT');
      expect(issue!.at).toMatch(/manufacturedMaterial$/);
      const { bundle, prescriptionId } = euPrescriptionBundle(undefined, 2);
      const med = bundle.entry.find((e: any) => e.resource.resourceType === 'Medication').resource;
      med.extension[0].valueCodeableConcept.coding[0].code = 'N02AA05';
      const fromBundle = await deliverBundle(bundle);
      expect(fromBundle.status).toBe(422);
      expect((await issuesOf(fromBundle))[0]).toMatchObject({ code: 'DISP-RX-CONTROLLED-PRODUCT', at: expect.stringMatching(/^Bundle\.entry\[\d+\]\.resource\.medicationReference$/) });
      expect(await count(db, 'select 1 from prescription where prescription_id = any($1)', [[metadon.prescriptionId, prescriptionId]])).toBe(0);
    });

    it('refuses a dispensed pack in reseptgruppe A or B, by the M10 and by FEST', async () => {
      const { xml, prescriptionId } = euProductCda({ subst: 'G' });
      const { rxId } = await stored(xml);
      // The audit's Metadon NYP (group A) for a metformin prescription.
      const metadon = await issuesOf(await reportM10(productM10(prescriptionId, { varenr: '317612' }).xml));
      expect(metadon.find((i) => i.code === 'DISP-CONTROLLED-PRODUCT')).toMatchObject({ at: `${PACK}.Reseptgruppe`, text: expect.stringContaining('reseptgruppe A') });
      // FEST's group counts even where the M10 says C.
      const stesolid = await issuesOf(await reportM10(productM10(prescriptionId, { varenr: '012690', atc: 'N05BA01', name: 'Stesolid Tab 5 mg', group: 'C' }).xml));
      expect(stesolid.find((i) => i.code === 'DISP-CONTROLLED-PRODUCT')!.text).toContain('reseptgruppe B');
      await nothingFor(rxId);
    });
  });

  describe('finding 4: the quantity is compared in a common unit', () => {
    const cefuroxime = (rxId: string, value: number, code = '15060000') =>
      pharmacyDispense(
        rxId,
        { code: { text: 'Cefuroxim Fresenius 1500 mg' }, extension: [{ url: 'https://profiles.ihe.net/PHARM/MPD/StructureDefinition/ihe-ext-medication-classification', valueCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'J01DC02' }] } }], form: { coding: [{ system: 'http://standardterms.edqm.eu', code: '11205000', display: 'Powder for solution for injection' }] }, ingredient: [{ itemCodeableConcept: { text: 'cefuroxime' }, strength: { numerator: { value: 1500, system: 'http://unitsofmeasure.org', code: 'mg' }, denominator: { value: 1, system: 'http://standardterms.edqm.eu', code: '15060000', unit: 'Vial' } } }] },
        { quantity: { value, unit: 'Vial', system: 'http://standardterms.edqm.eu', code } },
      );

    it('counts vials against the 21 prescribed: 500 refused, partial dispensings until the 21 are reached', async () => {
      const { bundle, prescriptionId } = euPrescriptionBundle();
      const res = await deliverBundle(bundle);
      expect(res.status).toBe(201);
      const rxId = ((await res.json()) as Bundle).entry![0]!.response!.location!.split('/')[1]!;
      const row = await db.query<{ q: number; unit: string; allowed: number | null }>('select quantity_prescribed::float8 as q, quantity_unit as unit, dispensings_allowed as allowed from prescription where id = $1', [rxId]);
      expect(row.rows[0]).toEqual({ q: 21, unit: 'stk', allowed: null });
      // The audit's case: Antall 50 of a pack of 10 vials (500 vials), as an M10.
      const tooMuch = await reportM10(productM10(prescriptionId, { varenr: '999001', antall: '50', patient: ENGINE }).xml);
      expect(tooMuch.status).toBe(422);
      expect(await issuesOf(tooMuch)).toEqual([expect.objectContaining({ code: 'DISP-QUANTITY-EXCEEDED', at: `${U}.ReseptDokLegemiddel.Antall`, text: expect.stringContaining('500 stk dispensed, but only 21 stk remain') })]);
      await nothingFor(rxId);
      // One pack of 10, then 20 more are too many, then the remaining 11 vials as a MedicationDispense.
      expect((await reportM10(productM10(prescriptionId, { varenr: '999001', patient: ENGINE }).xml)).status).toBe(201);
      expect(await prescriptionCounters(db, rxId)).toEqual({ done: 1, quantity: 10, status: 'active' });
      expect(await codesOf(await reportM10(productM10(prescriptionId, { varenr: '999001', antall: '2', patient: ENGINE }).xml))).toEqual(['DISP-QUANTITY-EXCEEDED']);
      expect(await codesOf(await reportMd(cefuroxime(rxId, 12)))).toEqual(['DISP-QUANTITY-EXCEEDED']);
      const rest = await reportMd(cefuroxime(rxId, 11));
      expect(rest.status, await rest.clone().text()).toBe(201);
      expect(await prescriptionCounters(db, rxId)).toEqual({ done: 2, quantity: 21, status: 'completed' });
      expect(await codesOf(await reportMd(cefuroxime(rxId, 1)))).toEqual(['DISP-NOT-DISPENSABLE', 'DISP-QUANTITY-EXCEEDED']);
    });

    it('refuses what cannot be compared rather than taking it unchecked', async () => {
      const { bundle, prescriptionId } = euPrescriptionBundle();
      const rxId = ((await (await deliverBundle(bundle)).json()) as Bundle).entry![0]!.response!.location!.split('/')[1]!;
      // A pack stated in millilitres against vials; a MedicationDispense in a unit Helsebro cannot place.
      const ml = await issuesOf(await reportM10(productM10(prescriptionId, { varenr: '999001', size: '15', patient: ENGINE }).xml.replaceAll('V="HGL"', 'V="ML"')));
      expect(ml).toEqual([expect.objectContaining({ code: 'DISP-QUANTITY-UNIT', at: `${U}.ReseptDokLegemiddel.Antall` })]);
      const course = await reportMd(cefuroxime(rxId, 3, '{course}'));
      expect(await codesOf(course)).toEqual(['DISP-QUANTITY-UNIT']);
      // Another product on a prescription counted in vials: the product is refused, the units are not reported besides.
      expect(await codesOf(await reportM10(productM10(prescriptionId, { varenr: '138545', patient: ENGINE }).xml))).toEqual(['DISP-PRODUCT-MISMATCH']);
      await nothingFor(rxId);
    });

    it('counts other pack sizes by content on a prescription in packs', async () => {
      // Two packs of 100 tablets prescribed; a pack of 200 uses both.
      const { xml, prescriptionId } = euProductCda({ subst: 'G', packages: 2 });
      const { rxId } = await stored(xml);
      expect(await codesOf(await reportM10(productM10(prescriptionId, { varenr: '999002', antall: '2' }).xml))).toEqual(['DISP-QUANTITY-EXCEEDED']);
      expect((await reportM10(productM10(prescriptionId, { varenr: '999002' }).xml)).status).toBe(201);
      expect(await prescriptionCounters(db, rxId)).toEqual({ done: 1, quantity: 2, status: 'completed' });
      // A pack of 20 is a fifth of a prescribed pack: partial dispensing stays open.
      const partial = euProductCda({ subst: 'G', packages: 1, name: 'Paracet', atc: 'N02BE01' });
      const p = await stored(partial.xml);
      expect((await reportM10(productM10(partial.prescriptionId, { varenr: '017454' }).xml)).status).toBe(201);
      expect(await prescriptionCounters(db, p.rxId)).toEqual({ done: 1, quantity: 0.2, status: 'active' });
      // The Paracet "10 x 100" box holds ten prescribed packs.
      expect(await codesOf(await reportM10(productM10(partial.prescriptionId, { varenr: '017426' }).xml))).toEqual(['DISP-QUANTITY-EXCEEDED']);
    });

    it('reads the content of a nested eHDSI pack: Lantus, five pens of 3 ml in a box, is 15 ml', () => {
      expect(cdaPackContent(fixture('edispensation/eP-L3-lantus-W8.openncp.xml'))).toEqual({ value: 15, unit: 'ml' });
    });
  });

  describe('finding 10: a prescription without a validity period expires after the Norwegian year', () => {
    it('refuses a dispensing more than a year after issue, on both routes, and the counter page says so', async () => {
      const old = euProductCda({ authored: daysAgo(400) });
      const { rxId } = await stored(old.xml);
      const res = await reportM10(productM10(old.prescriptionId).xml);
      expect(res.status).toBe(422);
      expect(await issuesOf(res)).toEqual([expect.objectContaining({ code: 'DISP-NOT-DISPENSABLE', at: `${U}.ReseptId`, text: expect.stringContaining('expired on') })]);
      expect(await codesOf(await reportMd(pharmacyDispense(rxId, metforminMylan)))).toEqual(['DISP-NOT-DISPENSABLE']);
      await nothingFor(rxId);
      const recent = euProductCda({ authored: daysAgo(300) });
      const fresh = await stored(recent.xml);
      expect((await reportM10(productM10(recent.prescriptionId).xml)).status).toBe(201);

      const c = viewClient(srv.url);
      await c.signIn('565502372');
      const expired = await (await c.get(`/view/prescription/${rxId}`)).text();
      expect(expired).not.toContain('verdict-ok');
      expect(textOf(expired)).toMatch(/Kan ikke utleveres: utløpt .*gyldighet ikke oppgitt/);
      const open = await (await c.get(`/view/prescription/${fresh.rxId}`)).text();
      expect(open).not.toContain('verdict-ok');
      expect(open).toContain('verdict-warn');
      expect(textOf(open)).toContain('gyldighet er ikke oppgitt på resepten');
    });
  });
});
