// Two FHIR client libraries an integrator would pick, against a real Helsebro: MedplumClient
// (@medplum/core) and fhir-kit-client. Read, search with comma OR, paging of Patient and AuditEvent
// (with GET and with POST _search), $summary, a conditional read answered 304, and a custom operation
// with a Parameters body.
import { MedplumClient } from '@medplum/core';
import type { AuditEvent, Bundle, MedicationDispense, OperationOutcome, Parameters, Patient } from '@medplum/fhirtypes';
import { Client } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERSONAS } from '../../src/demo/personas.ts';
import { outboxForDispensation } from '../../src/edispensation/outbox/repository.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import { SEARCHABLE_TYPES } from '../../src/summary/sections.ts';
import { seedDemoSummarySources } from '../../src/summary/seed.ts';
import type { Db } from '../../src/store/db.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { mpdDispense } from '../edispensation/support/messages.ts';
import { insertNoPrescription } from '../edispensation/support/store.ts';

type TokenOptions = NonNullable<globalThis.Parameters<TestServer['token']>[0]>;
const CLINICIAN = `user/Patient.rs ${SEARCHABLE_TYPES.map((t) => `user/${t}.rs`).join(' ')}`;
const OPERATOR = 'system/MedicationDispense.cruds';
const ALL_FNRS = Object.values(PERSONAS).map((p) => p.fnr);
const THREE = [PERSONAS.addison.id, PERSONAS.knee.id, PERSONAS.ms.id];

describe.each(engines)('FHIR clients against Helsebro (%s)', (engine) => {
  let srv: TestServer;
  let db: Db;
  /** A dead outbox message to retry, so the custom operation has something real to do. */
  const deadOutboxMessage = async (): Promise<string> => {
    const rx = await insertNoPrescription(db);
    const res = await srv.fetchAs(OPERATOR, '/fhir/MedicationDispense', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(mpdDispense(rx.prescriptionId)),
    }, { client: 'ncp-no' });
    const created = (await res.json()) as MedicationDispense;
    const [message] = await outboxForDispensation(db, created.id!);
    await db.query(`update outbox set state = 'dead', last_error = 'parked by the client test' where id = $1`, [message!.id]);
    return message!.id;
  };
  /** Reads of a patient that write AuditEvents about them, so the log has pages to turn. */
  const touch = async (id: string, times: number) => {
    for (let i = 0; i < times; i++) await srv.fetchAs('user/Patient.rs', `/fhir/Patient/${id}`);
  };

  beforeAll(async () => {
    db = await getTestDb(engine);
    await seedDemoSummarySources(db);
    srv = await startTestServer(engine, { OUTBOX_WORKERS: '0' });
  });
  afterAll(async () => {
    await srv.close();
  });

  describe('MedplumClient', () => {
    const statuses: number[] = [];
    const recordingFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const res = await fetch(input, init);
      statuses.push(res.status);
      return res;
    };
    const client = async (scope: string, opts: TokenOptions = {}) => {
      const medplum = new MedplumClient({ baseUrl: `${srv.url}/`, fhirUrlPath: 'fhir', fetch: recordingFetch, cacheTime: 0 });
      medplum.setAccessToken(await srv.token({ scope, ...opts }));
      return medplum;
    };

    it('reads a patient and answers a conditional read with 304', async () => {
      const medplum = await client(CLINICIAN);
      const p = await medplum.readResource('Patient', PERSONAS.ms.id);
      expect(p.identifier).toContainEqual(expect.objectContaining({ system: OID.fnr, value: PERSONAS.ms.fnr }));
      expect(p.meta?.versionId).toBeDefined();
      const notModified = await medplum.get(medplum.fhirUrl('Patient', PERSONAS.ms.id), { headers: { 'If-None-Match': `W/"${p.meta!.versionId}"` } });
      expect(notModified).toBeUndefined();
      expect(statuses.at(-1)).toBe(304);
    });

    it('searches with comma OR and pages Patient results', async () => {
      const medplum = await client(CLINICIAN);
      const found = await medplum.searchResources('Patient', { _id: THREE.join(',') });
      expect(found.map((p) => p.id).sort()).toEqual(THREE);
      const byIdentifier = await medplum.searchResources('Patient', { identifier: `${OID.fnr}|${PERSONAS.ms.fnr},${OID.fnr}|${PERSONAS.knee.fnr}` });
      expect(byIdentifier.map((p) => p.id).sort()).toEqual([PERSONAS.knee.id, PERSONAS.ms.id]);
      const paged: string[] = [];
      for await (const page of medplum.searchResourcePages('Patient', { _id: THREE.join(','), _count: '1' })) paged.push(...page.map((p) => p.id!));
      expect(paged.sort()).toEqual(THREE);
    });

    it('pages the AuditEvent log without repeats while each page read writes new events', async () => {
      await touch(PERSONAS.knee.id, 5);
      const medplum = await client('system/AuditEvent.rs', { client: 'auditor' });
      const seen: string[] = [];
      let pages = 0;
      for await (const page of medplum.searchResourcePages('AuditEvent', { patient: `Patient/${PERSONAS.knee.id}`, _count: '2' })) {
        seen.push(...page.map((e: AuditEvent) => e.id!));
        pages++;
        await touch(PERSONAS.knee.id, 1);
      }
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('gets a $summary document', async () => {
      const medplum = await client(CLINICIAN);
      const doc = await medplum.get<Bundle>(medplum.fhirUrl('Patient', PERSONAS.ms.id, '$summary'));
      expect(doc.type).toBe('document');
      expect(doc.entry?.[0]?.resource?.resourceType).toBe('Composition');
    });

    it('calls a custom operation with a Parameters body', async () => {
      const id = await deadOutboxMessage();
      const medplum = await client(OPERATOR, { client: 'operator' });
      const input: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'id', valueString: id }] };
      const oo = await medplum.post<OperationOutcome>(medplum.fhirUrl('MedicationDispense', '$outbox-retry'), input);
      expect(oo.issue[0]!.diagnostics).toContain('pending again');
      await expect(medplum.post(medplum.fhirUrl('MedicationDispense', '$outbox-retry'), input)).rejects.toThrow();
    });
  });

  describe('fhir-kit-client', () => {
    const client = async (scope: string, opts: TokenOptions = {}) =>
      new Client({ baseUrl: `${srv.url}/fhir`, bearerToken: await srv.token({ scope, ...opts }) });

    it('reads a patient and answers a conditional read with 304', async () => {
      const fhir = await client(CLINICIAN);
      const p = (await fhir.read({ resourceType: 'Patient', id: PERSONAS.addison.id })) as unknown as Patient;
      expect(p.id).toBe(PERSONAS.addison.id);
      const etag = Client.httpFor(p as never).response?.headers.get('etag');
      expect(etag).toBe(`W/"${p.meta!.versionId}"`);
      await expect(fhir.read({ resourceType: 'Patient', id: PERSONAS.addison.id, options: { headers: { 'If-None-Match': etag! } } })).rejects.toMatchObject({
        response: { status: 304 },
      });
    });

    it('searches with comma OR and pages Patient results, by GET and by POST _search without the fødselsnummer in links', async () => {
      const fhir = await client(CLINICIAN);
      const collect = async (first: Bundle) => {
        const ids: string[] = [];
        let page: Bundle | undefined = first;
        while (page) {
          for (const l of page.link ?? []) for (const fnr of ALL_FNRS) expect(l.url).not.toContain(fnr);
          ids.push(...(page.entry ?? []).map((e) => e.resource!.id!));
          page = (await fhir.nextPage({ bundle: page as never })) as unknown as Bundle | undefined;
        }
        return ids.sort();
      };
      const byId = (await fhir.search({ resourceType: 'Patient', searchParams: { _id: THREE.join(','), _count: 2 } })) as unknown as Bundle;
      expect(byId.total).toBe(3);
      expect(await collect(byId)).toEqual(THREE);
      const identifier = [PERSONAS.addison, PERSONAS.knee, PERSONAS.ms].map((p) => `${OID.fnr}|${p.fnr}`).join(',');
      const posted = (await fhir.search({ resourceType: 'Patient', searchParams: { identifier, _count: 1 }, options: { postSearch: true } })) as unknown as Bundle;
      expect(posted.total).toBe(3);
      expect(await collect(posted)).toEqual(THREE);
    });

    it('pages the AuditEvent log by POST _search with stable total and no repeats', async () => {
      await touch(PERSONAS.addison.id, 5);
      const fhir = await client('system/AuditEvent.rs', { client: 'auditor' });
      let page = (await fhir.search({
        resourceType: 'AuditEvent',
        searchParams: { 'patient:identifier': `${OID.fnr}|${PERSONAS.addison.fnr}`, _count: 2 },
        options: { postSearch: true },
      })) as unknown as Bundle | undefined;
      const seen: string[] = [];
      const totals = new Set<number | undefined>();
      while (page) {
        seen.push(...(page.entry ?? []).map((e) => e.resource!.id!));
        totals.add(page.total);
        for (const l of page.link ?? []) expect(l.url).not.toContain(PERSONAS.addison.fnr);
        await touch(PERSONAS.addison.id, 1);
        page = (await fhir.nextPage({ bundle: page as never })) as unknown as Bundle | undefined;
      }
      expect(totals.size).toBe(1);
      expect(seen.length).toBe([...totals][0]);
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('runs $summary at instance level by GET and by POST without a body', async () => {
      const fhir = await client(CLINICIAN);
      const byGet = (await fhir.operation({ name: '$summary', resourceType: 'Patient', id: PERSONAS.knee.id, method: 'GET' })) as unknown as Bundle;
      expect(byGet.type).toBe('document');
      const byPost = (await fhir.operation({ name: 'summary', resourceType: 'Patient', id: PERSONAS.knee.id })) as unknown as Bundle;
      expect(byPost.type).toBe('document');
      const byIdentifier = (await fhir.operation({
        name: 'summary',
        resourceType: 'Patient',
        input: { resourceType: 'Parameters', parameter: [{ name: 'identifier', valueIdentifier: { system: OID.fnr, value: PERSONAS.knee.fnr } }] },
      })) as unknown as Bundle;
      expect(byIdentifier.type).toBe('document');
    });

    it('calls a custom operation with a Parameters body', async () => {
      const id = await deadOutboxMessage();
      const fhir = await client(OPERATOR, { client: 'operator' });
      const oo = (await fhir.operation({
        name: 'outbox-retry',
        resourceType: 'MedicationDispense',
        input: { resourceType: 'Parameters', parameter: [{ name: 'id', valueString: id }] },
      })) as unknown as OperationOutcome;
      expect(oo.issue[0]!.diagnostics).toContain('pending again');
      await expect(
        fhir.operation({ name: 'outbox-retry', resourceType: 'MedicationDispense', input: { resourceType: 'Parameters', parameter: [{ name: 'id', valueInteger: 1 }] } }),
      ).rejects.toMatchObject({ response: { status: 400 } });
    });
  });
});
