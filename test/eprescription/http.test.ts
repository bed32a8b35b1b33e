// The ePrescription endpoints over real HTTP: the M1 import (201 / 200 on a repeat / 422 with the rule codes
// / 400 / 409 / 413 / 415), the NCP's query by patient and by fødselsnummer, reads, the eHDSI CDA, the demo
// prescriptions, and hostile input. A reseptgruppe A or B prescription is in no answer.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, MedicationRequest, OperationOutcome } from '@medplum/fhirtypes';
import { PERSONAS } from '../../src/demo/personas.ts';
import { DEMO_PRESCRIPTIONS, demoM1, seedDemoPrescriptions, type DemoPrescription } from '../../src/eprescription/demo.ts';
import { checkEhdsiCda } from '../../src/eprescription/cda-check.ts';
import { EXPORT_RULE_SYSTEM } from '../../src/eprescription/rules.ts';
import { validateMpdBundle } from '../../src/eprescription/validate-fhir.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import type { Db } from '../../src/store/db.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { FIXTURES } from './support/pipeline.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';

const NCP = 'system/MedicationRequest.crs';
const demo = (key: number, changes: Partial<DemoPrescription> = {}): DemoPrescription => ({ ...DEMO_PRESCRIPTIONS[key]!, msgId: randomUUID(), ...changes });

describe.each(engines)('ePrescription endpoints (%s)', (engine) => {
  let srv: TestServer;
  let db: Db;
  const ncp = (path: string, init: RequestInit = {}) => srv.fetchAs(NCP, path, init, { client: 'ncp-no' });
  const importXml = (xml: string | Uint8Array, headers: Record<string, string> = {}) =>
    ncp('/fhir/MedicationRequest/$import-m1', { method: 'POST', headers: { 'content-type': 'application/xml', ...headers }, body: typeof xml === 'string' ? xml : new Uint8Array(xml) });
  const outcome = async (res: Response) => (await res.json()) as OperationOutcome;
  const codes = (oo: OperationOutcome) => oo.issue.flatMap((i) => i.details?.coding?.map((c) => c.code) ?? []);
  const search = async (query: string) => {
    const res = await ncp(`/fhir/MedicationRequest?${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Bundle<MedicationRequest>;
  };
  const prescriptionIds = (b: Bundle<MedicationRequest>) => (b.entry ?? []).map((e) => e.resource?.identifier?.[0]?.value);

  beforeAll(async () => {
    db = await getTestDb(engine);
    srv = await startTestServer(engine, { OUTBOX_WORKERS: '0' });
    // The demo seed runs once per store; the worker's shared store may have been seeded before this file.
    await seedDemoPrescriptions(db, srv.config);
  });
  afterAll(async () => {
    await srv.close();
  });

  describe('POST /MedicationRequest/$import-m1', () => {
    it('converts an exportable M1: 201, the MPD Bundle, a Location, a stored row with its decision and Provenance', async () => {
      const p = demo(0);
      const res = await importXml(demoM1(p, new Date()));
      expect(res.status).toBe(201);
      const bundle = (await res.json()) as Bundle;
      expect(validateMpdBundle(bundle)).toEqual([]);
      const mr = bundle.entry?.find((e) => e.resource?.resourceType === 'MedicationRequest')?.resource as MedicationRequest;
      expect(res.headers.get('location')).toBe(`${srv.url}/fhir/MedicationRequest/${mr.id}`);
      expect(mr.identifier?.[0]?.value).toBe(p.msgId);
      // Reiterasjon 3: four dispensings, so three repeats after the next one.
      expect(mr.dispenseRequest?.numberOfRepeatsAllowed).toBe(3);
      const row = await db.query<{ exportable: boolean; decision: { reasons: unknown[] }; prescription_group: string; n: number }>(
        `select exportable, decision, prescription_group, (select count(*)::int from prescription_provenance where prescription_row = p.id) as n
         from prescription p where id = $1`,
        [mr.id],
      );
      expect(row.rows[0]).toMatchObject({ exportable: true, prescription_group: 'C', n: 1, decision: { reasons: [] } });
      const audits = await db.query<{ n: number }>(`select count(*)::int as n from audit_event where resource->'entity' @> $1::jsonb`, [
        JSON.stringify([{ what: { reference: `MedicationRequest/${mr.id}` } }]),
      ]);
      expect(audits.rows[0]?.n).toBe(1);
    });

    it('is idempotent: the same M1 again answers 200 with the same Bundle and stores nothing new', async () => {
      const xml = demoM1(demo(1), new Date());
      const first = await importXml(xml);
      expect(first.status).toBe(201);
      const second = await importXml(xml);
      expect(second.status).toBe(200);
      expect(await second.json()).toEqual(await first.json());
    });

    it('refuses another M1 with a used MsgId: 409', async () => {
      const p = demo(1);
      expect((await importXml(demoM1(p, new Date()))).status).toBe(201);
      const res = await importXml(demoM1({ ...p, dosage: 'En helt annen dosering' }, new Date()));
      expect(res.status).toBe(409);
      expect((await outcome(res)).issue[0]?.code).toBe('conflict');
    });

    it.each([
      [3, 'NO-EXPORT-GROUP-A'],
      [4, 'NO-EXPORT-GROUP-B'],
    ])('refuses demo prescription %i (reseptgruppe A/B) with 422 business-rule and %s, and stores the decision', async (key, code) => {
      const p = demo(key);
      const res = await importXml(demoM1(p, new Date()));
      expect(res.status).toBe(422);
      const oo = await outcome(res);
      expect(oo.issue[0]?.code).toBe('business-rule');
      expect(oo.issue[0]?.details?.coding?.[0]).toMatchObject({ system: EXPORT_RULE_SYSTEM, code });
      const row = await db.query<{ exportable: boolean; fhir_bundle: unknown; cda_xml: unknown }>(
        `select exportable, fhir_bundle, cda_xml from prescription where prescription_id = $1`,
        [p.msgId],
      );
      expect(row.rows[0]).toEqual({ exportable: false, fhir_bundle: null, cda_xml: null });
      // A repeat gives the same refusal.
      expect((await importXml(demoM1(p, new Date()))).status).toBe(422);
    });

    it('gives the reasons in bokmål when Accept-Language asks for it', async () => {
      const res = await importXml(readFileSync(`${FIXTURES}valid/15-last-resept.xml`), { 'accept-language': 'nb-NO, en;q=0.5' });
      expect(res.status).toBe(422);
      const oo = await outcome(res);
      expect(oo.issue.map((i) => i.diagnostics)).toContain('Låste resepter kan ikke sendes til utlandet.');
      const en = await outcome(await importXml(readFileSync(`${FIXTURES}valid/15-last-resept.xml`), { 'accept-language': 'en' }));
      expect(en.issue.map((i) => i.diagnostics)).toContain('Locked prescriptions cannot be sent abroad.');
    });

    it.each([
      ['a28-to-fnr-identer.xml', 'patient-identity-conflict', 'f0f99513-9d16-58e1-bff7-bd4c6d328f90'],
      ['a27-pasient-navn-avviker-fra-register.xml', 'patient-identity-conflict', 'aef3391e-5257-572f-8be1-2b1e760ff3d0'],
      ['a22b-forskriver-annet-navn-enn-hpr.xml', 'prescriber-hpr-mismatch', '0d301112-31bf-54dc-a1e9-6a9ac65a5253'],
    ])('refuses %s with 422 %s, and stores nothing the NCP could find', async (file, code, msgId) => {
      const res = await importXml(readFileSync(`${FIXTURES}identity/${file}`));
      expect(res.status).toBe(422);
      expect(codes(await outcome(res))).toEqual([code]);
      const row = await db.query(`select 1 from prescription where prescription_id = $1`, [msgId]);
      expect(row.rows).toEqual([]);
    });

    it('withholds the address of a patient with strengt fortrolig adresse that the M1 carries', async () => {
      const xml = readFileSync(`${FIXTURES}identity/a29-strengt-fortrolig-adresse.xml`, 'utf8').replace(/<MsgId>[^<]+/, `<MsgId>${randomUUID()}`);
      const res = await importXml(xml);
      expect(res.status).toBe(201);
      const bundle = (await res.json()) as Bundle;
      const patient = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as { address?: unknown; identifier?: unknown };
      expect(patient.address).toBeUndefined();
      expect(patient.identifier).toEqual([{ system: OID.fnr, value: PERSONAS.confidential.fnr }]);
      expect(JSON.stringify(bundle)).not.toMatch(/Storgata|0155/);
    });

    it('names every rule that applies', async () => {
      const res = await importXml(readFileSync(`${FIXTURES}valid/21-mange-grunner.xml`));
      expect(res.status).toBe(422);
      expect(codes(await outcome(res))).toEqual(
        expect.arrayContaining(['NO-EXPORT-GROUP-A', 'NO-EXPORT-LOCKED', 'NO-EXPORT-GUARDIAN-RESERVATION', 'NO-EXPORT-DOCTORS-NAME', 'NO-EXPORT-EXPIRED']),
      );
    });

    it('answers Prefer: return=OperationOutcome with the conversion warnings', async () => {
      const p = demo(2); // Tysabri: dose form 460 has no EDQM unit of presentation mapped
      const res = await importXml(demoM1(p, new Date()), { prefer: 'return=OperationOutcome' });
      expect(res.status).toBe(201);
      const oo = await outcome(res);
      expect(oo.resourceType).toBe('OperationOutcome');
      expect(oo.issue.length).toBeGreaterThan(0);
    });

    it('names a package FEST does not know in the Prefer: return=OperationOutcome answer', async () => {
      const base = demo(0);
      const p = demo(0, { drug: { ...base.drug, varenr: '999917', name: 'Hydrokortison Orifarm Tab 20 mg' } });
      const res = await importXml(demoM1(p, new Date()), { prefer: 'return=OperationOutcome' });
      expect(res.status).toBe(201);
      const oo = await outcome(res);
      const unknown = oo.issue.find((i) => i.details?.coding?.[0]?.code === 'FEST-UNKNOWN-PRODUCT');
      expect(unknown).toMatchObject({ severity: 'warning' });
      expect(unknown?.diagnostics).toContain('Legemiddelpakning with varenummer 999917');
    });

    it.each([
      ['hostile/xxe-fil.xml', 400, 'security'],
      ['hostile/billion-laughs.xml', 400, 'security'],
      ['hostile/doctype-ekstern-dtd.xml', 400, 'security'],
      ['invalid/avkuttet.xml', 400, 'structure'],
      ['invalid/mangler-utloper.xml', 400, 'required'],
      ['invalid/feil-meldingstype-m10.xml', 400, 'not-supported'],
      ['invalid/ikke-xml.xml', 400, 'structure'],
    ])('refuses %s with %i and an OperationOutcome (%s)', async (file, status, code) => {
      const res = await importXml(readFileSync(`${FIXTURES}${file}`));
      expect(res.status).toBe(status);
      const oo = await outcome(res);
      expect(oo.resourceType).toBe('OperationOutcome');
      expect(oo.issue[0]?.code).toBe(code);
    });

    it('refuses a wrong content type with 415, an empty body with 400, an oversized one with 413', async () => {
      const xml = demoM1(demo(0), new Date());
      const json = await ncp('/fhir/MedicationRequest/$import-m1', { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: '{}' });
      expect(json.status).toBe(415);
      expect((await outcome(json)).resourceType).toBe('OperationOutcome');
      expect((await importXml('')).status).toBe(400);
      const huge = xml.replace('<Bruksomrade>', `<Bruksomrade>${'x'.repeat(srv.config.maxBodyBytes.xml)}`);
      const big = await importXml(huge);
      expect(big.status).toBe(413);
      expect((await outcome(big)).resourceType).toBe('OperationOutcome');
    });

    it('keeps script in names inert: the Bundle carries it as text and the CDA escapes it', async () => {
      const p = demo(0, { persona: PERSONAS.hostile });
      const res = await importXml(demoM1(p, new Date()));
      expect(res.status).toBe(201);
      const mr = ((await res.json()) as Bundle).entry?.[0]?.resource as MedicationRequest;
      const cda = await ncp(`/fhir/MedicationRequest/${mr.id}/$ehdsi-cda`);
      const xml = await cda.text();
      expect(xml).not.toContain('<script>');
      expect(xml).toContain('&lt;script&gt;');
      expect(checkEhdsiCda(xml).ok).toBe(true);
      await expectSchemaValidCda(xml);
    });

    it('needs the create scope', async () => {
      const res = await srv.fetchAs('system/MedicationRequest.rs', '/fhir/MedicationRequest/$import-m1', {
        method: 'POST',
        headers: { 'content-type': 'application/xml' },
        body: demoM1(demo(0), new Date()),
      }, { client: 'ncp-no' });
      expect(res.status).toBe(403);
    });
  });

  describe("the NCP's query", () => {
    it('finds the demo Addison prescriptions by patient id and by fødselsnummer, in the MPD profile', async () => {
      const byId = await search(`patient=${PERSONAS.addison.id}`);
      const byFnr = await search(`patient:identifier=${encodeURIComponent(`${OID.fnr}|${PERSONAS.addison.fnr}`)}`);
      for (const b of [byId, byFnr]) {
        const ids = prescriptionIds(b);
        expect(ids).toEqual(expect.arrayContaining([DEMO_PRESCRIPTIONS[0]!.msgId, DEMO_PRESCRIPTIONS[1]!.msgId]));
        for (const e of b.entry ?? []) {
          expect(e.resource?.meta?.profile).toContain('http://hl7.eu/fhir/mpd/StructureDefinition/MedicationRequest-eu-mpd');
          expect(e.resource?.contained?.map((r) => r.resourceType).sort()).toEqual(['Medication', 'Organization', 'Patient', 'Practitioner', 'PractitionerRole']);
          expect(e.fullUrl).toBe(`${srv.url}/fhir/MedicationRequest/${e.resource?.id}`);
        }
      }
    });

    it('never returns a reseptgruppe A or B prescription (the knee patient has only those)', async () => {
      const b = await search(`patient=${PERSONAS.knee.id}`);
      expect(b.total).toBe(0);
      expect(prescriptionIds(b)).not.toContain(DEMO_PRESCRIPTIONS[3]!.msgId);
      expect(JSON.stringify(b)).not.toMatch(/OxyContin|Stesolid/);
      // Nor by id, nor as CDA.
      const rows = await db.query<{ id: string }>('select id from prescription where prescription_id = any($1)', [[DEMO_PRESCRIPTIONS[3]!.msgId, DEMO_PRESCRIPTIONS[4]!.msgId]]);
      expect(rows.rows).toHaveLength(2);
      for (const { id } of rows.rows) {
        expect((await ncp(`/fhir/MedicationRequest/${id}`)).status).toBe(404);
        expect((await ncp(`/fhir/MedicationRequest/${id}/$ehdsi-cda`)).status).toBe(404);
      }
    });

    it('never serves a group A row even when the row was flipped to exportable by hand (the serving guard)', async () => {
      const p = demo(3);
      await importXml(demoM1(p, new Date()));
      await db.query(`update prescription set exportable = true where prescription_id = $1`, [p.msgId]);
      const b = await search(`patient=${PERSONAS.knee.id}`);
      expect(prescriptionIds(b)).not.toContain(p.msgId);
      const { rows } = await db.query<{ id: string }>('select id from prescription where prescription_id = $1', [p.msgId]);
      expect((await ncp(`/fhir/MedicationRequest/${rows[0]!.id}`)).status).toBe(404);
    });

    it('states the dispensings remaining now: after a dispensing the outputs are made again', async () => {
      const p = demo(0);
      const created = (await (await importXml(demoM1(p, new Date()))).json()) as Bundle;
      const id = created.entry?.[0]?.resource?.id;
      await db.query('update prescription set dispensings_done = 2 where id = $1', [id]);
      const read = (await (await ncp(`/fhir/MedicationRequest/${id}`)).json()) as MedicationRequest;
      expect(read.dispenseRequest?.numberOfRepeatsAllowed).toBe(1);
      const cda = await (await ncp(`/fhir/MedicationRequest/${id}/$ehdsi-cda`)).text();
      expect(cda).toContain('<repeatNumber value="2"/>');
      await expectSchemaValidCda(cda);
      // All four used: no longer offered.
      await db.query('update prescription set dispensings_done = 4 where id = $1', [id]);
      const b = await search(`patient=${PERSONAS.addison.id}`);
      expect(prescriptionIds(b)).not.toContain(p.msgId);
    });

    it('leaves out expired prescriptions', async () => {
      const p = demo(1);
      const created = (await (await importXml(demoM1(p, new Date()))).json()) as Bundle;
      await db.query(`update prescription set valid_until = '2020-01-01' where id = $1`, [created.entry?.[0]?.resource?.id]);
      expect(prescriptionIds(await search(`patient=${PERSONAS.addison.id}`))).not.toContain(p.msgId);
    });

    it('takes the parameters in a form body too', async () => {
      const res = await ncp('/fhir/MedicationRequest/_search', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `patient:identifier=${encodeURIComponent(`${OID.fnr}|${PERSONAS.ms.fnr}`)}`,
      });
      expect(res.status).toBe(200);
      expect(prescriptionIds((await res.json()) as Bundle<MedicationRequest>)).toContain(DEMO_PRESCRIPTIONS[2]!.msgId);
    });

    it.each([
      ['', 400],
      ['patient=a&patient:identifier=b', 400],
      ['patient:identifier=urn:oid:1.2.3|12345678901', 400],
      ['patient:identifier=123', 400],
      ['subject=x', 400],
      ['patient=%3Cscript%3E', 400],
    ])('refuses the search "%s" with %i', async (query, status) => {
      const res = await ncp(`/fhir/MedicationRequest?${query}`);
      expect(res.status).toBe(status);
      expect((await outcome(res)).resourceType).toBe('OperationOutcome');
    });

    it('answers a patient with no prescriptions with an empty searchset', async () => {
      const b = await search(`patient=${PERSONAS.nodata.id}`);
      expect(b.total).toBe(0);
    });

    it('lets a citizen see only their own prescriptions', async () => {
      const own = await srv.fetchAs('patient/MedicationRequest.rs', `/fhir/MedicationRequest?patient=${PERSONAS.addison.id}`, {}, { patient: PERSONAS.addison.fnr });
      expect(own.status).toBe(200);
      const other = await srv.fetchAs('patient/MedicationRequest.rs', `/fhir/MedicationRequest?patient=${PERSONAS.ms.id}`, {}, { patient: PERSONAS.addison.fnr });
      expect(other.status).toBe(403);
    });
  });

  describe('GET /MedicationRequest/{id} and $ehdsi-cda', () => {
    it('reads a Norwegian prescription as one MPD MedicationRequest and its CDA as application/xml', async () => {
      const { rows } = await db.query<{ id: string }>('select id from prescription where prescription_id = $1', [DEMO_PRESCRIPTIONS[2]!.msgId]);
      const id = rows[0]!.id;
      const res = await ncp(`/fhir/MedicationRequest/${id}`);
      expect(res.status).toBe(200);
      const mr = (await res.json()) as MedicationRequest;
      expect(mr.id).toBe(id);
      expect(mr.subject?.reference).toMatch(/^#/);
      const cda = await ncp(`/fhir/MedicationRequest/${id}/$ehdsi-cda`);
      expect(cda.status).toBe(200);
      expect(cda.headers.get('content-type')).toMatch(/^application\/xml/);
      const xml = await cda.text();
      expect(checkEhdsiCda(xml).issues).toEqual([]);
      await expectSchemaValidCda(xml);
    });

    it('?level=1 answers the Level 1 of the Level 3 served now: same document id plus .L1, schema-valid, the same bytes each time and in any language', async () => {
      const { rows } = await db.query<{ id: string }>('select id from prescription where prescription_id = $1', [DEMO_PRESCRIPTIONS[2]!.msgId]);
      const id = rows[0]!.id;
      const l3 = await (await ncp(`/fhir/MedicationRequest/${id}/$ehdsi-cda`)).text();
      const res = await ncp(`/fhir/MedicationRequest/${id}/$ehdsi-cda?level=1`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
      const l1 = await res.text();
      await expectSchemaValidCda(l1);
      const idOf = (xml: string) => /<id [^>]*extension="([^"]+)"/.exec(xml)?.[1];
      expect(idOf(l1)).toBe(`${idOf(l3)}.L1`);
      expect(l1).toMatch(/<nonXMLBody[ >]/);
      expect(l1).toContain('languageCode code="nb-NO"');
      expect(await (await ncp(`/fhir/MedicationRequest/${id}/$ehdsi-cda?level=1`)).text()).toBe(l1);
      // The PDF is in English and bokmål whoever asks: Accept-Language changes nothing.
      for (const lang of ['en', 'en-GB, en;q=0.9', 'nb', 'de']) {
        expect(await (await ncp(`/fhir/MedicationRequest/${id}/$ehdsi-cda?level=1`, { headers: { 'accept-language': lang } })).text(), lang).toBe(l1);
      }
    });

    it('?level= anything but 1 or 3, or twice, is a 400 naming level', async () => {
      const { rows } = await db.query<{ id: string }>('select id from prescription where prescription_id = $1', [DEMO_PRESCRIPTIONS[2]!.msgId]);
      for (const q of ['level=2', 'level=%3Cscript%3E', 'level=1&level=3', 'levels=1']) {
        const res = await ncp(`/fhir/MedicationRequest/${rows[0]!.id}/$ehdsi-cda?${q}`);
        expect(res.status, q).toBe(400);
        const oo = (await res.json()) as OperationOutcome;
        expect(JSON.stringify(oo.issue[0]!.expression), q).toMatch(/level/);
      }
    });

    it('answers 404 for an unknown or malformed id', async () => {
      expect((await ncp(`/fhir/MedicationRequest/${randomUUID()}`)).status).toBe(404);
      expect((await ncp('/fhir/MedicationRequest/..%2F..%2Fetc/$ehdsi-cda')).status).toBe(404);
    });
  });

  describe('terminology operations', () => {
    const term = (path: string, init: RequestInit = {}) => srv.fetchAs('system/CodeSystem.r system/ValueSet.r system/ConceptMap.r', path, init, { client: 'ncp-no' });

    it('$lookup: a Volven dose form, in English', async () => {
      const res = await term('/fhir/CodeSystem/$lookup?system=urn:oid:2.16.578.1.12.4.1.1.7448&code=53&displayLanguage=en');
      expect(res.status).toBe(200);
      const p = (await res.json()) as { parameter: { name: string; valueString?: string }[] };
      expect(p.parameter.find((x) => x.name === 'display')?.valueString).toBe('Tablet');
    });

    it('$translate: 7448 53 to EDQM 10219000 Tablet by GET and by POSTed Parameters', async () => {
      const url = encodeURIComponent('https://helsebro.no/fhir/ConceptMap/volven-7448-to-edqm-dose-form');
      const get = await term(`/fhir/ConceptMap/$translate?url=${url}&system=urn:oid:2.16.578.1.12.4.1.1.7448&code=53`);
      expect(get.status).toBe(200);
      const post = await term('/fhir/ConceptMap/$translate', {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({
          resourceType: 'Parameters',
          parameter: [
            { name: 'url', valueUri: decodeURIComponent(url) },
            { name: 'coding', valueCoding: { system: 'urn:oid:2.16.578.1.12.4.1.1.7448', code: '53' } },
          ],
        }),
      });
      expect(post.status).toBe(200);
      for (const body of [await get.json(), await post.json()]) {
        expect(JSON.stringify(body)).toContain('"result","valueBoolean":true');
        expect(JSON.stringify(body)).toContain('http://standardterms.edqm.eu');
      }
    });

    it('$validate-code: an EDQM route in the eHDSI value set', async () => {
      const res = await term(
        `/fhir/ValueSet/$validate-code?url=${encodeURIComponent('http://terminology.ehdsi.eu/ValueSet/eHDSIRouteofAdministration')}&system=http://standardterms.edqm.eu&code=20053000`,
      );
      expect(res.status).toBe(200);
      expect(JSON.stringify(await res.json())).toContain('"valueBoolean":true');
    });

    it('answers bad input with 400/404 OperationOutcomes, and needs a token', async () => {
      expect((await term('/fhir/CodeSystem/$lookup?code=53')).status).toBe(400);
      expect((await term('/fhir/CodeSystem/$lookup?system=urn:oid:9.9.9&code=53')).status).toBe(404);
      const notParams = await term('/fhir/ConceptMap/$translate', { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: '{"resourceType":"Patient"}' });
      expect(notParams.status).toBe(400);
      expect((await fetch(`${srv.url}/fhir/CodeSystem/$lookup?system=x&code=y`)).status).toBe(401);
    });

    it('refuses parameters an operation does not take, naming them, and keeps _format and _pretty', async () => {
      const lookup = '/fhir/CodeSystem/$lookup?system=urn:oid:2.16.578.1.12.4.1.1.7448&code=53';
      const expressionOf = async (res: Response) => ((await res.json()) as OperationOutcome).issue[0]!.expression;
      const bogus = await term(`${lookup}&bogus=1`);
      expect(bogus.status).toBe(400);
      expect(await expressionOf(bogus)).toEqual(['bogus']);
      const version = await term(`${lookup}&version=2018-10-15`);
      expect(version.status).toBe(400);
      expect(((await version.json()) as OperationOutcome).issue[0]).toMatchObject({ code: 'not-supported', expression: ['version'] });
      const json = { method: 'POST', headers: { 'content-type': 'application/fhir+json' } };
      const inBody = await term('/fhir/CodeSystem/$lookup', {
        ...json,
        body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'coding', valueCoding: { system: 'urn:oid:2.16.578.1.12.4.1.1.7448', code: '53' } }, { name: 'bogus', valueString: 'x' }] }),
      });
      expect(inBody.status).toBe(400);
      expect(await expressionOf(inBody)).toEqual(['Parameters.parameter[1]']);
      // With a Parameters body, a parameter left in the query would be read by no one.
      const besideBody = await term('/fhir/CodeSystem/$lookup?displayLanguage=en', {
        ...json,
        body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'coding', valueCoding: { system: 'urn:oid:2.16.578.1.12.4.1.1.7448', code: '53' } }] }),
      });
      expect(besideBody.status).toBe(400);
      expect(await expressionOf(besideBody)).toEqual(['displayLanguage']);
      const translate = await term('/fhir/ConceptMap/$translate?system=urn:oid:2.16.578.1.12.4.1.1.7448&code=53&dependency=x');
      expect(translate.status).toBe(400);
      expect(await expressionOf(translate)).toEqual(['dependency']);
      const general = await term(`${lookup}&_format=json&_pretty=true`);
      expect(general.status).toBe(200);
      expect(await general.text()).toContain('\n  "resourceType": "Parameters"');
    });
  });
});
