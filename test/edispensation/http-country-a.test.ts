// Norway as country A over real HTTP: the NCP reports that an EU pharmacy dispensed a Norwegian
// prescription (MPD MedicationDispense or eHDSI CDA). Stored before the answer, one M10 per dispensation in
// the outbox (XSD-valid), replays and conflicts, every check with its code, the 24-hour discard.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MedicationDispense, OperationOutcome, Parameters as FhirParameters } from '@medplum/fhirtypes';
import type { Db } from '../../src/store/db.ts';
import { outboxForDispensation } from '../../src/edispensation/outbox/repository.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { HOSTILE } from './support/fixtures.ts';
import { czechCda, mpdDispense } from './support/messages.ts';
import { count, insertEuPrescription, insertNoPrescription, prescriptionCounters } from './support/store.ts';
import { validateM10 } from './support/xsd.ts';

const NCP_SCOPES = 'system/MedicationDispense.cruds system/MedicationRequest.rs';

describe.each(engines)('eDispensation from the NCP over HTTP (%s)', (engine) => {
  let srv: TestServer;
  let db: Db;

  beforeAll(async () => {
    db = await getTestDb(engine);
    // No worker here: these tests look at what is waiting in the outbox.
    srv = await startTestServer(engine, { OUTBOX_WORKERS: '0' });
  });
  afterAll(async () => {
    await srv.close();
  });

  const ncp = (path: string, init: RequestInit = {}) => srv.fetchAs(NCP_SCOPES, path, init, { client: 'ncp-no' });
  const pharmacy = (path: string, init: RequestInit = {}) =>
    srv.fetchAs('system/MedicationDispense.cruds system/MedicationRequest.rs', path, init, { client: 'pharmacy-apotek-1-ski' });
  const postJson = (body: unknown, headers: Record<string, string> = {}) =>
    ncp('/fhir/MedicationDispense', { method: 'POST', headers: { 'content-type': 'application/fhir+json', ...headers }, body: JSON.stringify(body) });
  const postCda = (xml: string, query = '') =>
    ncp(`/fhir/MedicationDispense/$import-ehdsi-cda${query}`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
  const codesOf = async (res: Response) => ((await res.json()) as OperationOutcome).issue.map((i) => i.details?.coding?.[0]?.code);
  const rowsFor = (rxId: string) => count(db, 'select 1 from dispensation where prescription_row = $1', [rxId]);
  const outboxFor = (rxId: string) => count(db, 'select 1 from outbox where order_key = $1', [rxId]);

  describe('a dispensation abroad', () => {
    it('is stored before the 201, with its M10 in the outbox and one AuditEvent', async () => {
      const rx = await insertNoPrescription(db, { dispensingsAllowed: 3, quantityPrescribed: 6 });
      const res = await postJson(mpdDispense(rx.prescriptionId, { quantity: 2 }));
      expect(res.status).toBe(201);
      const created = (await res.json()) as MedicationDispense;
      expect(res.headers.get('location')).toBe(`${srv.url}/fhir/MedicationDispense/${created.id}`);
      expect(created.status).toBe('completed');
      expect(created.authorizingPrescription?.[0]?.reference).toBe(`MedicationRequest/${rx.id}`);
      expect(created.subject?.reference).toBe(`Patient/${PERSONAS.addison.id}`);
      // The foreign pharmacy and pharmacist are kept even though the M10 names the NCP.
      const org = created.contained?.find((r) => r.resourceType === 'Organization');
      expect(org && 'name' in org && org.name).toBe('Apotheke am Markt');
      expect(await prescriptionCounters(db, rx.id)).toEqual({ done: 1, quantity: 2, status: 'active' });

      const read = await ncp(`/fhir/MedicationDispense/${created.id}`);
      expect(read.status).toBe(200);
      expect(((await read.json()) as MedicationDispense).identifier).toEqual(created.identifier);

      const [m10] = await outboxFor2(created.id!);
      expect(m10!.state).toBe('pending');
      const v = await validateM10(m10!.payload);
      expect(v.valid, v.output).toBe(true);
      expect(m10!.payload).toContain(`<ReseptId>${rx.prescriptionId}</ReseptId>`);
      expect(m10!.payload).toContain(`<Id>${srv.config.ncp.herId}</Id>`);
      expect(m10!.payload).toContain('<EndringsType V="V" DN="Valgt annen vare"/>');
      expect(m10!.payload).toContain(`<Id>${PERSONAS.addison.fnr}</Id>`);

      const m10res = await ncp(`/fhir/MedicationDispense/${created.id}/$m10`, { headers: { accept: 'application/xml' } });
      expect(m10res.status).toBe(200);
      expect(m10res.headers.get('content-type')).toMatch(/^application\/xml/);
      expect(m10res.headers.get('x-message-id')).toBe(m10!.msgId);
      expect(await m10res.text()).toBe(m10!.payload);

      // A pharmacy's flow is EU prescriptions dispensed here: this dispensation abroad, and the M10 with the
      // patient's fødselsnummer, are not its to read.
      for (const [path, accept] of [
        [`/fhir/MedicationDispense/${created.id}`, 'application/fhir+json'],
        [`/fhir/MedicationDispense/${created.id}/$m10`, 'application/xml'],
      ] as const) {
        const refused = await pharmacy(path, { headers: { accept } });
        expect(refused.status, path).toBe(403);
        const body = await refused.text();
        expect(body).not.toContain(PERSONAS.addison.fnr);
        expect(body).toContain('ACCESS-ROLE');
      }

      const audits = await count(db, `select 1 from audit_event where resource->'entity' @> $1::jsonb`, [JSON.stringify([{ what: { reference: `MedicationDispense/${created.id}` } }])]);
      // One for the create (written in the transaction), one for the read, one for the $m10 read, and one
      // for each of the pharmacy's refused reads.
      expect(audits).toBe(5);
    });

    it('answers the same dispensation again with 200 and the first result, and stores nothing more', async () => {
      const rx = await insertNoPrescription(db);
      const body = mpdDispense(rx.prescriptionId);
      const first = await postJson(body);
      expect(first.status).toBe(201);
      const firstBody = (await first.json()) as MedicationDispense;
      // Key order and display texts do not make it a different dispensation.
      const again = JSON.parse(JSON.stringify(body)) as Record<string, any>;
      again.medicationReference.display = 'Hydrocortison 10 mg (translated)';
      const second = await postJson(Object.fromEntries(Object.entries(again).reverse()));
      expect(second.status).toBe(200);
      expect(((await second.json()) as MedicationDispense).id).toBe(firstBody.id);
      expect(await rowsFor(rx.id)).toBe(1);
      expect(await outboxFor(rx.id)).toBe(1);
      expect(await prescriptionCounters(db, rx.id)).toMatchObject({ done: 1 });
    });

    it('refuses another dispensation under a used identifier with 409 and stores nothing', async () => {
      const rx = await insertNoPrescription(db);
      const body = mpdDispense(rx.prescriptionId, { quantity: 1 });
      expect((await postJson(body)).status).toBe(201);
      const changed = { ...body, quantity: { value: 2, system: 'http://unitsofmeasure.org', code: '1' } };
      const res = await postJson(changed);
      expect(res.status).toBe(409);
      expect(await codesOf(res)).toEqual(['DISP-IDENTIFIER-CONFLICT']);
      expect(await rowsFor(rx.id)).toBe(1);
      expect(await prescriptionCounters(db, rx.id)).toMatchObject({ done: 1, quantity: 1 });
    });

    it('refuses each element it cannot forward with 422 naming it, and an element that is not FHIR with 400; nothing is stored', async () => {
      const rx = await insertNoPrescription(db);
      const note = [{ text: 'Patient warned: do not combine with ibuprofen' }];
      const type = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'FF', display: 'First Fill' }] };
      const cases: [string, (b: Record<string, any>) => void, number, string[]][] = [
        ['note', (b) => (b.note = note), 422, ['MedicationDispense.note']],
        ['type and note together', (b) => Object.assign(b, { type, note }), 422, ['MedicationDispense.note', 'MedicationDispense.type']],
        ['receiver', (b) => (b.receiver = [{ display: 'Ingrid Solstad' }]), 422, ['MedicationDispense.receiver']],
        ['a modifier extension', (b) => (b.modifierExtension = [{ url: 'https://example.de/fhir/ext/not-really', valueBoolean: true }]), 422, ['MedicationDispense.modifierExtension']],
        ['an extension it does not read', (b) => b.extension.push({ url: 'https://example.de/fhir/ext/abgabehinweis', valueString: 'x' }), 422, ['MedicationDispense.extension[1]']],
        ['a structured dosage', (b) => (b.dosageInstruction[0].timing = { repeat: { frequency: 2, period: 1, periodUnit: 'd' } }), 422, ['MedicationDispense.dosageInstruction[0].timing']],
        ['an element that is not FHIR', (b) => (b.unknownElement = 'x'), 400, ['MedicationDispense.unknownElement']],
      ];
      for (const [title, change, status, expressions] of cases) {
        const body = mpdDispense(rx.prescriptionId) as Record<string, any>;
        change(body);
        const res = await postJson(body);
        expect(res.status, title).toBe(status);
        const issues = ((await res.json()) as OperationOutcome).issue;
        expect(issues.flatMap((i) => i.expression ?? []).sort(), title).toEqual(expressions);
        if (status === 422) {
          expect(issues.map((i) => i.details?.coding?.[0]?.code), title).toEqual(expressions.map(() => 'DISP-ELEMENT-NOT-CARRIED'));
          expect(issues[0]!.diagnostics, title).toContain('cannot be forwarded to the Norwegian prescription chain');
        }
      }
      expect(await rowsFor(rx.id)).toBe(0);
      expect(await outboxFor(rx.id)).toBe(0);
    });

    it('carries daysSupply into the stored resource, and a resend that differs only in it is a 409', async () => {
      const rx = await insertNoPrescription(db);
      const body = { ...mpdDispense(rx.prescriptionId), daysSupply: { value: 20, unit: 'day', system: 'http://unitsofmeasure.org', code: 'd' } };
      const first = await postJson(body);
      expect(first.status).toBe(201);
      const created = (await first.json()) as MedicationDispense;
      const read = (await (await ncp(`/fhir/MedicationDispense/${created.id}`)).json()) as MedicationDispense;
      expect(read.daysSupply).toEqual({ value: 20, unit: 'day', system: 'http://unitsofmeasure.org', code: 'd' });
      expect((await postJson(body)).status).toBe(200);
      const changed = await postJson({ ...body, daysSupply: { ...body.daysSupply, value: 40 } });
      expect(changed.status).toBe(409);
      expect(await codesOf(changed)).toEqual(['DISP-IDENTIFIER-CONFLICT']);
      const without = await postJson({ ...body, daysSupply: undefined });
      expect(without.status).toBe(409);
      expect(await rowsFor(rx.id)).toBe(1);
    });

    it('accepts the eHDSI CDA, with the substitution as Intervensjon in an XSD-valid M10', async () => {
      const rx = await insertNoPrescription(db, { quantityPrescribed: 4 });
      const { xml, supplyId } = czechCda(rx.prescriptionId);
      const res = await postCda(xml);
      expect(res.status).toBe(201);
      const md = (await res.json()) as MedicationDispense;
      expect(md.identifier?.[0]?.value).toBe(supplyId);
      expect(md.substitution?.wasSubstituted).toBe(true);
      const [m10] = await outboxFor2(md.id!);
      expect((await validateM10(m10!.payload)).valid).toBe(true);
      expect(m10!.payload).toMatch(/<Begrunnelse>Byttet ved utlevering i utlandet[^<]*<\/Begrunnelse>/);
      expect(await postCda(xml).then((r) => r.status)).toBe(200);
      expect(await outboxFor(rx.id)).toBe(1);
    });

    it('finishes the prescription with its last dispensing (Avsluttet Ja)', async () => {
      const rx = await insertNoPrescription(db, { dispensingsAllowed: 1, quantityPrescribed: 2 });
      const res = await postJson(mpdDispense(rx.prescriptionId, { quantity: 2 }));
      const md = (await res.json()) as MedicationDispense;
      const [m10] = await outboxFor2(md.id!);
      expect(m10!.payload).toContain('<Avsluttet V="1" DN="Ja"/>');
      expect(await prescriptionCounters(db, rx.id)).toEqual({ done: 1, quantity: 2, status: 'completed' });
    });

    it('keeps hostile names inert in the stored resource, the narrative and the M10', async () => {
      const rx = await insertNoPrescription(db);
      const res = await postJson(mpdDispense(rx.prescriptionId, { pharmacyName: `${HOSTILE.script} ${HOSTILE.quotes} ${HOSTILE.rtl}` }));
      expect(res.status).toBe(201);
      const md = (await res.json()) as MedicationDispense;
      expect(md.text?.div).not.toContain('<script>');
      expect(md.text?.div).toContain('&lt;script&gt;');
      const [m10] = await outboxFor2(md.id!);
      expect(m10!.payload).not.toContain('<script>');
      expect((await validateM10(m10!.payload)).valid).toBe(true);
    });
  });

  describe('the checks (422 with stable codes, nothing stored)', () => {
    const cases: [string, Parameters<typeof insertNoPrescription>[1] | 'none', Parameters<typeof mpdDispense>[1], string[]][] = [
      ['an unknown prescription', 'none', {}, ['DISP-PRESCRIPTION-UNKNOWN']],
      ['a prescription never made available abroad', { exportable: false }, {}, ['DISP-NOT-EXPORTABLE']],
      ['a recalled prescription', { status: 'cancelled' }, {}, ['DISP-NOT-DISPENSABLE']],
      ['a prescription with no dispensings left', { dispensingsAllowed: 2, dispensingsDone: 2 }, {}, ['DISP-NOT-DISPENSABLE']],
      ['an expired prescription', { validUntil: '2025-01-01', authoredOn: '2024-01-01' }, {}, ['DISP-NOT-DISPENSABLE']],
      ['more than what remains', { quantityPrescribed: 3 }, { quantity: 4 }, ['DISP-QUANTITY-EXCEEDED']],
      ['a quantity in another unit than the prescription counts', { quantityUnit: 'ml', quantityPrescribed: 300 }, {}, ['DISP-QUANTITY-UNIT']],
      ['a dispensing in the future', {}, { whenHandedOver: new Date(Date.now() + 86_400_000).toISOString() }, ['DISP-DATE-INVALID']],
      ['a dispensing before the prescription was issued', { authoredOn: '2099-01-01' }, {}, ['DISP-DATE-INVALID']],
      ['another patient', {}, { patientFnr: PERSONAS.ms.fnr }, ['DISP-PATIENT-MISMATCH']],
    ];
    for (const [name, rxOptions, dispense, codes] of cases) {
      it(`refuses ${name}`, async () => {
        const rx = rxOptions === 'none' ? { id: 'none', prescriptionId: 'ffffffff-0000-4000-8000-000000000000' } : await insertNoPrescription(db, rxOptions);
        const res = await postJson(mpdDispense(rx.prescriptionId, dispense));
        expect(res.status).toBe(422);
        expect(await codesOf(res)).toEqual(codes);
        if (rx.id !== 'none') {
          expect(await rowsFor(rx.id)).toBe(0);
          expect(await prescriptionCounters(db, rx.id)).toMatchObject({ quantity: 0 });
        }
      });
    }

    it('refuses statuses other than completed and entered-in-error', async () => {
      const rx = await insertNoPrescription(db);
      const res = await postJson(mpdDispense(rx.prescriptionId, { status: 'in-progress' }));
      expect(res.status).toBe(422);
      expect(await codesOf(res)).toEqual(['DISP-STATUS-UNSUPPORTED']);
    });

    it('refuses a dispensation naming two prescriptions', async () => {
      const rx = await insertNoPrescription(db);
      const body = mpdDispense(rx.prescriptionId) as Record<string, any>;
      body.authorizingPrescription.push({ identifier: { system: 'https://helsebro.no/fhir/NamingSystem/no-prescription-id', value: 'other' } });
      const res = await postJson(body);
      expect(res.status).toBe(422);
      expect(await codesOf(res)).toEqual(['DISP-MULTIPLE-PRESCRIPTIONS']);
    });

    it('refuses an NCP dispensation of an EU prescription (wrong direction)', async () => {
      const eu = await insertEuPrescription(db);
      const xml = czechCda('placeholder').xml.replaceAll('root="2.999.47.1" extension="placeholder"', `root="${eu.root}" extension="${eu.prescriptionId}"`);
      const res = await postCda(xml);
      expect(res.status).toBe(422);
      expect(await codesOf(res)).toEqual(['DISP-WRONG-DIRECTION']);
      expect(await rowsFor(eu.id)).toBe(0);
    });

    it('refuses a pharmacy reporting the dispensing of a Norwegian prescription: no row, no M10 to the chain', async () => {
      const rx = await insertNoPrescription(db);
      const res = await pharmacy('/fhir/MedicationDispense', {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify(mpdDispense(rx.prescriptionId)),
      });
      expect(res.status).toBe(422);
      expect(await codesOf(res)).toEqual(['DISP-WRONG-DIRECTION']);
      expect(await rowsFor(rx.id)).toBe(0);
      expect(await outboxFor(rx.id)).toBe(0);
      expect(await prescriptionCounters(db, rx.id)).toMatchObject({ done: 0, quantity: 0 });

      // Nor by resending the NCP's own message: that would answer with the NCP's stored dispensation.
      const body = JSON.stringify(mpdDispense(rx.prescriptionId));
      const headers = { 'content-type': 'application/fhir+json' };
      expect((await ncp('/fhir/MedicationDispense', { method: 'POST', headers, body })).status).toBe(201);
      const resent = await pharmacy('/fhir/MedicationDispense', { method: 'POST', headers, body });
      expect(resent.status).toBe(422);
      const text = await resent.text();
      expect(text).toContain('DISP-WRONG-DIRECTION');
      expect(text).not.toContain(PERSONAS.addison.fnr);
      expect(await rowsFor(rx.id)).toBe(1);
    });

    it('answers malformed and hostile bodies with 400, never 500', async () => {
      const rx = await insertNoPrescription(db);
      const xxe = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><ClinicalDocument xmlns="urn:hl7-org:v3">&e;</ClinicalDocument>`;
      for (const res of [
        await postCda(xxe),
        await postCda('<ClinicalDocument xmlns="urn:hl7-org:v3"><code code="60593-1"'),
        await postCda(czechCda(rx.prescriptionId).xml.replace('60593-1', '57833-6')),
        await postJson({ resourceType: 'MedicationDispense', status: 'completed' }),
        await postJson({ resourceType: 'Patient' }),
      ]) {
        expect(res.status).toBe(400);
      }
      const pollution = await ncp('/fhir/MedicationDispense', { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: '{"resourceType":"MedicationDispense","__proto__":{"x":1}}' });
      expect(pollution.status).toBe(400);
      expect(await rowsFor(rx.id)).toBe(0);
    });

    it('refuses a lone UTF-16 surrogate at the body boundary with 400 naming the element, and stores nothing', async () => {
      const rx = await insertNoPrescription(db);
      const inName = mpdDispense(rx.prescriptionId) as Record<string, any>;
      const patientAt = (inName.contained as { resourceType: string }[]).findIndex((r) => r.resourceType === 'Patient');
      inName.contained[patientAt].name[0].family = HOSTILE.loneSurrogate;
      const inText = mpdDispense(rx.prescriptionId) as Record<string, any>;
      inText.dosageInstruction[0].text = `\udfff${inText.dosageInstruction[0].text}`;
      for (const [body, expression] of [
        [inName, `MedicationDispense.contained[${patientAt}].name[0].family`],
        [inText, 'MedicationDispense.dosageInstruction[0].text'],
      ] as const) {
        const res = await postJson(body);
        expect(res.status).toBe(400);
        const [issue] = ((await res.json()) as OperationOutcome).issue;
        expect(issue!.expression).toEqual([expression]);
        expect(issue!.diagnostics).toMatch(/lone UTF-16 surrogate \(U\+D(800|FFF)\)/);
      }
      expect(await rowsFor(rx.id)).toBe(0);
      expect(await outboxFor(rx.id)).toBe(0);
      expect(await prescriptionCounters(db, rx.id)).toMatchObject({ done: 0 });
    });

    it('needs a token with the MedicationDispense create scope', async () => {
      const rx = await insertNoPrescription(db);
      const body = JSON.stringify(mpdDispense(rx.prescriptionId));
      expect((await fetch(`${srv.url}/fhir/MedicationDispense`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body })).status).toBe(401);
      const res = await srv.fetchAs('system/MedicationDispense.rs', '/fhir/MedicationDispense', { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body }, { client: 'ncp-no' });
      expect(res.status).toBe(403);
      expect(await rowsFor(rx.id)).toBe(0);
    });
  });

  describe('discard within 24 hours', () => {
    it('withdraws the dispensation, gives the dispensing back and sends an M10 with Annullering true naming the first M10', async () => {
      const rx = await insertNoPrescription(db, { dispensingsAllowed: 1, quantityPrescribed: 2 });
      const md = (await (await postJson(mpdDispense(rx.prescriptionId, { quantity: 2 }))).json()) as MedicationDispense;
      expect(await prescriptionCounters(db, rx.id)).toMatchObject({ status: 'completed' });
      const res = await ncp(`/fhir/MedicationDispense/${md.id}/$discard`, { method: 'POST' });
      expect(res.status).toBe(200);
      expect(((await res.json()) as MedicationDispense).status).toBe('entered-in-error');
      expect(await prescriptionCounters(db, rx.id)).toEqual({ done: 0, quantity: 0, status: 'active' });

      const messages = await outboxForDispensation(db, md.id!);
      const first = messages[0]!;
      const annul = await ncp(`/fhir/MedicationDispense/${md.id}/$m10?annullering=true`, { headers: { accept: 'application/xml' } });
      expect(annul.status).toBe(200);
      const xml = await annul.text();
      expect(xml).toContain('<Annullering>true</Annullering>');
      expect(xml).toContain(`<AnnulleringsId>${first.msgId}</AnnulleringsId>`);
      expect(xml).toContain('<Avsluttet V="2" DN="Nei"/>');
      expect((await validateM10(xml)).valid).toBe(true);

      // Again: the same withdrawal, nothing more sent.
      const again = await ncp(`/fhir/MedicationDispense/${md.id}/$discard`, { method: 'POST' });
      expect(again.status).toBe(200);
      expect(await outboxFor(rx.id)).toBe(2);
      expect(((await (await ncp(`/fhir/MedicationDispense/${md.id}`)).json()) as MedicationDispense).status).toBe('entered-in-error');
      // The prescription can be dispensed again.
      expect((await postJson(mpdDispense(rx.prescriptionId, { quantity: 2 }))).status).toBe(201);
    });

    it('takes the discard as a MedicationDispense with status entered-in-error, and as the NCP\'s CDA discard', async () => {
      const rx = await insertNoPrescription(db);
      const body = mpdDispense(rx.prescriptionId);
      expect((await postJson(body)).status).toBe(201);
      const res = await postJson({ ...body, status: 'entered-in-error' });
      expect(res.status).toBe(200);
      expect(((await res.json()) as MedicationDispense).status).toBe('entered-in-error');

      const cda = czechCda(rx.prescriptionId);
      expect((await postCda(cda.xml)).status).toBe(201);
      const discarded = await postCda(cda.xml, '?discard=true');
      expect(discarded.status).toBe(200);
      expect(((await discarded.json()) as MedicationDispense).status).toBe('entered-in-error');
      expect(await prescriptionCounters(db, rx.id)).toMatchObject({ done: 0, quantity: 0 });
      expect(await outboxFor(rx.id)).toBe(4);
    });

    it('refuses a discard after 24 hours, and one of a dispensation it does not know', async () => {
      const rx = await insertNoPrescription(db);
      const md = (await (await postJson(mpdDispense(rx.prescriptionId))).json()) as MedicationDispense;
      await db.query(`update dispensation set recorded_at = now() - interval '24 hours 1 minute' where id = $1`, [md.id]);
      const late = await ncp(`/fhir/MedicationDispense/${md.id}/$discard`, { method: 'POST' });
      expect(late.status).toBe(422);
      expect(await codesOf(late)).toEqual(['DISP-DISCARD-TOO-LATE']);
      expect(await outboxFor(rx.id)).toBe(1);
      expect(((await (await ncp(`/fhir/MedicationDispense/${md.id}`)).json()) as MedicationDispense).status).toBe('completed');

      const unknown = await postCda(czechCda(rx.prescriptionId).xml, '?discard=true');
      expect(unknown.status).toBe(422);
      expect(await codesOf(unknown)).toEqual(['DISP-DISCARD-UNKNOWN']);
    });
  });

  describe('operators', () => {
    it('see the outbox by channel and state', async () => {
      const res = await srv.fetchAs('system/MedicationDispense.rs', '/fhir/MedicationDispense/$outbox-status?state=pending&_count=5', {}, { client: 'operator' });
      expect(res.status).toBe(200);
      const p = (await res.json()) as FhirParameters;
      const counts = p.parameter!.filter((x) => x.name === 'count');
      expect(counts.some((c) => c.part?.some((x) => x.name === 'channel' && x.valueCode === 'm10'))).toBe(true);
      const messages = p.parameter!.filter((x) => x.name === 'message');
      expect(messages.length).toBeGreaterThan(0);
      expect(messages.length).toBeLessThanOrEqual(5);
      expect(JSON.stringify(p)).not.toContain(PERSONAS.addison.fnr);
    });
  });

  async function outboxFor2(dispensationId: string) {
    return outboxForDispensation(db, dispensationId);
  }
});
