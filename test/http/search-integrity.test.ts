// Searches that never lie (issue 14): comma OR where the spec has it, a 400 naming the parameter where a
// search answers for one patient only, POSTed searches whose links carry no personal identifier, and an
// AuditEvent log that pages stably while reading it writes new events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { PERSONAS } from '../../src/demo/personas.ts';
import { seedDemoPrescriptions } from '../../src/eprescription/demo.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const ids = (b: Bundle) => (b.entry ?? []).filter((e) => e.search?.mode !== 'outcome').map((e) => e.resource!.id!);
const linkOf = (b: Bundle, relation: string) => b.link?.find((l) => l.relation === relation)?.url;
const ALL_FNRS = Object.values(PERSONAS).map((p) => p.fnr);

describe.each(engines)('searches that never lie (%s)', (engine) => {
  let srv: TestServer;
  const clinician = (path: string, init: RequestInit = {}) => srv.fetchAs('user/Patient.rs user/Condition.rs', path, init);
  const auditor = (path: string, init: RequestInit = {}) => srv.fetchAs('system/AuditEvent.rs', path, init, { client: 'auditor' });
  const json = async <T>(res: Response) => (await res.json()) as T;

  beforeAll(async () => {
    srv = await startTestServer(engine, { OUTBOX_WORKERS: '0' });
    await seedDemoPrescriptions(await getTestDb(engine), srv.config);
  });
  afterAll(async () => {
    await srv.close();
  });

  describe('comma OR', () => {
    it('Patient?_id=ms,addison finds both', async () => {
      const res = await clinician(`/fhir/Patient?_id=${PERSONAS.ms.id},${PERSONAS.addison.id}`);
      expect(res.status).toBe(200);
      const b = await json<Bundle>(res);
      expect(b.total).toBe(2);
      expect(ids(b).sort()).toEqual([PERSONAS.addison.id, PERSONAS.ms.id].sort());
    });

    it('Patient?identifier=A|x,A|y finds both, and one unknown alternative does not hide the other', async () => {
      const q = encodeURIComponent(`${OID.fnr}|${PERSONAS.ms.fnr},${OID.fnr}|${PERSONAS.knee.fnr},${OID.fnr}|00000000000`);
      const b = await json<Bundle<Patient>>(await clinician(`/fhir/Patient?identifier=${q}`));
      expect(b.total).toBe(2);
      expect(ids(b).sort()).toEqual([PERSONAS.knee.id, PERSONAS.ms.id].sort());
    });

    it('reads an escaped comma as part of the value, not as OR', async () => {
      const res = await clinician(`/fhir/Patient?identifier=${encodeURIComponent(`${PERSONAS.ms.fnr}\\,${PERSONAS.addison.fnr}`)}`);
      expect(res.status).toBe(200);
      expect((await json<Bundle>(res)).total).toBe(0);
      // As an _id, "ms,addison" is one value, and not an id at all.
      const asId = await clinician(`/fhir/Patient?_id=${encodeURIComponent(`${PERSONAS.ms.id}\\,${PERSONAS.addison.id}`)}`);
      expect(asId.status).toBe(400);
      expect((await json<OperationOutcome>(asId)).issue[0]!.expression).toEqual(['_id']);
    });

    it.each([
      [`/fhir/Patient?_id=${PERSONAS.ms.id},`, '_id'],
      ['/fhir/Patient?identifier=,', 'identifier'],
      [`/fhir/Condition?patient=${PERSONAS.ms.id},${PERSONAS.addison.id}`, 'patient'],
      [`/fhir/Patient?_id=${Array.from({ length: 101 }, (_, i) => `p${i}`).join(',')}`, '_id'],
    ])('%s is a 400 naming %s, never a silent zero', async (path, param) => {
      const res = await clinician(path);
      expect(res.status).toBe(400);
      const oo = await json<OperationOutcome>(res);
      expect(oo.issue[0]!.expression).toEqual([param]);
    });

    it('a one-patient search (prescriptions, the audit log) refuses a comma list with a 400 naming the parameter', async () => {
      const mr = await srv.fetchAs('system/MedicationRequest.rs', `/fhir/MedicationRequest?patient=${PERSONAS.addison.id},${PERSONAS.ms.id}`, {}, { client: 'ncp-no' });
      expect(mr.status).toBe(400);
      expect((await json<OperationOutcome>(mr)).issue[0]!.expression).toEqual(['patient']);
      const ae = await auditor(`/fhir/AuditEvent?patient=${PERSONAS.addison.id},${PERSONAS.ms.id}`);
      expect(ae.status).toBe(400);
      expect((await json<OperationOutcome>(ae)).issue[0]!.expression).toEqual(['patient']);
    });
  });

  describe('POSTed searches page by an opaque cursor', () => {
    const noPersonNumber = (b: Bundle) => {
      for (const l of b.link ?? []) for (const fnr of ALL_FNRS) expect(l.url, l.relation).not.toContain(fnr);
    };

    it('POST Patient/_search: links carry _cursor, not the fødselsnummer, and the cursor pages the same search', async () => {
      const body = `identifier=${encodeURIComponent(`${OID.fnr}|${PERSONAS.ms.fnr},${OID.fnr}|${PERSONAS.knee.fnr},${OID.fnr}|${PERSONAS.addison.fnr}`)}&_count=2`;
      const first = await json<Bundle>(await clinician('/fhir/Patient/_search', { method: 'POST', headers: FORM, body }));
      expect(first.total).toBe(3);
      noPersonNumber(first);
      const next = linkOf(first, 'next')!;
      expect(new URL(next).searchParams.get('_cursor')).toMatch(/^[A-Za-z0-9_-]{16,}$/);
      const second = await json<Bundle>(await clinician(new URL(next).pathname + new URL(next).search));
      expect(second.total).toBe(3);
      noPersonNumber(second);
      expect([...ids(first), ...ids(second)].sort()).toEqual([PERSONAS.addison.id, PERSONAS.knee.id, PERSONAS.ms.id].sort());
    });

    it('a cursor is refused to another caller (410), when garbled (400), and with other parameters beside it (400)', async () => {
      const body = `identifier=${encodeURIComponent(`${OID.fnr}|${PERSONAS.ms.fnr}`)}`;
      const b = await json<Bundle>(await clinician('/fhir/Patient/_search', { method: 'POST', headers: FORM, body }));
      const self = new URL(linkOf(b, 'self')!);
      const cursor = self.searchParams.get('_cursor')!;
      const other = await srv.fetchAs('user/Patient.rs', `/fhir/Patient?_cursor=${cursor}`, {}, { hpr: '1234567' });
      expect(other.status).toBe(410);
      expect((await clinician('/fhir/Patient?_cursor=%3Cscript%3E')).status).toBe(400);
      const mixed = await clinician(`/fhir/Patient?_cursor=${cursor}&_id=${PERSONAS.addison.id}`);
      expect(mixed.status).toBe(400);
      expect((await json<OperationOutcome>(mixed)).issue[0]!.expression).toEqual(['_id']);
      expect((await clinician(`/fhir/Patient?_cursor=${'A'.repeat(22)}`)).status).toBe(410);
    });

    it('POST MedicationRequest/_search: links carry no fødselsnummer', async () => {
      const res = await srv.fetchAs('system/MedicationRequest.rs', '/fhir/MedicationRequest/_search', {
        method: 'POST',
        headers: FORM,
        body: `patient:identifier=${encodeURIComponent(`${OID.fnr}|${PERSONAS.ms.fnr}`)}`,
      }, { client: 'ncp-no' });
      expect(res.status).toBe(200);
      const b = await json<Bundle>(res);
      expect(b.link?.length).toBeGreaterThan(0);
      noPersonNumber(b);
    });

    it('a GET search still repeats its own parameters in its links', async () => {
      const b = await json<Bundle>(await clinician(`/fhir/Patient?_id=${PERSONAS.ms.id}`));
      expect(new URL(linkOf(b, 'self')!).searchParams.get('_id')).toBe(PERSONAS.ms.id);
    });
  });

  describe('AuditEvent paging', () => {
    const patient = PERSONAS.hostile;
    const readAll = async (start: Response) => {
      const pages: Bundle<AuditEvent>[] = [];
      let res = start;
      for (;;) {
        expect(res.status).toBe(200);
        const page = await json<Bundle<AuditEvent>>(res);
        pages.push(page);
        // Each page read writes an AuditEvent about this very patient; more reads add more.
        await clinician(`/fhir/Patient/${patient.id}`);
        const next = linkOf(page, 'next');
        if (!next || pages.length > 50) return pages;
        const u = new URL(next);
        res = await auditor(u.pathname + u.search);
      }
    };

    beforeAll(async () => {
      for (let i = 0; i < 7; i++) await clinician(`/fhir/Patient/${patient.id}`);
    });

    it('keyset pages never repeat or skip an event and keep total while new events are written', async () => {
      const pages = await readAll(await auditor(`/fhir/AuditEvent?patient=Patient/${patient.id}&_count=3`));
      const seen = pages.flatMap((p) => ids(p));
      expect(pages.length).toBeGreaterThanOrEqual(3);
      expect(new Set(seen).size).toBe(seen.length);
      expect(new Set(pages.map((p) => p.total)).size).toBe(1);
      expect(seen.length).toBe(pages[0]!.total);
      const times = pages.flatMap((p) => p.entry!.map((e) => e.resource!.recorded));
      expect([...times].sort().reverse()).toEqual(times);
      expect(pages[0]!.entry![0]!.fullUrl).toBe(`urn:uuid:${pages[0]!.entry![0]!.resource!.id}`);
    });

    it('POST AuditEvent/_search works and its links carry a cursor, not the fødselsnummer', async () => {
      const res = await auditor('/fhir/AuditEvent/_search', {
        method: 'POST',
        headers: FORM,
        body: `patient:identifier=${encodeURIComponent(`${OID.fnr}|${patient.fnr}`)}&_count=3`,
      });
      const pages = await readAll(res);
      const seen = pages.flatMap((p) => ids(p));
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBe(pages[0]!.total);
      for (const p of pages) for (const l of p.link ?? []) expect(l.url).not.toContain(patient.fnr);
    });

    it('refuses a tampered paging token and _page with _offset, naming the parameter', async () => {
      const bad = await auditor(`/fhir/AuditEvent?patient=Patient/${patient.id}&_page=${Buffer.from('{"s":"x"}').toString('base64url')}`);
      expect(bad.status).toBe(400);
      expect((await json<OperationOutcome>(bad)).issue[0]!.expression).toEqual(['_page']);
      const both = await auditor(`/fhir/AuditEvent?_page=${Buffer.from('{"s":1}').toString('base64url')}&_offset=3`);
      expect(both.status).toBe(400);
    });
  });
});
