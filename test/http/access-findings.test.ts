// Issue 11's findings, each as the attack it was, over HTTP against the running app: citizens reaching
// another person's dispensations and prescriptions, writing what only the NCP and pharmacies write, driving
// the operator endpoints; clinicians without a care purpose; the audit log across patients; and attempts
// that left no trace. Each test names the finding it holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Bundle, OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { ADDRESS_HASH_PREFIX } from '../../src/audit/build.ts';
import type { DemoTokenOptions } from '../../src/auth/demo-issuer.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { parseEuPrescriptionCda } from '../../src/edispensation/eu/parse-prescription-cda.ts';
import { storeEuPrescriptions } from '../../src/edispensation/eu/prescription-store.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import { VIEW_SCOPES } from '../../src/http/view/router.ts';
import { sessionCookie } from '../view/support/session.ts';
import { loadDemoFest } from '../../src/registries/fest/ingest.ts';
import type { Db } from '../../src/store/db.ts';
import { engines, openIsolatedDb } from '../support/db.ts';
import { DEMO_HPR, startTestServer, type TestServer } from '../support/server.ts';
import { fixture } from '../edispensation/support/fixtures.ts';
import { czechCda, euPrescriptionBundle, euPrescriptionCda, mpdDispense, pharmacyM10 } from '../edispensation/support/messages.ts';
import { count, insertNoPrescription } from '../edispensation/support/store.ts';

const ADDISON = PERSONAS.addison;
const MS = PERSONAS.ms;
const KNEE = PERSONAS.knee;

/** The citizen token of the issue's attack: `--patient ms`, with every patient/ scope it could ask for. */
const citizenMs: DemoTokenOptions = { patient: MS.fnr, scope: 'patient/*.cruds' };
const citizenAddison: DemoTokenOptions = { patient: ADDISON.fnr, scope: 'patient/*.cruds' };
const ncp: DemoTokenOptions = { client: 'ncp-no', scope: 'system/*.cruds' };
const pharmacy: DemoTokenOptions = { client: 'pharmacy-apotek1', scope: 'system/MedicationRequest.rs system/MedicationDispense.cruds' };
const operator: DemoTokenOptions = { client: 'operator', scope: 'system/MedicationDispense.us' };
const clinician = (purpose: string, scope = 'user/*.rs'): DemoTokenOptions => ({ hpr: DEMO_HPR, purpose, scope });

describe.each(engines)('issue 11 findings (%s)', (engine) => {
  let srv: TestServer;
  let db: Db;
  let rx: { id: string; prescriptionId: string };
  let dispensationId: string;
  let euRowId: string;
  let euPrescriptionId: string;
  let noRowId: string;

  const as = async (who: DemoTokenOptions, path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${await srv.token(who)}`);
    return fetch(`${srv.url}${path}`, { ...init, headers });
  };
  const postJson = (who: DemoTokenOptions, path: string, body: unknown) =>
    as(who, path, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
  const postXml = (who: DemoTokenOptions, path: string, xml: string) => as(who, path, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
  const rulesOf = async (res: Response): Promise<string[]> => ((await res.json()) as OperationOutcome).issue.flatMap((i) => i.details?.coding?.map((c) => c.code ?? '') ?? []);
  const auditRows = async (sql: string, params: unknown[]): Promise<AuditEvent[]> =>
    (await db.query<{ resource: AuditEvent }>(`select resource from audit_event where ${sql} order by recorded`, params)).rows.map((r) => r.resource);

  beforeAll(async () => {
    // A store of its own: the prescriptions and dispensations made here stay out of other files' counts.
    db = await openIsolatedDb(engine);
    await loadDemoFest(db);
    srv = await startTestServer(engine, { OUTBOX_WORKERS: '0', RATE_LIMIT_PER_MINUTE: '100000' }, { db });
    rx = await insertNoPrescription(db, { dispensingsAllowed: 3, quantityPrescribed: 6 });
    const created = await postJson(ncp, '/fhir/MedicationDispense', mpdDispense(rx.prescriptionId, { quantity: 1 }));
    expect(created.status).toBe(201);
    dispensationId = ((await created.json()) as { id: string }).id;
    const eu = euPrescriptionCda('lantus');
    const parsed = parseEuPrescriptionCda(eu.xml);
    if (!parsed.ok) throw new Error('EU prescription fixture');
    const stored = await storeEuPrescriptions(db, [{ prescription: { ...parsed.value, patientFnr: ADDISON.fnr }, cdaXml: eu.xml }]);
    if (!stored.ok) throw new Error('EU prescription not stored');
    euRowId = stored.stored[0]!.id;
    euPrescriptionId = eu.prescriptionId;
    const m1 = await postXml(ncp, '/fhir/MedicationRequest/$import-m1', fixture('m1/valid/01-pakning-hydrokortison.xml'));
    expect([200, 201]).toContain(m1.status);
    noRowId = m1.headers.get('location')!.split('/').pop()!;
  });
  afterAll(async () => {
    await srv?.close();
    await db?.close();
  });

  describe('dispensations', () => {
    it("citizen ms reads addison's dispensation: 403", async () => {
      const res = await as(citizenMs, `/fhir/MedicationDispense/${dispensationId}`);
      expect(res.status).toBe(403);
      expect(await rulesOf(res)).toEqual(['ACCESS-CITIZEN-OWN-ONLY']);
    });

    it("citizen ms reads the M10 of addison's dispensation (her fødselsnummer and name): 403 without either", async () => {
      const res = await as(citizenMs, `/fhir/MedicationDispense/${dispensationId}/$m10`, { headers: { accept: 'application/xml' } });
      expect(res.status).toBe(403);
      const text = await res.text();
      expect(text).not.toContain(ADDISON.fnr);
      expect(text).not.toContain(ADDISON.family);
    });

    it("addison reads her own dispensation: 200", async () => {
      expect((await as(citizenAddison, `/fhir/MedicationDispense/${dispensationId}`)).status).toBe(200);
    });

    it("citizen creates a dispensation against addison's prescription: 403, nothing stored, no M10 queued", async () => {
      const before = await count(db, 'select 1 from dispensation where prescription_row = $1', [rx.id]);
      const outbox = await count(db, 'select 1 from outbox where order_key = $1', [rx.id]);
      const res = await postJson(citizenMs, '/fhir/MedicationDispense', mpdDispense(rx.prescriptionId, { quantity: 5 }));
      expect(res.status).toBe(403);
      expect(await rulesOf(res)).toContain('ACCESS-ROLE');
      expect(await count(db, 'select 1 from dispensation where prescription_row = $1', [rx.id])).toBe(before);
      expect(await count(db, 'select 1 from outbox where order_key = $1', [rx.id])).toBe(outbox);
      // The NCP's real dispensation is not blocked by the citizen's attempt.
      expect((await postJson(ncp, '/fhir/MedicationDispense', mpdDispense(rx.prescriptionId, { quantity: 1 }))).status).toBe(201);
    });

    it("the patient herself cannot create a dispensation either: citizens never write dispensations", async () => {
      const res = await postJson(citizenAddison, '/fhir/MedicationDispense', mpdDispense(rx.prescriptionId, { quantity: 1 }));
      expect(res.status).toBe(403);
    });

    it("another citizen withdraws addison's dispensation ($discard): 403, still completed, no annulling M10", async () => {
      const outbox = await count(db, 'select 1 from outbox where order_key = $1', [rx.id]);
      const res = await as(citizenMs, `/fhir/MedicationDispense/${dispensationId}/$discard`, { method: 'POST' });
      expect(res.status).toBe(403);
      const read = await as(ncp, `/fhir/MedicationDispense/${dispensationId}`);
      expect(((await read.json()) as { status: string }).status).toBe('completed');
      expect(await count(db, 'select 1 from outbox where order_key = $1', [rx.id])).toBe(outbox);
    });

    it("a pharmacy cannot withdraw what the NCP reported: 403", async () => {
      const res = await as(pharmacy, `/fhir/MedicationDispense/${dispensationId}/$discard`, { method: 'POST' });
      expect(res.status).toBe(403);
      expect(await rulesOf(res)).toEqual(['ACCESS-ROLE']);
    });

    it('citizen $import-ehdsi-cda (a dispensation, or its discard) and $import-m10: 403', async () => {
      expect((await postXml(citizenMs, '/fhir/MedicationDispense/$import-ehdsi-cda', czechCda(rx.prescriptionId).xml)).status).toBe(403);
      expect((await postXml(citizenMs, '/fhir/MedicationDispense/$import-ehdsi-cda?discard=true', czechCda(rx.prescriptionId).xml)).status).toBe(403);
      expect((await postXml(citizenMs, '/fhir/MedicationDispense/$import-m10', pharmacyM10(euPrescriptionId).xml)).status).toBe(403);
    });
  });

  describe('prescriptions', () => {
    it('citizen POST /Bundle, MedicationRequest/$import-ehdsi-cda and $import-m1: 403, nothing stored', async () => {
      const before = await count(db, 'select 1 from prescription', []);
      const bundle = euPrescriptionBundle();
      expect((await postJson(citizenMs, '/fhir/Bundle', bundle.bundle)).status).toBe(403);
      expect((await postXml(citizenMs, '/fhir/MedicationRequest/$import-ehdsi-cda', euPrescriptionCda().xml)).status).toBe(403);
      expect((await postXml(citizenAddison, '/fhir/MedicationRequest/$import-m1', fixture('m1/valid/02-merkevare-fludrokortison.xml'))).status).toBe(403);
      expect(await count(db, 'select 1 from prescription', [])).toBe(before);
    });

    it('a clinician writes no prescriptions: POST /Bundle as a clinician is 403', async () => {
      expect((await postJson(clinician('TREAT', 'user/*.cruds'), '/fhir/Bundle', euPrescriptionBundle().bundle)).status).toBe(403);
    });

    it('EU MedicationRequest read by another citizen or a clinician without a care purpose: 403; by her, a clinician for care and a pharmacy: 200', async () => {
      const path = `/fhir/MedicationRequest/${euRowId}`;
      expect((await as(citizenMs, path)).status).toBe(403);
      const noPurpose = await as(clinician('HRESCH'), path);
      expect(noPurpose.status).toBe(403);
      expect(await rulesOf(noPurpose)).toEqual(['ACCESS-PURPOSE']);
      expect((await as(citizenAddison, path)).status).toBe(200);
      expect((await as(clinician('TREAT'), path)).status).toBe(200);
      expect((await as(pharmacy, path)).status).toBe(200);
    });

    it('a pharmacy reads EU prescriptions only: a Norwegian one is 403', async () => {
      const res = await as(pharmacy, `/fhir/MedicationRequest/${noRowId}`);
      expect(res.status).toBe(403);
      expect(await rulesOf(res)).toEqual(['ACCESS-ROLE']);
    });

    it('/view/prescription/{id} with a clinician without a care purpose: 403, and audited under the patient', async () => {
      const cookie = await sessionCookie(srv, db, { hpr: DEMO_HPR, purpose: 'HRESCH', scope: VIEW_SCOPES });
      const res = await fetch(`${srv.url}/view/prescription/${euRowId}`, { headers: { cookie }, redirect: 'manual' });
      expect(res.status).toBe(403);
      const events = await auditRows(`resource->'entity' @> $1::jsonb and resource->>'outcome' = '4'`, [JSON.stringify([{ what: { reference: `MedicationRequest/${euRowId}` } }])]);
      expect(events.some((e) => JSON.stringify(e.entity).includes(ADDISON.fnr))).toBe(true);
    });
  });

  describe('searches and the audit log', () => {
    it('GET /fhir/Patient with purpose HRESCH is refused, with or without an identifier', async () => {
      const all = await as(clinician('HRESCH'), '/fhir/Patient?_count=100');
      expect(all.status).toBe(403);
      expect(await all.text()).not.toMatch(/\d{11}/);
      const one = await as(clinician('HRESCH'), `/fhir/Patient?identifier=${encodeURIComponent(`${OID.fnr}|${ADDISON.fnr}`)}`);
      expect(one.status).toBe(403);
      expect((await as(clinician('TREAT'), `/fhir/Patient?identifier=${encodeURIComponent(`${OID.fnr}|${ADDISON.fnr}`)}`)).status).toBe(200);
    });

    it('a clinician or the NCP must name the patient: no browsing the population, no system-only token', async () => {
      for (const who of [clinician('TREAT'), ncp]) {
        for (const path of ['/fhir/Patient?_count=100', '/fhir/Patient?_summary=count', `/fhir/Patient?identifier=${encodeURIComponent(`${OID.fnr}|`)}`]) {
          const res = await as(who, path);
          expect(res.status, path).toBe(400);
          const body = await res.text();
          expect(body, path).not.toMatch(/\d{11}/);
          expect((JSON.parse(body) as OperationOutcome).issue[0]!.expression).toEqual(['identifier']);
        }
      }
    });

    it("a clinician with user/AuditEvent.rs reads neither the whole audit log nor a patient's: 403", async () => {
      const whole = await as(clinician('TREAT', 'user/AuditEvent.rs'), '/fhir/AuditEvent?_count=50');
      expect(whole.status).toBe(403);
      expect(await rulesOf(whole)).toContain('ACCESS-ROLE');
      expect((await as(clinician('TREAT', 'user/AuditEvent.rs'), `/fhir/AuditEvent?patient=Patient/${ADDISON.id}`)).status).toBe(403);
    });

    it('the auditor reads the log across patients', async () => {
      const res = await as({ client: 'auditor', scope: 'system/AuditEvent.rs' }, '/fhir/AuditEvent?_count=50');
      expect(res.status).toBe(200);
      const fnrs = new Set(((await res.json()) as Bundle<AuditEvent>).entry!.flatMap((e) => e.resource!.entity ?? []).map((x) => x.what?.identifier?.value).filter(Boolean));
      expect(fnrs.size).toBeGreaterThan(1);
    });

    it('a system client without a registered role reaches nothing', async () => {
      expect((await as({ client: 'unknown-gateway', scope: 'system/*.cruds' }, `/fhir/Patient/${ADDISON.id}`)).status).toBe(403);
    });
  });

  describe('the operator endpoints', () => {
    it('citizen $outbox-status and $outbox-retry: 403', async () => {
      expect((await as(citizenMs, '/fhir/MedicationDispense/$outbox-status?state=delivered')).status).toBe(403);
      const [row] = (await db.query<{ id: string }>('select id from outbox limit 1')).rows;
      expect((await as(citizenMs, `/fhir/MedicationDispense/$outbox-retry?id=${row!.id}`, { method: 'POST' })).status).toBe(403);
    });

    it('$outbox-status names no MedicationDispense and no server path, only the kind of the last error', async () => {
      await db.query(`update outbox set last_error = $1 where order_key = $2`, [
        "file: EACCES: permission denied, open '/var/lib/helsebro/outbox/m10/secret.xml'",
        rx.id,
      ]);
      const res = await as(operator, '/fhir/MedicationDispense/$outbox-status?_count=999');
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain('MedicationDispense/');
      expect(text).not.toContain(dispensationId);
      expect(text).not.toContain('/var/lib');
      expect(text).not.toContain(ADDISON.fnr);
      const messages = ((JSON.parse(text) as Parameters).parameter ?? []).filter((p) => p.name === 'message');
      expect(messages.flatMap((m) => m.part ?? []).filter((p) => p.name === 'lastError').map((p) => p.valueCode)).toContain('file');
    });
  });

  describe('every attempt audited', () => {
    it('a 401 is audited with no patient, the client the token claims and a hash of the address', async () => {
      const claims = Buffer.from(JSON.stringify({ client_id: 'evil-client-401', scope: 'system/*.cruds' })).toString('base64url');
      const res = await fetch(`${srv.url}/fhir/MedicationDispense/${dispensationId}`, { headers: { authorization: `Bearer eyJhbGciOiJFUzI1NiJ9.${claims}.AAAA` } });
      expect(res.status).toBe(401);
      const [event] = await auditRows(`resource::text like $1`, ['%evil-client-401%']);
      expect(event).toBeDefined();
      expect(event!.outcome).toBe('4');
      expect(JSON.stringify(event)).not.toContain(ADDISON.fnr);
      expect(event!.entity?.some((e) => e.role?.code === '1')).toBe(false);
      const caller = event!.agent.find((a) => a.requestor)!;
      expect(caller.who?.identifier?.value).toBe('evil-client-401');
      expect(caller.network?.address).toMatch(new RegExp(`^${ADDRESS_HASH_PREFIX}[0-9a-f]{32}$`));
      expect(caller.network?.address).not.toContain('127.0.0.1');
      const none = await fetch(`${srv.url}/fhir/Patient/${ADDISON.id}`);
      expect(none.status).toBe(401);
      expect((await auditRows(`resource->'agent' @> $1::jsonb and resource->>'outcome' = '4'`, [JSON.stringify([{ who: { display: 'unauthenticated caller' } }])])).length).toBeGreaterThan(0);
    });

    it("addison's own log shows ms's refused attempt on her dispensation, with its outcome and without ms's fødselsnummer", async () => {
      expect((await as(citizenMs, `/fhir/MedicationDispense/${dispensationId}`)).status).toBe(403);
      const res = await as(citizenAddison, '/fhir/AuditEvent?_count=200');
      expect(res.status).toBe(200);
      const events = ((await res.json()) as Bundle<AuditEvent>).entry!.map((e) => e.resource!);
      const refused = events.filter((e) => e.outcome === '4' && e.entity?.some((x) => x.what?.reference === `MedicationDispense/${dispensationId}`));
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0]!.outcomeDesc).toBe('forbidden');
      expect(JSON.stringify(events)).not.toContain(MS.fnr);
      expect(refused[0]!.agent.some((a) => a.who?.display === 'another person')).toBe(true);
    });

    it('a scope refusal is audited under the patient too', async () => {
      const res = await as({ patient: MS.fnr, scope: 'patient/Observation.r' }, `/fhir/MedicationDispense/${dispensationId}`);
      expect(res.status).toBe(403);
      const requestId = res.headers.get('x-request-id')!;
      const [event] = await auditRows(`resource->'entity' @> $1::jsonb`, [JSON.stringify([{ what: { identifier: { value: requestId } } }])]);
      expect(event!.outcome).toBe('4');
      expect(event!.entity?.find((e) => e.role?.code === '1')?.what?.identifier?.value).toBe(ADDISON.fnr);
    });

    it('a 422 is audited under the patient', async () => {
      const done = await insertNoPrescription(db, { dispensingsAllowed: 1, quantityPrescribed: 1 });
      expect((await postJson(ncp, '/fhir/MedicationDispense', mpdDispense(done.prescriptionId, { quantity: 1 }))).status).toBe(201);
      const again = await postJson(ncp, '/fhir/MedicationDispense', mpdDispense(done.prescriptionId, { quantity: 1 }));
      expect(again.status).toBe(422);
      const requestId = again.headers.get('x-request-id')!;
      const [event] = await auditRows(`resource->'entity' @> $1::jsonb`, [JSON.stringify([{ what: { identifier: { value: requestId } } }])]);
      expect(event!.outcome).toBe('4');
      expect(event!.entity?.find((e) => e.role?.code === '1')?.what?.identifier?.value).toBe(ADDISON.fnr);
    });

    it("the citizen's log names the clinician's organisation and role, and a guardian by relation, never by number", async () => {
      expect((await as(clinician('TREAT'), `/fhir/Patient/${ADDISON.id}`)).status).toBe(200);
      const guardian: DemoTokenOptions = { patient: KNEE.fnr, actingFor: { fnr: ADDISON.fnr, relation: 'guardian' }, scope: 'patient/Patient.r' };
      expect((await as(guardian, `/fhir/Patient/${ADDISON.id}`)).status).toBe(200);
      const res = await as(citizenAddison, '/fhir/AuditEvent?_count=200');
      const events = ((await res.json()) as Bundle<AuditEvent>).entry!.map((e) => e.resource!);
      const byClinician = events.find((e) => e.agent.some((a) => a.who?.identifier?.system === OID.hpr));
      expect(byClinician).toBeDefined();
      const person = byClinician!.agent.find((a) => a.who?.identifier?.system === OID.hpr)!;
      expect(person.role?.[0]?.coding?.[0]?.code).toBe('LE');
      expect(byClinician!.agent.some((a) => a.who?.identifier?.system === OID.orgnr)).toBe(true);
      const byGuardian = events.find((e) => e.agent.some((a) => a.who?.display === 'guardian'));
      expect(byGuardian).toBeDefined();
      expect(JSON.stringify(events)).not.toContain(KNEE.fnr);
    });
  });
});
