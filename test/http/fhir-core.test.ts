// The FHIR REST core over real HTTP: every error status, content negotiation, search and paging.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, CapabilityStatement, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { OID } from '../../src/fhir/identifiers.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { demoPatients } from '../../src/demo/population.ts';
import { loadConfig } from '../../src/config.ts';
import { engines } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe.each(engines)('FHIR core over HTTP (%s)', (engine) => {
  let srv: TestServer;
  let bearer = '';
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${srv.url}${path}`, { headers: { authorization: `Bearer ${bearer}`, ...headers } });
  const post = (path: string, init: RequestInit) =>
    fetch(`${srv.url}${path}`, { ...init, headers: { authorization: `Bearer ${bearer}`, ...(init.headers as Record<string, string>) } });
  const outcome = async (res: Response) => (await res.json()) as OperationOutcome;

  beforeAll(async () => {
    srv = await startTestServer(engine, { MAX_BODY_BYTES_JSON: '4096' });
    bearer = await srv.token({ scope: 'user/Patient.rs' });
  });
  afterAll(async () => {
    await srv.close();
  });

  describe('metadata', () => {
    it('is a CapabilityStatement for FHIR 4.0.1 listing exactly the served interactions', async () => {
      const res = await get('/fhir/metadata');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
      const cs = (await res.json()) as CapabilityStatement;
      expect(cs.resourceType).toBe('CapabilityStatement');
      expect(cs.fhirVersion).toBe('4.0.1');
      const patient = cs.rest![0]!.resource!.find((r) => r.type === 'Patient')!;
      expect(patient.interaction!.map((i) => i.code).sort()).toEqual(['read', 'search-type']);
      expect(patient.searchParam!.map((p) => p.name)).toContain('identifier');
      expect(cs.rest![0]!.resource!.some((r) => r.type === ('Observation' as never))).toBe(false);
    });
  });

  describe('Patient read', () => {
    it('returns a persona by id', async () => {
      const res = await get(`/fhir/Patient/${PERSONAS.ms.id}`);
      expect(res.status).toBe(200);
      const p = (await res.json()) as Patient;
      expect(p.resourceType).toBe('Patient');
      expect(p.identifier).toContainEqual(expect.objectContaining({ system: OID.fnr, value: PERSONAS.ms.fnr }));
    });

    it('answers 404 with an OperationOutcome for an unknown id', async () => {
      const res = await get('/fhir/Patient/does-not-exist');
      expect(res.status).toBe(404);
      const oo = await outcome(res);
      expect(oo.resourceType).toBe('OperationOutcome');
      expect(oo.issue[0]!.code).toBe('not-found');
    });

    it('answers 404 for an unknown resource type and for path traversal in ids', async () => {
      expect((await get('/fhir/Observation/1')).status).toBe(404);
      const trav = await get('/fhir/Patient/..%2F..%2Fetc%2Fpasswd');
      expect(trav.status).toBe(404);
      expect(JSON.stringify(await trav.json())).not.toContain('root:');
    });

    it('answers 405 with Allow for a known path and another method', async () => {
      const res = await post(`/fhir/Patient/${PERSONAS.ms.id}`, { method: 'DELETE' });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toContain('GET');
      expect((await outcome(res)).resourceType).toBe('OperationOutcome');
    });
  });

  describe('Patient search', () => {
    it('finds a persona by system|value', async () => {
      const res = await get(`/fhir/Patient?identifier=${encodeURIComponent(`${OID.fnr}|${PERSONAS.knee.fnr}`)}`);
      expect(res.status).toBe(200);
      const b = (await res.json()) as Bundle;
      expect(b.type).toBe('searchset');
      expect(b.total).toBe(1);
      expect(b.entry![0]!.resource!.id).toBe(PERSONAS.knee.id);
      expect(b.entry![0]!.fullUrl).toBe(`${srv.url.replace('127.0.0.1', '127.0.0.1')}/fhir/Patient/${PERSONAS.knee.id}`);
    });

    it('honours token semantics: value alone matches any system, |value only identifiers without a system', async () => {
      const any = (await (await get(`/fhir/Patient?identifier=${PERSONAS.knee.fnr}`)).json()) as Bundle;
      expect(any.total).toBe(1);
      const none = (await (await get(`/fhir/Patient?identifier=${encodeURIComponent(`|${PERSONAS.knee.fnr}`)}`)).json()) as Bundle;
      expect(none.total).toBe(0);
      const otherSystem = (await (await get(`/fhir/Patient?identifier=${encodeURIComponent(`${OID.dnr}|${PERSONAS.knee.fnr}`)}`)).json()) as Bundle;
      expect(otherSystem.total).toBe(0);
    });

    it('searches with a POSTed form so the fødselsnummer stays out of the URL', async () => {
      const res = await post(`/fhir/Patient/_search`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ identifier: `${OID.fnr}|${PERSONAS.addison.fnr}` }).toString(),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as Bundle).entry![0]!.resource!.id).toBe(PERSONAS.addison.id);
    });

    it('pages with _count and next links that walk every match exactly once', async () => {
      // An OR list naming every demo patient: a search must name its patients, never browse them all.
      const numbers = demoPatients(loadConfig({}).demoPopulationSize).flatMap((p) => p.identifier?.filter((i) => i.system === OID.fnr).map((i) => `${OID.fnr}|${i.value}`) ?? []);
      const q = `identifier=${encodeURIComponent(numbers.slice(0, 60).join(','))}`;
      const count = (await (await get(`/fhir/Patient?${q}&_summary=count`)).json()) as Bundle;
      expect(count.entry).toBeUndefined();
      expect(count.total).toBeGreaterThan(25);
      const seen: string[] = [];
      let url: string | undefined = `${srv.url}/fhir/Patient?${q}&_count=10`;
      let pages = 0;
      while (url) {
        const b = (await (await fetch(url, { headers: { authorization: `Bearer ${bearer}` } })).json()) as Bundle;
        expect(b.entry!.length).toBeLessThanOrEqual(10);
        seen.push(...b.entry!.map((e) => e.resource!.id!));
        url = b.link?.find((l) => l.relation === 'next')?.url;
        pages++;
      }
      expect(pages).toBe(Math.ceil(count.total! / 10));
      expect(seen).toHaveLength(count.total!);
      expect(new Set(seen).size).toBe(count.total);
    });

    it.each([
      ['an unknown parameter', 'family=Hansen', 'family'],
      ['a non-numeric _count', '_count=ten', '_count'],
      ['a _count beyond the maximum', '_count=100000', '_count'],
      ['an empty token', 'identifier=%7C', 'identifier'],
      ['an unsupported _summary', '_summary=maybe', '_summary'],
      ['a repeated parameter', 'identifier=1&identifier=2', 'identifier'],
    ])('answers 400 naming the parameter for %s', async (_label, query, param) => {
      const res = await get(`/fhir/Patient?${query}`);
      expect(res.status).toBe(400);
      const oo = await outcome(res);
      expect(oo.issue[0]!.code).toBe('invalid');
      expect(oo.issue[0]!.expression).toEqual([param]);
    });
  });

  describe('content negotiation', () => {
    it('serves application/fhir+json and application/json, and */*', async () => {
      for (const accept of ['application/fhir+json', 'application/json', '*/*', 'application/*', 'text/html, application/json;q=0.5']) {
        const res = await get('/fhir/metadata', { accept });
        expect(res.status, accept).toBe(200);
      }
    });

    it('answers 406 when only XML or other types are acceptable', async () => {
      for (const accept of ['application/fhir+xml', 'text/csv', 'application/json;q=0']) {
        const res = await get('/fhir/metadata', { accept });
        expect(res.status, accept).toBe(406);
        expect((await outcome(res)).issue[0]!.code).toBe('not-supported');
      }
    });

    it('lets _format override Accept', async () => {
      expect((await get('/fhir/metadata?_format=json', { accept: 'application/fhir+xml' })).status).toBe(200);
      expect((await get('/fhir/metadata?_format=xml')).status).toBe(406);
      expect((await get('/fhir/metadata?_format=application/fhir+xml')).status).toBe(406);
    });

    it('pretty-prints with _pretty=true', async () => {
      const text = await (await get(`/fhir/Patient/${PERSONAS.ms.id}?_pretty=true`)).text();
      expect(text).toContain('\n  "resourceType": "Patient"');
      const compact = await (await get(`/fhir/Patient/${PERSONAS.ms.id}`)).text();
      expect(compact).not.toContain('\n');
    });

    it('answers 415 for a body of an unsupported media type and 400 for a malformed or empty form', async () => {
      const wrongType = await post(`/fhir/Patient/_search`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'identifier=1',
      });
      expect(wrongType.status).toBe(415);
      expect((await outcome(wrongType)).issue[0]!.diagnostics).toContain('application/x-www-form-urlencoded');
      const noType = await post(`/fhir/Patient/_search`, { method: 'POST', body: new Uint8Array([1, 2, 3]) });
      expect(noType.status).toBe(415);
      const latin1 = await post(`/fhir/Patient/_search`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1' },
        body: 'identifier=1',
      });
      expect(latin1.status).toBe(415);
    });

    it('answers 400 for a body that is not valid UTF-8', async () => {
      const res = await post(`/fhir/Patient/_search`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new Uint8Array([0x69, 0x64, 0x3d, 0xc3, 0x28]),
      });
      expect(res.status).toBe(400);
    });

    it('answers 413 for a body over the limit, with an OperationOutcome', async () => {
      const res = await post(`/fhir/Patient/_search`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `identifier=${'1'.repeat(10_000)}`,
      });
      expect(res.status).toBe(413);
      expect((await outcome(res)).issue[0]!.code).toBe('too-costly');
    });
  });

  describe('compressed bodies', () => {
    it('reads a gzip body, and answers one that does not decompress as labelled with a 400 saying what to check', async () => {
      const form = 'identifier=urn:oid:2.16.578.1.12.4.1.4.1|05886610019';
      const ok = await post('/fhir/Patient/_search', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' }, body: gzipSync(form) });
      expect(ok.status).toBe(200);
      for (const [encoding, body] of [['br', gzipSync(form)], ['gzip', Buffer.from(form)], ['deflate', Buffer.from([0x78, 0x9c, 0xff, 0xff, 0x00])]] as const) {
        const res = await post('/fhir/Patient/_search', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': encoding }, body });
        expect(res.status, encoding).toBe(400);
        expect((await outcome(res)).issue[0]!.diagnostics, encoding).toMatch(/could not be read: check that it is encoded as its Content-Encoding says/);
      }
    });
  });

  describe('probes and headers', () => {
    it('answers /healthz and /readyz', async () => {
      expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
      expect(await (await get('/readyz')).json()).toEqual({ status: 'ready', store: engine });
    });

    it('gives every response a request id, echoing a sane incoming one', async () => {
      const res = await get('/fhir/metadata', { 'x-request-id': 'trace-abc-12345' });
      expect(res.headers.get('x-request-id')).toBe('trace-abc-12345');
      const res2 = await get('/fhir/metadata', { 'x-request-id': '<script>' });
      expect(res2.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('sends security headers and no CORS grant', async () => {
      const res = await get('/fhir/metadata', { origin: 'https://evil.example' });
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('x-powered-by')).toBeNull();
    });
  });

  describe('logs', () => {
    it('log one structured line per request with a request id and no personal data', async () => {
      const before = srv.logLines.length;
      const p = PERSONAS.hostile;
      await get(`/fhir/Patient?identifier=${encodeURIComponent(`${OID.fnr}|${p.fnr}`)}`, { 'x-request-id': 'log-check-0001' });
      await get(`/fhir/Patient/${p.fnr}`, { 'x-request-id': 'log-check-0002' });
      await post(`/fhir/Patient/_search`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': 'log-check-0003' },
        body: `identifier=${p.fnr}`,
      });
      const lines = srv.logLines.slice(before);
      const mine = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.reqId).startsWith('log-check-'));
      expect(mine).toHaveLength(3);
      for (const l of mine) expect(l).toMatchObject({ level: 'info', msg: 'request', service: 'helsebro' });
      const text = lines.join('\n');
      expect(text).not.toContain(p.fnr);
      expect(text).not.toContain(p.family);
      expect(text).not.toContain(p.given[1]);
    });
  });
});
