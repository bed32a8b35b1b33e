// Rate limits over HTTP: per person (HPR number or fødselsnummer), per client, and per source address for
// requests without a valid token. One caller's flood must never be charged to another.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { PERSONAS } from '../../src/demo/personas.ts';
import { engines } from '../support/db.ts';
import { DEMO_HPR, startTestServer, type TestServer } from '../support/server.ts';

/** GET from a chosen local address (any 127.x.y.z is this machine), so tests can be two different callers. */
function getFrom(localAddress: string, url: string, authorization?: string): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, headers: authorization ? { authorization } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function expectThrottled(res: Response, says: RegExp): Promise<void> {
  expect(res.status).toBe(429);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  const oo = (await res.json()) as OperationOutcome;
  expect(oo.resourceType).toBe('OperationOutcome');
  expect(oo.issue[0]?.code).toBe('throttled');
  expect(oo.issue[0]?.diagnostics).toMatch(says);
}

describe('rate limits', () => {
  let srv: TestServer;
  const engine = engines[0]!;
  const get = (path: string, token?: string) => fetch(`${srv.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  beforeAll(async () => {
    srv = await startTestServer(engine, {
      RATE_LIMIT_PER_MINUTE: '5',
      RATE_LIMIT_PER_CLIENT_PER_MINUTE: '12',
      RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '4',
    });
  });
  afterAll(async () => {
    await srv.close();
  });

  it('one citizen flooding does not get another citizen on the same client 429d', async () => {
    const citizen = (fnr: string) => srv.token({ patient: fnr, client: 'citizen-app', scope: 'patient/Patient.r' });
    const flooder = await citizen(PERSONAS.addison.fnr);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await get(`/fhir/Patient/${PERSONAS.addison.id}`, flooder)).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    await expectThrottled(await get(`/fhir/Patient/${PERSONAS.addison.id}`, flooder), /from this person \(at most 5 a minute\)/);

    // The other citizen, same client id, same address: unaffected.
    const other = await citizen(PERSONAS.ms.fnr);
    expect((await get(`/fhir/Patient/${PERSONAS.ms.id}`, other)).status).toBe(200);
    // A new token for the flooding person does not reset their count: the person is counted, not the token.
    expect((await get(`/fhir/Patient/${PERSONAS.addison.id}`, await citizen(PERSONAS.addison.fnr))).status).toBe(429);
  });

  it('counts a clinician by HPR number across clients, and a client across its clinicians', async () => {
    const clinician = (hpr: string, client: string) => srv.token({ hpr, client, scope: 'user/Patient.rs' });
    // One clinician through two EPJs shares one budget.
    const a = await clinician('1010101', 'epj-one');
    const b = await clinician('1010101', 'epj-two');
    for (let i = 0; i < 5; i++) expect((await get(`/fhir/Patient/${PERSONAS.ms.id}`, i % 2 ? a : b)).status).toBe(200);
    await expectThrottled(await get(`/fhir/Patient/${PERSONAS.ms.id}`, a), /from this person/);

    // Many clinicians through one EPJ: each under their own limit, together over the client's (12).
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      const token = await clinician(String(2020200 + Math.floor(i / 4)), 'busy-epj');
      statuses.push((await get(`/fhir/Patient/${PERSONAS.ms.id}`, token)).status);
    }
    expect(statuses.slice(0, 12).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(12)).toEqual([429, 429]);
    await expectThrottled(await get(`/fhir/Patient/${PERSONAS.ms.id}`, await clinician('3030303', 'busy-epj')), /from this client \(at most 12 a minute\)/);
    // Another EPJ is not affected.
    expect((await get(`/fhir/Patient/${PERSONAS.ms.id}`, await clinician(DEMO_HPR, 'quiet-epj'))).status).toBe(200);
  });

  it('limits requests without a valid token per source address, and only that address', async () => {
    const url = `${srv.url}/fhir/Patient/${PERSONAS.ms.id}`;
    const flood = [];
    // No token, a malformed one and a public route all count as unauthenticated.
    for (const auth of [undefined, 'Bearer x.y.z', undefined, 'Bearer nonsense', undefined, undefined]) flood.push(await getFrom('127.0.0.2', url, auth));
    expect(flood.map((r) => r.status)).toEqual([401, 401, 401, 401, 429, 429]);
    const last = flood.at(-1)!;
    expect(Number(last.retryAfter)).toBeGreaterThan(0);
    const oo = JSON.parse(last.body) as OperationOutcome;
    expect(oo.issue[0]?.code).toBe('throttled');
    expect(oo.issue[0]?.diagnostics).toMatch(/without a valid token from this address/);
    expect((await getFrom('127.0.0.2', `${srv.url}/fhir/metadata`)).status).toBe(429);

    // Another address still gets its ordinary 401, and a valid token from the flooding address still works.
    expect((await getFrom('127.0.0.3', url)).status).toBe(401);
    const valid = await srv.token({ hpr: '4040404', scope: 'user/Patient.rs' });
    expect((await getFrom('127.0.0.2', url, `Bearer ${valid}`)).status).toBe(200);
  });
});
