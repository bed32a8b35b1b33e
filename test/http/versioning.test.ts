// Versioned reads and preferences (issue 14): meta.versionId/lastUpdated, ETag and Last-Modified,
// conditional reads answered 304, _summary/_elements with the SUBSETTED tag, Prefer on writes, and 406
// for another FHIR version.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, MedicationDispense, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { PERSONAS } from '../../src/demo/personas.ts';
import { applyReturnPreference, returnPreference } from '../../src/http/prefer.ts';
import { otherFhirVersion } from '../../src/http/negotiate.ts';
import { withVersionId } from '../../src/http/versioning.ts';
import type { Db } from '../../src/store/db.ts';
import { upsertPatient } from '../../src/store/patients.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { mpdDispense } from '../edispensation/support/messages.ts';
import { insertNoPrescription } from '../edispensation/support/store.ts';

const isSubsetted = (r: { meta?: { tag?: { code?: string }[] } }) => (r.meta?.tag ?? []).some((t) => t.code === 'SUBSETTED');

describe('version ids, preferences and FHIR versions (pure)', () => {
  it('derives the versionId from the content only, whatever the key order', () => {
    const a = withVersionId({ resourceType: 'Patient', id: 'x', gender: 'female', birthDate: '2000-01-01' } as Patient);
    const b = withVersionId({ birthDate: '2000-01-01', id: 'x', resourceType: 'Patient', gender: 'female', meta: { lastUpdated: '2020-01-01T00:00:00Z' } } as Patient);
    const c = withVersionId({ resourceType: 'Patient', id: 'x', gender: 'male', birthDate: '2000-01-01' } as Patient);
    expect(a.meta!.versionId).toBe(b.meta!.versionId);
    expect(c.meta!.versionId).not.toBe(a.meta!.versionId);
  });

  it.each([
    ['return=minimal', 'minimal'],
    ['respond-async, return=OperationOutcome', 'OperationOutcome'],
    ['return="representation"', 'representation'],
    ['return=everything', undefined],
    ['', undefined],
  ])('reads Prefer %j as %s', (header, expected) => {
    expect(returnPreference({ prefer: header })).toBe(expected);
  });

  it('leaves an answer alone that applied the preference itself, and failures always', () => {
    const own = { status: 201, resource: { resourceType: 'Patient' as const }, headers: { 'Preference-Applied': 'return=OperationOutcome' } };
    expect(applyReturnPreference(own, 'minimal')).toBe(own);
    const failed = { status: 422, resource: { resourceType: 'Patient' as const } };
    expect(applyReturnPreference(failed, 'minimal')).toBe(failed);
  });

  it('turns a stored resource into an OperationOutcome saying so, or an empty body, when the handler did not', () => {
    const created = { status: 201, resource: { resourceType: 'MedicationDispense' as const, id: 'd1', status: 'completed' as const }, headers: { Location: 'x' } };
    const oo = applyReturnPreference(created, 'OperationOutcome');
    expect('resource' in oo && oo.resource).toEqual({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: 'MedicationDispense/d1 created' }] });
    expect(oo.headers).toEqual({ Location: 'x', 'Preference-Applied': 'return=OperationOutcome' });
    const minimal = applyReturnPreference(created, 'minimal');
    expect('body' in minimal && minimal.body).toBe('');
  });

  it.each([
    ['application/fhir+json; fhirVersion=3.0', '3.0'],
    ['application/fhir+json;fhirVersion="1.0"', '1.0'],
    ['application/fhir+json; fhirVersion=4.0', undefined],
    ['application/fhir+json; fhirVersion=3.0, application/fhir+json; fhirVersion=4.0', undefined],
    ['application/fhir+json', undefined],
  ])('Accept %j asks for another FHIR version: %s', (accept, expected) => {
    expect(otherFhirVersion(accept)).toBe(expected);
  });
});

describe.each(engines)('versioned reads over HTTP (%s)', (engine) => {
  let srv: TestServer;
  let db: Db;
  const get = (path: string, headers: Record<string, string> = {}) => srv.fetchAs('user/Patient.rs', path, { headers });

  beforeAll(async () => {
    db = await getTestDb(engine);
    srv = await startTestServer(engine, { OUTBOX_WORKERS: '0' });
  });
  afterAll(async () => {
    await srv.close();
  });

  it('reads a patient with meta.versionId, meta.lastUpdated, ETag and Last-Modified, the same on every read', async () => {
    const first = await get(`/fhir/Patient/${PERSONAS.ms.id}`);
    const p = (await first.json()) as Patient;
    expect(p.meta?.versionId).toMatch(/^[0-9a-f]{16}$/);
    expect(Number.isNaN(Date.parse(p.meta!.lastUpdated!))).toBe(false);
    expect(first.headers.get('etag')).toBe(`W/"${p.meta!.versionId}"`);
    expect(first.headers.get('last-modified')).toBe(new Date(p.meta!.lastUpdated!).toUTCString());
    const again = await get(`/fhir/Patient/${PERSONAS.ms.id}`);
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
  });

  it('answers If-None-Match with the current ETag (or *) with 304 and no body, another with 200', async () => {
    const etag = (await get(`/fhir/Patient/${PERSONAS.ms.id}`)).headers.get('etag')!;
    for (const inm of [etag, etag.replace(/^W\//, ''), `W/"old", ${etag}`, '*']) {
      const res = await get(`/fhir/Patient/${PERSONAS.ms.id}`, { 'if-none-match': inm });
      expect(res.status, inm).toBe(304);
      expect(await res.text()).toBe('');
      expect(res.headers.get('etag')).toBe(etag);
    }
    expect((await get(`/fhir/Patient/${PERSONAS.ms.id}`, { 'if-none-match': 'W/"old"' })).status).toBe(200);
  });

  it('answers If-Modified-Since by lastUpdated, and If-None-Match decides when both are sent', async () => {
    const res = await get(`/fhir/Patient/${PERSONAS.knee.id}`);
    const lastModified = res.headers.get('last-modified')!;
    expect((await get(`/fhir/Patient/${PERSONAS.knee.id}`, { 'if-modified-since': lastModified })).status).toBe(304);
    expect((await get(`/fhir/Patient/${PERSONAS.knee.id}`, { 'if-modified-since': 'Mon, 01 Jan 2001 00:00:00 GMT' })).status).toBe(200);
    expect((await get(`/fhir/Patient/${PERSONAS.knee.id}`, { 'if-modified-since': lastModified, 'if-none-match': 'W/"old"' })).status).toBe(200);
  });

  it('gives a changed patient a new versionId and lastUpdated, and an unchanged write keeps both', async () => {
    const id = `versioned-${engine}`;
    await upsertPatient(db, { resourceType: 'Patient', id, gender: 'female' });
    const v1 = (await (await get(`/fhir/Patient/${id}`)).json()) as Patient;
    await upsertPatient(db, { resourceType: 'Patient', id, gender: 'female' });
    const same = (await (await get(`/fhir/Patient/${id}`)).json()) as Patient;
    expect(same.meta).toEqual(v1.meta);
    await new Promise((r) => setTimeout(r, 5));
    await upsertPatient(db, { resourceType: 'Patient', id, gender: 'male' });
    const v2 = (await (await get(`/fhir/Patient/${id}`, { 'if-none-match': `W/"${v1.meta!.versionId}"` })).json()) as Patient;
    expect(v2.meta!.versionId).not.toBe(v1.meta!.versionId);
    expect(Date.parse(v2.meta!.lastUpdated!)).toBeGreaterThan(Date.parse(v1.meta!.lastUpdated!));
  });

  it('honours _elements and _summary on reads and searches with the SUBSETTED tag', async () => {
    const elements = (await (await get(`/fhir/Patient/${PERSONAS.ms.id}?_elements=identifier,birthDate`)).json()) as Patient;
    expect(Object.keys(elements).sort()).toEqual(['birthDate', 'id', 'identifier', 'meta', 'resourceType']);
    expect(isSubsetted(elements)).toBe(true);
    const summary = (await (await get(`/fhir/Patient/${PERSONAS.ms.id}?_summary=true`)).json()) as Patient;
    expect(summary.identifier).toBeDefined();
    expect(Object.keys(summary).every((k) => ['resourceType', 'id', 'meta', 'identifier', 'active', 'name', 'telecom', 'gender', 'birthDate', 'address', 'managingOrganization', 'link', 'implicitRules'].includes(k) || k.startsWith('deceased'))).toBe(true);
    expect(isSubsetted(summary)).toBe(true);
    const whole = (await (await get(`/fhir/Patient/${PERSONAS.ms.id}?_summary=false`)).json()) as Patient;
    expect(isSubsetted(whole)).toBe(false);
    const search = (await (await get(`/fhir/Patient?_id=${PERSONAS.ms.id},${PERSONAS.knee.id}&_elements=gender`)).json()) as Bundle<Patient>;
    expect(search.entry).toHaveLength(2);
    for (const e of search.entry!) {
      expect(Object.keys(e.resource!).sort()).toEqual(['gender', 'id', 'meta', 'resourceType'].filter((k) => k !== 'gender' || e.resource!.gender !== undefined));
      expect(isSubsetted(e.resource!)).toBe(true);
    }
  });

  it.each([
    ['_summary=count', '_summary'],
    ['_summary=maybe', '_summary'],
    ['_elements=%3Cscript%3E', '_elements'],
    ['_elements=name.given', '_elements'],
    ['_summary=true&_elements=name', '_elements'],
  ])('refuses %s on a read with a 400 naming %s', async (query, param) => {
    const res = await get(`/fhir/Patient/${PERSONAS.ms.id}?${query}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as OperationOutcome).issue[0]!.expression).toEqual([param]);
  });

  it('answers an Accept asking for FHIR 3.0 with 406, and 4.0 as usual', async () => {
    const r3 = await get(`/fhir/Patient/${PERSONAS.ms.id}`, { accept: 'application/fhir+json; fhirVersion=3.0' });
    expect(r3.status).toBe(406);
    expect(((await r3.json()) as OperationOutcome).issue[0]!.diagnostics).toContain('fhirVersion=3.0');
    expect((await get(`/fhir/Patient/${PERSONAS.ms.id}`, { accept: 'application/fhir+json; fhirVersion=4.0' })).status).toBe(200);
  });

  it('versions MedicationDispense reads and honours Prefer return=minimal|OperationOutcome|representation on create', async () => {
    const post = async (prefer: string) => {
      const rx = await insertNoPrescription(db);
      return srv.fetchAs('system/MedicationDispense.cruds', '/fhir/MedicationDispense', {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', prefer },
        body: JSON.stringify(mpdDispense(rx.prescriptionId)),
      }, { client: 'ncp-no' });
    };
    const minimal = await post('return=minimal');
    expect(minimal.status).toBe(201);
    expect(minimal.headers.get('preference-applied')).toBe('return=minimal');
    expect(minimal.headers.get('location')).toMatch(/\/fhir\/MedicationDispense\//);
    expect(await minimal.text()).toBe('');
    const oo = await post('return=OperationOutcome');
    expect(oo.headers.get('preference-applied')).toBe('return=OperationOutcome');
    expect(((await oo.json()) as OperationOutcome).issue[0]!.diagnostics).toMatch(/MedicationDispense\/[0-9a-f-]{36}/);
    const rep = await post('return=representation');
    expect(rep.headers.get('preference-applied')).toBe('return=representation');
    const md = (await rep.json()) as MedicationDispense;
    expect(md.resourceType).toBe('MedicationDispense');

    const read = await srv.fetchAs('system/MedicationDispense.r', new URL(rep.headers.get('location')!).pathname, {}, { client: 'ncp-no' });
    const etag = read.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"/);
    const conditional = await srv.fetchAs('system/MedicationDispense.r', new URL(rep.headers.get('location')!).pathname, { headers: { 'if-none-match': etag } }, { client: 'ncp-no' });
    expect(conditional.status).toBe(304);
  });
});
