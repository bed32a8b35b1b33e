// Resource identity and the document rules (issue 14): ids unique across patients and stable across calls,
// every http fullUrl answers a read with its resource, and a summary Bundle holds only what its
// Composition references, warnings included (in the notes section).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, BundleEntry, Composition, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { PERSONAS } from '../../src/demo/personas.ts';
import { seedDemoPrescriptions } from '../../src/eprescription/demo.ts';
import { referencesIn } from '../../src/summary/assemble.ts';
import { DOCUMENT_SECTION_SYSTEM, NOTES_SECTION_CODE } from '../../src/summary/outcome-section.ts';
import { SEARCHABLE_TYPES } from '../../src/summary/sections.ts';
import { seedDemoSummarySources } from '../../src/summary/seed.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const READ_ALL = `user/Patient.rs ${SEARCHABLE_TYPES.map((t) => `user/${t}.rs`).join(' ')}`;
/** Made anew for each document by nature: the document's own identity. */
const PER_DOCUMENT = new Set(['Composition']);

const clinicalEntries = (b: Bundle): BundleEntry[] => (b.entry ?? []).filter((e) => !PER_DOCUMENT.has(e.resource!.resourceType) && e.resource!.resourceType !== 'OperationOutcome');

/** Every fullUrl reachable from the Composition through references (the R4 document rule). */
function reachable(b: Bundle): Set<string> {
  const byUrl = new Map((b.entry ?? []).map((e) => [e.fullUrl!, e.resource!]));
  const seen = new Set<string>([b.entry![0]!.fullUrl!]);
  const queue: Resource[] = [b.entry![0]!.resource!];
  while (queue.length) {
    for (const ref of referencesIn(queue.shift()!)) {
      const target = byUrl.get(ref);
      if (target && !seen.has(ref)) {
        seen.add(ref);
        queue.push(target);
      }
    }
  }
  return seen;
}

describe.each(engines)('resource identity and documents (%s)', (engine) => {
  let srv: TestServer;
  const summaries = new Map<string, Bundle>();
  const get = (path: string, scope = READ_ALL) => srv.fetchAs(scope, path);
  const summary = async (id: string) => (await (await get(`/fhir/Patient/${id}/$summary`)).json()) as Bundle;

  beforeAll(async () => {
    const db = await getTestDb(engine);
    await seedDemoSummarySources(db);
    srv = await startTestServer(engine, { OUTBOX_WORKERS: '0' });
    await seedDemoPrescriptions(db, srv.config);
    for (const p of Object.values(PERSONAS)) summaries.set(p.id, await summary(p.id));
  });
  afterAll(async () => {
    await srv.close();
  });

  it('no two personas share a resource id or a fullUrl in their summaries', () => {
    const owner = new Map<string, string>();
    const shared: string[] = [];
    for (const [persona, b] of summaries) {
      for (const e of b.entry ?? []) {
        for (const key of [`${e.resource!.resourceType}/${e.resource!.id}`, e.fullUrl!]) {
          const before = owner.get(key);
          if (before && before !== persona) shared.push(`${key} (${before}, ${persona})`);
          owner.set(key, persona);
        }
      }
    }
    expect(shared).toEqual([]);
    // The case the issue found: the same ICPC-2 diagnosis aggregated from KPR for two patients.
    const r96 = (id: string) => summaries.get(id)!.entry!.find((e) => JSON.stringify(e.resource).includes('"R96"'));
    if (r96(PERSONAS.child.id) && r96(PERSONAS.reserved.id)) expect(r96(PERSONAS.child.id)!.resource!.id).not.toBe(r96(PERSONAS.reserved.id)!.resource!.id);
  });

  it('gives a patient\'s resources the same ids and fullUrls on every call', async () => {
    for (const id of [PERSONAS.ms.id, PERSONAS.reserved.id]) {
      const again = await summary(id);
      const keys = (b: Bundle) => clinicalEntries(b).map((e) => `${e.fullUrl} ${e.resource!.resourceType}/${e.resource!.id}`).sort();
      expect(keys(again)).toEqual(keys(summaries.get(id)!));
      expect(clinicalEntries(again).every((e) => e.fullUrl === `urn:uuid:${e.resource!.id}`)).toBe(true);
    }
  });

  it('serves the same ids in the plain searches as in the summary, under urn:uuid fullUrls (they have no read)', async () => {
    const docIds = new Set(summaries.get(PERSONAS.ms.id)!.entry!.map((e) => e.resource!.id));
    for (const type of ['Condition', 'MedicationStatement', 'Procedure']) {
      const b = (await (await get(`/fhir/${type}?patient=Patient/${PERSONAS.ms.id}`)).json()) as Bundle;
      expect(b.entry?.length, type).toBeGreaterThan(0);
      for (const e of b.entry!) {
        expect(e.fullUrl).toBe(`urn:uuid:${e.resource!.id}`);
        expect(docIds.has(e.resource!.id), `${type}/${e.resource!.id}`).toBe(true);
      }
    }
  });

  it('every http fullUrl Helsebro hands out answers a read with that resource', async () => {
    const ncp = 'system/MedicationRequest.rs system/Patient.rs';
    const answers: Bundle[] = [
      (await (await get(`/fhir/Patient?_id=${PERSONAS.ms.id},${PERSONAS.addison.id}`)).json()) as Bundle,
      (await (await srv.fetchAs(ncp, `/fhir/MedicationRequest?patient=${PERSONAS.addison.id}`, {}, { client: 'ncp-no' })).json()) as Bundle,
      (await (await srv.fetchAs('system/AuditEvent.rs', '/fhir/AuditEvent?_count=5', {}, { client: 'nhn-auditor' })).json()) as Bundle,
      ...summaries.values(),
      ...(await Promise.all(SEARCHABLE_TYPES.map(async (t) => (await (await get(`/fhir/${t}?patient=${PERSONAS.knee.id}`)).json()) as Bundle))),
    ];
    const http = answers.flatMap((b) => b.entry ?? []).filter((e) => e.fullUrl?.startsWith('http'));
    expect(http.length).toBeGreaterThan(3);
    for (const e of http) {
      const path = new URL(e.fullUrl!).pathname;
      const res = e.resource!.resourceType === 'MedicationRequest' ? await srv.fetchAs(ncp, path, {}, { client: 'ncp-no' }) : await get(path);
      expect(res.status, e.fullUrl).toBe(200);
      const read = (await res.json()) as Resource;
      expect(`${read.resourceType}/${read.id}`).toBe(`${e.resource!.resourceType}/${e.resource!.id}`);
    }
  });

  it('puts nothing in a summary Bundle that the Composition does not reference, for every persona', () => {
    for (const [persona, b] of summaries) {
      const linked = reachable(b);
      const loose = (b.entry ?? []).filter((e) => !linked.has(e.fullUrl!)).map((e) => `${e.resource!.resourceType} ${e.fullUrl}`);
      expect(loose, persona).toEqual([]);
    }
  });

  it('keeps the warnings of a partial summary in a notes section that references the OperationOutcome', () => {
    const b = summaries.get(PERSONAS.reserved.id)!;
    const composition = b.entry![0]!.resource as Composition;
    const notes = composition.section!.find((s) => s.code?.coding?.some((c) => c.system === DOCUMENT_SECTION_SYSTEM && c.code === NOTES_SECTION_CODE));
    expect(notes).toBeDefined();
    expect(composition.section!.at(-1)).toBe(notes);
    const outcome = b.entry!.find((e) => e.fullUrl === notes!.entry![0]!.reference)!.resource as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue.length).toBeGreaterThan(0);
    for (const i of outcome.issue) expect(notes!.text!.div).toContain(i.diagnostics!.slice(0, 30).replace(/&/g, '&amp;'));
    // A complete summary has no notes section.
    const full = summaries.get(PERSONAS.ms.id)!.entry![0]!.resource as Composition;
    expect(full.section!.some((s) => s.code?.coding?.[0]?.code === NOTES_SECTION_CODE)).toBe(false);
  });
});
