// Norway as country B over real HTTP: the NCP delivers an EU citizen's ePrescription (eHDSI CDA or MPD
// Bundle); the Norwegian pharmacy reads and prints it, dispenses, and reports with the M10 its system already
// makes (the official sample M10s, adapted to the EU prescription id) or a MedicationDispense. Helsebro checks
// it, enriches it (FEST, HPR) and queues the EU eDispensation (MPD FHIR + eHDSI CDA 60593-1) for the NCP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Binary, Bundle, MedicationDispense, MedicationRequest, OperationOutcome, Medication, Practitioner } from '@medplum/fhirtypes';
import type { Db } from '../../src/store/db.ts';
import { loadDemoFest } from '../../src/registries/fest/ingest.ts';
import { outboxForDispensation } from '../../src/edispensation/outbox/repository.ts';
import { dispenseTable, dispensationCdaTable } from '../../src/edispensation/eu/mapping.ts';
import { parseXml } from '../../src/xml/parse.ts';
import type { XmlElement } from '../../src/xml/element.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { checkEhdsiDispensation, checkMpdDispense, validateR4 } from './support/ehdsi-check.ts';
import { HOSTILE } from './support/fixtures.ts';
import { euProductCda } from './support/eu-dispense.ts';
import { euPrescriptionBundle, euPrescriptionCda, pharmacyM10 } from './support/messages.ts';
import { count, insertNoPrescription, prescriptionCounters } from './support/store.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';

const NCP = 'system/MedicationRequest.cruds system/MedicationDispense.cruds';
const PHARMACY = 'system/MedicationRequest.rs system/MedicationDispense.cruds';
/** Apotek 1 Ski Storsenter, the sender (ENH) of the official sample M10s. */
const APOTEK1_SKI_ORGNR = '983044778';

describe.each(engines)('Norway as country B over HTTP (%s)', (engine) => {
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
  const asPharmacy = (path: string, init: RequestInit = {}) => srv.fetchAs(PHARMACY, path, init, { client: 'pharmacy-apotek-1-ski', org: APOTEK1_SKI_ORGNR });
  const deliverCda = (xml: string) => asNcp('/fhir/MedicationRequest/$import-ehdsi-cda', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
  const deliverBundle = (b: unknown) => asNcp('/fhir/Bundle', { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(b) });
  const reportM10 = (xml: string) => asPharmacy('/fhir/MedicationDispense/$import-m10', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
  const codesOf = async (res: Response) => ((await res.json()) as OperationOutcome).issue.map((i) => i.details?.coding?.[0]?.code);

  async function deliveredId(res: Response): Promise<string> {
    const b = (await res.json()) as Bundle;
    return b.entry![0]!.response!.location!.split('/')[1]!;
  }

  /** The NCP message queued for a dispensation: its MedicationDispense and its CDA. */
  async function ncpMessage(dispensationId: string) {
    const messages = (await outboxForDispensation(db, dispensationId)).filter((m) => m.channel === 'ncp');
    expect(messages).toHaveLength(1);
    const bundle = JSON.parse(messages[0]!.payload) as Bundle;
    const md = bundle.entry!.find((e) => e.resource?.resourceType === 'MedicationDispense')!.resource as MedicationDispense;
    const binary = bundle.entry!.find((e) => e.resource?.resourceType === 'Binary')!.resource as Binary;
    const cda = Buffer.from(binary.data!, 'base64').toString('utf8');
    // Every eDispensation sent to the NCP passes the schema the NCP parses it with.
    await expectSchemaValidCda(cda);
    return { message: messages[0]!, bundle, md, binary, cda };
  }

  describe('the EU prescription from the NCP', () => {
    it('is stored from the eHDSI CDA, read as an MPD MedicationRequest, and never becomes an M1', async () => {
      const { xml, prescriptionId } = euPrescriptionCda('lantus');
      const res = await deliverCda(xml);
      expect(res.status).toBe(201);
      const id = await deliveredId(res);
      const read = await asPharmacy(`/fhir/MedicationRequest/${id}`);
      expect(read.status).toBe(200);
      const mr = (await read.json()) as MedicationRequest;
      expect(mr.id).toBe(id);
      expect(mr.identifier).toEqual([{ system: 'urn:oid:2.16.17.710.850.1000.990.1', value: prescriptionId }]);
      expect(mr.dispenseRequest?.quantity).toMatchObject({ value: 5, code: '1' });
      expect(mr.substitution?.allowedBoolean).toBe(false);
      const patient = mr.contained?.find((r) => r.resourceType === 'Patient');
      expect(patient).toMatchObject({ name: [{ family: 'Schuman', given: ['Robert'] }], birthDate: '1886-06-29', gender: 'male' });
      const med = mr.contained?.find((r): r is Medication => r.resourceType === 'Medication');
      expect(med?.form?.coding?.[0]).toMatchObject({ system: 'http://standardterms.edqm.eu', code: '50060300' });
      expect(mr.note?.[0]?.text).toMatch(/viesti apteekille/);
      expect(mr.dosageInstruction?.[0]?.patientInstruction).toMatch(/Diabeteksen hoitoon/);
      expect(validateR4(mr)).toEqual([]);
      const row = await db.query<{ origin: string; source_xml: string | null; cda_xml: string | null; quantity_prescribed: number }>(
        'select origin, source_xml, cda_xml, quantity_prescribed::float8 as quantity_prescribed from prescription where id = $1',
        [id],
      );
      expect(row.rows[0]).toMatchObject({ origin: 'EU', source_xml: null, quantity_prescribed: 5 });
      expect(row.rows[0]!.cda_xml).toBe(xml);
    });

    it('answers the same prescription again with 200, and another one under the same id with 409', async () => {
      const { xml, prescriptionId } = euPrescriptionCda('lantus');
      const first = await deliverCda(xml);
      const id = await deliveredId(first);
      const again = await deliverCda(xml);
      expect(again.status).toBe(200);
      expect(await deliveredId(again)).toBe(id);
      const other = euPrescriptionCda('canesten', prescriptionId).xml;
      const conflict = await deliverCda(other);
      expect(conflict.status).toBe(409);
      expect(await count(db, `select 1 from prescription where origin = 'EU' and prescription_id = $1`, [prescriptionId])).toBe(1);
    });

    it('is stored from the MPD Bundle, with what it references contained', async () => {
      const { bundle, prescriptionId } = euPrescriptionBundle(undefined, 3);
      const res = await deliverBundle(bundle);
      expect(res.status).toBe(201);
      const b = (await res.json()) as Bundle;
      expect(b.type).toBe('batch-response');
      const mr = (await (await asPharmacy(`/fhir/MedicationRequest/${await idOf(b)}`)).json()) as MedicationRequest;
      expect(mr.identifier?.[0]?.value).toBe(prescriptionId);
      expect(mr.subject?.reference).toMatch(/^#/);
      expect(mr.contained?.map((r) => r.resourceType).sort()).toEqual(['Medication', 'Organization', 'Patient', 'Practitioner', 'PractitionerRole']);
      expect(validateR4(mr)).toEqual([]);
      expect((await deliverBundle(bundle)).status).toBe(200);
    });

    it('refuses Bundles it cannot store whole', async () => {
      const { bundle } = euPrescriptionBundle();
      const dangling = structuredClone(bundle);
      dangling.entry = dangling.entry.filter((e: any) => e.resource.resourceType !== 'Patient');
      expect((await deliverBundle(dangling)).status).toBe(400);
      const noId = structuredClone(bundle);
      noId.entry.find((e: any) => e.resource.resourceType === 'MedicationRequest').resource.identifier = [];
      expect((await deliverBundle(noId)).status).toBe(422);
      expect((await deliverBundle({ resourceType: 'Bundle', type: 'collection', entry: [] })).status).toBe(400);
      const control = structuredClone(bundle);
      control.entry.find((e: any) => e.resource.resourceType === 'Patient').resource.name[0].family = HOSTILE.control;
      expect((await deliverBundle(control)).status).toBe(400);
      expect((await deliverCda('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')).status).toBe(400);
      expect((await deliverCda(euPrescriptionCda().xml.replace('57833-6', '60593-1'))).status).toBe(400);
    });

    it('refuses a lone UTF-16 surrogate at the body boundary with 400 naming the element, and stores nothing', async () => {
      const { bundle, prescriptionId } = euPrescriptionBundle();
      const patientAt = (bundle.entry as { resource: { resourceType: string } }[]).findIndex((e) => e.resource.resourceType === 'Patient');
      bundle.entry[patientAt].resource.name[0].family = HOSTILE.loneSurrogate;
      const res = await deliverBundle(bundle);
      expect(res.status).toBe(400);
      const [issue] = ((await res.json()) as OperationOutcome).issue;
      expect(issue!.expression).toEqual([`Bundle.entry[${patientAt}].resource.name[0].family`]);
      expect(issue!.diagnostics).toContain('lone UTF-16 surrogate (U+D800)');
      expect(await count(db, 'select 1 from prescription where prescription_id = $1', [prescriptionId])).toBe(0);
    });

    it('refuses repeat counts and quantities no prescription carries, and elements that are not FHIR, with 400 naming each', async () => {
      const { bundle, prescriptionId } = euPrescriptionBundle(undefined, 2);
      const requestAt = (bundle.entry as { resource: { resourceType: string } }[]).findIndex((e) => e.resource.resourceType === 'MedicationRequest');
      const at = `Bundle.entry[${requestAt}].resource`;
      const variant = (change: (request: Record<string, any>) => void) => {
        const b = structuredClone(bundle);
        change(b.entry[requestAt].resource);
        return JSON.stringify(b);
      };
      const post = (body: string) => asNcp('/fhir/Bundle', { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body });
      for (const [title, body, expression] of [
        ['negative repeats', variant((r) => (r.dispenseRequest.numberOfRepeatsAllowed = -99999999999)), `${at}.dispenseRequest.numberOfRepeatsAllowed`],
        ['fractional repeats', variant((r) => (r.dispenseRequest.numberOfRepeatsAllowed = 2.5)), `${at}.dispenseRequest.numberOfRepeatsAllowed`],
        ['absurd repeats', variant((r) => (r.dispenseRequest.numberOfRepeatsAllowed = 100_000)), `${at}.dispenseRequest.numberOfRepeatsAllowed`],
        // JSON.parse reads 1e999 as Infinity, which was stored as null.
        ['repeats 1e999', variant((r) => (r.dispenseRequest.numberOfRepeatsAllowed = 7)).replace('"numberOfRepeatsAllowed":7', '"numberOfRepeatsAllowed":1e999'), `${at}.dispenseRequest.numberOfRepeatsAllowed`],
        ['quantity 1e308', variant((r) => (r.dispenseRequest.quantity.value = 1e308)), `${at}.dispenseRequest.quantity.value`],
        ['quantity 0', variant((r) => (r.dispenseRequest.quantity.value = 0)), `${at}.dispenseRequest.quantity.value`],
        ['negative quantity', variant((r) => (r.dispenseRequest.quantity.value = -2)), `${at}.dispenseRequest.quantity.value`],
        ['an element that is not FHIR', variant((r) => (r.bogusElement = 1)), `${at}.bogusElement`],
      ] as const) {
        expect(body, title).toContain(expression.split('.').at(-1)!);
        const res = await post(body);
        expect(res.status, title).toBe(400);
        const issues = ((await res.json()) as OperationOutcome).issue;
        expect(issues.map((i) => i.expression?.[0]), title).toContain(expression);
      }
      const entryObject = await deliverBundle({ ...bundle, entry: bundle.entry[requestAt] });
      expect(entryObject.status).toBe(400);
      expect(((await entryObject.json()) as OperationOutcome).issue[0]).toMatchObject({ diagnostics: 'Bundle.entry must be an array of entries', expression: ['Bundle.entry'] });
      expect(await count(db, 'select 1 from prescription where prescription_id = $1', [prescriptionId])).toBe(0);
      // The same prescription with plausible values is taken.
      expect((await post(variant((r) => (r.dispenseRequest.numberOfRepeatsAllowed = 2)))).status).toBe(201);
    });

    it('keeps hostile names inert as stored text', async () => {
      const { bundle } = euPrescriptionBundle(undefined, 2);
      const patient = bundle.entry.find((e: any) => e.resource.resourceType === 'Patient').resource;
      patient.name = [{ family: HOSTILE.script, given: [HOSTILE.quotes, HOSTILE.rtl] }];
      const id = await idOf((await (await deliverBundle(bundle)).json()) as Bundle);
      const mr = (await (await asPharmacy(`/fhir/MedicationRequest/${id}`)).json()) as MedicationRequest;
      expect(mr.contained?.find((r) => r.resourceType === 'Patient')).toMatchObject({ name: [{ family: HOSTILE.script }] });
    });
  });

  describe('the pharmacy reports its dispensing', () => {
    it('refuses the official sample M10 (Cosylan, reseptgruppe B) as the dispensing of the Lantus prescription', async () => {
      const { xml: ep, prescriptionId } = euPrescriptionCda('lantus');
      const rxId = await deliveredId(await deliverCda(ep));
      const res = await reportM10(pharmacyM10(prescriptionId).xml);
      expect(res.status).toBe(422);
      // Another substance, group B, and substitution not allowed (dispensed in 2019, within the Norwegian year of the 2018 prescription).
      expect((await codesOf(res)).sort()).toEqual(['DISP-CONTROLLED-PRODUCT', 'DISP-PRODUCT-MISMATCH', 'DISP-SUBSTITUTION-NOT-ALLOWED']);
      // Dispensed today, it has also expired.
      expect((await codesOf(await reportM10(pharmacyM10(prescriptionId, { utleveringsdato: new Date().toISOString().slice(0, 10) }).xml))).sort()).toEqual([
        'DISP-CONTROLLED-PRODUCT',
        'DISP-NOT-DISPENSABLE',
        'DISP-PRODUCT-MISMATCH',
        'DISP-SUBSTITUTION-NOT-ALLOWED',
      ]);
      expect(await count(db, 'select 1 from outbox where order_key = $1', [rxId])).toBe(0);
    });

    it('turns the sample M10 for the prescribed product into an EU eDispensation: MPD MedicationDispense and eHDSI CDA, enriched from FEST', async () => {
      const { xml: ep, prescriptionId } = euPrescriptionCda('metformin');
      const rxId = await deliveredId(await deliverCda(ep));
      const { xml, msgId } = pharmacyM10(prescriptionId, { product: 'metformin' });
      const res = await reportM10(xml);
      expect(res.status, await res.clone().text()).toBe(201);
      const served = (await res.json()) as MedicationDispense;
      expect(served.authorizingPrescription?.[0]?.reference).toBe(`MedicationRequest/${rxId}`);
      expect(await prescriptionCounters(db, rxId)).toEqual({ done: 1, quantity: 1, status: 'active' });

      const { md, cda, bundle, binary } = await ncpMessage(served.id!);
      expect(bundle.identifier?.value).toMatch(/^urn:uuid:/);
      expect(binary.meta?.tag?.map((t) => t.code)).toEqual(['60593-1', 'urn:epSOS:ep:dis:2010']);
      expect(checkMpdDispense(md)).toEqual([]);
      expect(md.identifier?.[0]?.value).toBe(msgId);
      expect(md.authorizingPrescription).toEqual([{ identifier: { system: 'urn:oid:2.16.17.710.850.1000.990.1', value: prescriptionId } }]);
      // Enriched from FEST by varenummer 181457: ATC, EDQM dose form with the Norwegian code kept, strength.
      const med = md.contained?.find((r): r is Medication => r.resourceType === 'Medication')!;
      expect(med.identifier?.map((i) => i.value)).toContain('181457');
      expect(med.form?.coding?.[0]?.system).toBe('http://standardterms.edqm.eu');
      expect(med.form?.coding?.some((c) => c.system === 'urn:oid:2.16.578.1.12.4.1.1.7448' && c.code === '53')).toBe(true);
      expect(med.ingredient?.[0]?.strength?.numerator).toMatchObject({ value: 500, code: 'mg' });
      // The prescribed product itself: not a substitution, which this prescription does not allow anyway.
      expect(md.substitution?.wasSubstituted).toBe(false);

      expect(checkEhdsiDispensation(cda)).toEqual([]);
      const doc = parseXml(cda);
      if (!doc.ok) throw new Error('CDA does not parse');
      const order = doc.value.root.child(V3, 'inFulfillmentOf')?.child(V3, 'order')?.child(V3, 'id');
      expect([order?.attr('root'), order?.attr('extension')]).toEqual(['2.16.17.710.850.1000.990.1', prescriptionId]);
      // The REFR entry carries the prescribed product, copied from the stored EU prescription.
      expect(cda).toContain('<name>Metformin Mylan</name>');
      expect(cda).toMatch(/<pharm:formCode code="[^"]+" codeSystem="0.4.0.127.0.16.1.1.2.1"[^>]*>\s*<translation code="53" codeSystem="2.16.578.1.12.4.1.1.7448"/);
      expect(cda).not.toContain('code="SUBST"');
      expect(cda).toContain('<id root="2.16.578.1.12.4.1.2" extension="8090688"/>');
    });

    it('states a FEST multipack (Microgynon "3 x 21") nested in both outputs, never as 63 loose tablets', async () => {
      // Prescribed as Microgynon (no strength stated), one pack of 63 tablets.
      const { xml: ep, prescriptionId } = euProductCda({ name: 'Microgynon', atc: 'G03AA07', strengthMg: null, content: { value: 63, unit: '1' } });
      await deliveredId(await deliverCda(ep));
      const { xml } = pharmacyM10(prescriptionId, { utleveringsdato: new Date().toISOString().slice(0, 10) });
      const microgynon = xml
        .replace('<Reseptgruppe V="B" DN="Reseptgruppe B"/>', '<Reseptgruppe V="C" DN="Reseptgruppe C"/>')
        .replace('<Varenr>541409</Varenr>', '<Varenr>441907</Varenr>')
        .replace('<Varenavn>Cosylan</Varenavn>', '<Varenavn>Microgynon</Varenavn>')
        .replace('<Pakningsstr>125</Pakningsstr>', '<Pakningsstr>3 x 21</Pakningsstr>')
        .replace(/<Atc [^>]*\/>/, '<Atc V="G03AA07" S="2.16.578.1.12.4.1.1.7180" DN="levonorgestrel og etinyløstradiol"/>')
        .replace(/<NavnFormStyrke>[^<]*<\/NavnFormStyrke>/, '<NavnFormStyrke>Microgynon Tab</NavnFormStyrke>')
        .replace(/<LegemiddelformKort [^>]*\/>/, '<LegemiddelformKort V="53" S="2.16.578.1.12.4.1.1.7448" DN="Tablett"/>');
      expect(microgynon).toContain('<Varenr>441907</Varenr>');
      const res = await reportM10(microgynon);
      expect(res.status).toBe(201);
      const { md, cda } = await ncpMessage(((await res.json()) as MedicationDispense).id!);
      expect(checkMpdDispense(md)).toEqual([]);
      const med = md.contained?.find((r): r is Medication => r.resourceType === 'Medication')!;
      expect(med.amount?.numerator).toEqual({ value: 3, unit: '1', system: 'http://unitsofmeasure.org', code: '1' });
      const item = med.extension?.find((e) => e.url.endsWith('ihe-ext-medication-sizeofitem'))?.valueQuantity;
      expect(item?.value).toBe(21);
      expect(JSON.stringify(med)).not.toMatch(/"value":63\b/);
      // The CDA: 21 in a container, three of those in the package sold (named by its varenummer).
      const product = /<manufacturedMaterial[\s\S]*?<\/manufacturedMaterial>/.exec(cda.slice(cda.indexOf('<supply')))![0];
      expect(product).toMatch(/<pharm:formCode [^>]*displayName="Tablet"[\s\S]*<pharm:asContent classCode="CONT">\s*<pharm:quantity value="21"[^>]*>[\s\S]*?<\/pharm:quantity>\s*<pharm:containerPackagedProduct[^>]*>\s*<pharm:formCode nullFlavor="UNK"\/>\s*<pharm:asContent classCode="CONT">\s*<pharm:quantity value="3" unit="1"\/>\s*<pharm:containerPackagedProduct[^>]*>\s*<pharm:code code="441907"/);
      expect(product).not.toMatch(/<pharm:quantity value="63"/);
    });

    it('fills every required row of the two m10 mapping tables', async () => {
      // The sample dispenses Iscador P Serie II (2 x 7 x 1 ml ampoules): prescribed as that.
      const { xml: ep, prescriptionId } = euProductCda({ name: 'Iscador P Serie II', atc: 'V03AX', strengthMg: null, content: { value: 14, unit: 'mL' }, form: { code: '11201000', display: 'Solution for injection' } });
      await deliverCda(ep);
      // Another pharmacy of the same organisation (HER 8143811): a client of its own, the organisation from its token.
      const xml = pharmacyM10(prescriptionId, { sample: 'godkjenningsfritak', ansattId: '565502372', herId: '8143811', utleveringsdato: new Date().toISOString().slice(0, 10) }).xml;
      const res = await srv.fetchAs(PHARMACY, '/fhir/MedicationDispense/$import-m10', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml }, { client: 'pharmacy-godkjenning', org: APOTEK1_SKI_ORGNR });
      const served = (await res.json()) as MedicationDispense;
      const { md, cda } = await ncpMessage(served.id!);
      expect(checkMpdDispense(md)).toEqual([]);
      // HPR enrichment: the pharmacist's name and category (FA1 -> ISCO 2262).
      const pharmacist = md.contained?.find((r): r is Practitioner => r.resourceType === 'Practitioner');
      expect(pharmacist?.name?.[0]?.family).toBe('Holm');
      expect(cda).toContain('code="2262"');

      const missing: string[] = [];
      for (const row of dispenseTable().rows.filter((r) => r.required && r.target !== '-' && r.target.startsWith('MedicationDispense.'))) {
        if (!hasFhirPath(md, row.target.slice('MedicationDispense.'.length))) missing.push(`${row.line}: ${row.target}`);
      }
      const doc = parseXml(cda);
      if (!doc.ok) throw new Error('CDA does not parse');
      for (const row of dispensationCdaTable().rows.filter((r) => r.required && r.target !== '-')) {
        if (!hasXPath(doc.value.root, row.target)) missing.push(`${row.line}: ${row.target}`);
      }
      expect(missing).toEqual([]);
    });

    it('answers the same M10 again with 200 and queues nothing more; another M10 under its MsgId is a 409', async () => {
      const { xml: ep, prescriptionId } = euPrescriptionCda('metformin');
      const rxId = await deliveredId(await deliverCda(ep));
      const m10 = pharmacyM10(prescriptionId, { product: 'metformin' });
      const first = (await (await reportM10(m10.xml)).json()) as MedicationDispense;
      const again = await reportM10(m10.xml);
      expect(again.status).toBe(200);
      expect(((await again.json()) as MedicationDispense).id).toBe(first.id);
      const changed = await reportM10(pharmacyM10(prescriptionId, { product: 'metformin', msgId: m10.msgId, antall: '2.000' }).xml);
      expect(changed.status).toBe(409);
      expect(await count(db, 'select 1 from outbox where order_key = $1', [rxId])).toBe(1);
    });

    it('checks the M10 against the EU prescription', async () => {
      const { xml: ep, prescriptionId } = euPrescriptionCda('metformin');
      const rxId = await deliveredId(await deliverCda(ep));
      expect(await codesOf(await reportM10(pharmacyM10('no-such-prescription').xml))).toEqual(['DISP-PRESCRIPTION-UNKNOWN']);
      expect(await codesOf(await reportM10(pharmacyM10(prescriptionId, { product: 'metformin', antall: '6.000' }).xml))).toEqual(['DISP-QUANTITY-EXCEEDED']);
      const norwegian = await insertNoPrescription(db);
      expect(await codesOf(await reportM10(pharmacyM10(norwegian.prescriptionId).xml))).toEqual(['DISP-WRONG-DIRECTION']);
      expect(await codesOf(await reportM10(pharmacyM10(prescriptionId, { product: 'metformin', utleveringsdato: '2099-01-01' }).xml))).toEqual(['DISP-DATE-INVALID', 'DISP-NOT-DISPENSABLE']);
      // Five packages prescribed: five single dispensings, then no more.
      for (let i = 0; i < 5; i++) expect((await reportM10(pharmacyM10(prescriptionId, { product: 'metformin' }).xml)).status).toBe(201);
      expect(await codesOf(await reportM10(pharmacyM10(prescriptionId, { product: 'metformin' }).xml))).toEqual(['DISP-NOT-DISPENSABLE', 'DISP-QUANTITY-EXCEEDED']);
      expect(await prescriptionCounters(db, rxId)).toEqual({ done: 5, quantity: 5, status: 'completed' });
    });

    it('turns an annullering M10 into a discard for the NCP, once', async () => {
      const { xml: ep, prescriptionId } = euPrescriptionCda('metformin');
      const rxId = await deliveredId(await deliverCda(ep));
      const original = pharmacyM10(prescriptionId, { product: 'metformin' });
      const served = (await (await reportM10(original.xml)).json()) as MedicationDispense;
      const annul = pharmacyM10(prescriptionId, { product: 'metformin', annullering: true, annulleringsId: original.msgId });
      const res = await reportM10(annul.xml);
      expect(res.status).toBe(200);
      expect(((await res.json()) as MedicationDispense).status).toBe('entered-in-error');
      expect(await prescriptionCounters(db, rxId)).toMatchObject({ done: 0, quantity: 0 });
      const discardRow = await db.query<{ id: string }>(`select id from dispensation where discards = $1`, [served.id]);
      const { md, binary, bundle, cda } = await ncpMessage(discardRow.rows[0]!.id);
      expect(bundle.meta?.tag?.[0]?.code).toBe('discard');
      expect(binary.meta?.tag?.map((t) => t.code)).toEqual(['DISCARD-60593-1', 'urn:eHDSI:ed:discard:2020']);
      expect(md.status).toBe('entered-in-error');
      expect(cda).toBe((await ncpMessage(served.id!)).cda);
      expect((await reportM10(annul.xml)).status).toBe(200);
      expect(await count(db, 'select 1 from outbox where order_key = $1', [rxId])).toBe(2);
      const m10 = await asPharmacy(`/fhir/MedicationDispense/${served.id}/$m10?annullering=true`, { headers: { accept: 'application/xml' } });
      expect(await m10.text()).toBe(annul.xml);
    });

    it('refuses an annullering after 24 hours', async () => {
      const { xml: ep, prescriptionId } = euPrescriptionCda('metformin');
      await deliverCda(ep);
      const original = pharmacyM10(prescriptionId, { product: 'metformin' });
      const served = (await (await reportM10(original.xml)).json()) as MedicationDispense;
      await db.query(`update dispensation set recorded_at = now() - interval '25 hours' where id = $1`, [served.id]);
      const res = await reportM10(pharmacyM10(prescriptionId, { product: 'metformin', annullering: true, annulleringsId: original.msgId }).xml);
      expect(res.status).toBe(422);
      expect(await codesOf(res)).toEqual(['DISP-DISCARD-TOO-LATE']);
    });

    it('takes a MedicationDispense from a Norwegian pharmacy referencing the EU prescription', async () => {
      const { bundle, prescriptionId } = euPrescriptionBundle(undefined, 2);
      // A hostile patient name travels into the CDA for the NCP and must stay text there.
      bundle.entry.find((e: any) => e.resource.resourceType === 'Patient').resource.name = [{ family: `${HOSTILE.script}${HOSTILE.cdataEnd}`, given: [HOSTILE.quotes, HOSTILE.rtl] }];
      const rxId = await idOf((await (await deliverBundle(bundle)).json()) as Bundle);
      const md: MedicationDispense = {
        resourceType: 'MedicationDispense',
        identifier: [{ system: 'urn:oid:2.16.578.1.12.4.1.2.8090688', value: `UTL-${prescriptionId}` }],
        status: 'completed',
        medicationReference: { reference: '#med' },
        contained: [
          // The prescribed cefuroxime 1500 mg powder for injection (a pack FEST does not know).
          {
            resourceType: 'Medication',
            id: 'med',
            code: { text: 'Cefuroxim Fresenius 1500 mg' },
            extension: [{ url: 'https://profiles.ihe.net/PHARM/MPD/StructureDefinition/ihe-ext-medication-classification', valueCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'J01DC02' }] } }],
            form: { coding: [{ system: 'http://standardterms.edqm.eu', code: '11205000', display: 'Powder for solution for injection' }] },
            ingredient: [{ itemCodeableConcept: { text: 'cefuroxime' }, strength: { numerator: { value: 1500, system: 'http://unitsofmeasure.org', code: 'mg' }, denominator: { value: 1, system: 'http://standardterms.edqm.eu', code: '15060000', unit: 'Vial' } } }],
          },
          {
            resourceType: 'Organization',
            id: 'apotek',
            identifier: [
              { system: 'urn:oid:2.16.578.1.12.4.1.2', value: '8090688' },
              { system: 'urn:oid:2.16.578.1.12.4.1.4.101', value: APOTEK1_SKI_ORGNR },
            ],
            name: 'Apotek 1 Ski Storsenter',
          },
        ],
        subject: { display: 'Thomas Engine' },
        performer: [{ actor: { reference: '#apotek' } }],
        authorizingPrescription: [{ reference: `MedicationRequest/${rxId}` }],
        quantity: { value: 1, system: 'http://unitsofmeasure.org', code: '1' },
        whenHandedOver: new Date().toISOString(),
      };
      const res = await asPharmacy('/fhir/MedicationDispense', { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(md) });
      expect(res.status, await res.clone().text()).toBe(201);
      const served = (await res.json()) as MedicationDispense;
      const sent = await ncpMessage(served.id!);
      expect(checkMpdDispense(sent.md)).toEqual([]);
      expect(checkEhdsiDispensation(sent.cda)).toEqual([]);
      expect(sent.cda).not.toContain('<script>');
      expect(sent.cda).not.toContain('<evil/>');
      expect(sent.cda).toContain('&lt;script&gt;');
      expect(sent.md.contained?.find((r): r is Medication => r.resourceType === 'Medication')?.extension?.[1]?.valueCodeableConcept?.coding?.[0]?.code).toBe('J01DC02');
    });
  });

  describe('the structural checks themselves', () => {
    it('reject an eDispensation without the prescription reference, and a MedicationDispense without its performer', async () => {
      const { xml: ep, prescriptionId } = euPrescriptionCda('metformin');
      await deliverCda(ep);
      const served = (await (await reportM10(pharmacyM10(prescriptionId, { product: 'metformin' }).xml)).json()) as MedicationDispense;
      const { md, cda } = await ncpMessage(served.id!);
      expect(checkEhdsiDispensation(cda.replace(/<inFulfillmentOf>[\s\S]*?<\/inFulfillmentOf>/, ''))).not.toEqual([]);
      expect(checkEhdsiDispensation(cda.replace('<templateId root="1.3.6.1.4.1.12559.11.10.1.3.1.3.3"/>', ''))).not.toEqual([]);
      expect(checkMpdDispense({ ...md, performer: [] })).not.toEqual([]);
      expect(checkMpdDispense({ ...md, quantity: { value: 'one' as never } })).not.toEqual([]);
      expect(checkMpdDispense({ ...md, extension: [] })).not.toEqual([]);
    });
  });

  async function idOf(b: Bundle): Promise<string> {
    return b.entry![0]!.response!.location!.split('/')[1]!;
  }
});

const V3 = 'urn:hl7-org:v3';

/** Whether a dotted FHIR path (with [name] for named extensions) has a value. */
function hasFhirPath(resource: object, path: string): boolean {
  const steps = path.split('.');
  let nodes: unknown[] = [resource];
  for (const step of steps) {
    const m = /^([a-zA-Z]+)(?:\[([a-zA-Z]+)\])?$/.exec(step);
    if (!m) return false;
    const [, key, named] = m;
    nodes = nodes.flatMap((n) => {
      const v = (n as Record<string, unknown>)?.[key!];
      const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
      return named ? list.filter((e) => String((e as { url?: string }).url ?? '').toLowerCase().endsWith(named.toLowerCase())) : list;
    });
  }
  return nodes.some((n) => n !== undefined && n !== null && n !== '');
}

/** Whether a simple XPath from /ClinicalDocument (element steps, [@a='v'], [x/@a='v'], a final @attr) is present. */
function hasXPath(root: XmlElement, xpath: string): boolean {
  const steps = xpath.replace(/^\/ClinicalDocument\/?/, '').split(/\/(?![^[]*\])/).filter(Boolean);
  let nodes: XmlElement[] = [root];
  for (const step of steps) {
    if (step.startsWith('@')) return nodes.some((n) => n.attr(step.slice(1)) !== undefined);
    const m = /^(pharm:)?([A-Za-z]+)(?:\[(.+)\])?$/.exec(step);
    if (!m) return false;
    const [, pharm, name, pred] = m;
    nodes = nodes.flatMap((n) => n.all(pharm ? 'urn:hl7-org:pharm' : V3, name!)).filter((n) => !pred || predicate(n, pred));
  }
  return nodes.length > 0;
}

function predicate(el: XmlElement, pred: string): boolean {
  const attr = /^@([A-Za-z]+)='([^']*)'$/.exec(pred);
  if (attr) return el.attr(attr[1]!) === attr[2];
  const child = /^([A-Za-z]+)\/@([A-Za-z]+)='([^']*)'$/.exec(pred);
  if (child) return el.all(V3, child[1]!).some((c) => c.attr(child[2]!) === child[3]);
  return false;
}
