// Authentication, authorisation and audit over real HTTP, with tokens from the embedded demo issuer and
// from a key the server does not trust.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { CLAIM } from '../../src/auth/claims.ts';
import { DEMO_AUDIENCE, DEMO_ISSUER } from '../../src/auth/demo-issuer.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { engines, getTestDb } from '../support/db.ts';
import { DEMO_HPR, startTestServer, type TestServer } from '../support/server.ts';

const clinicianClaims = (over: JWTPayload = {}): JWTPayload => ({
  [CLAIM.clientId]: 'test-epj',
  scope: 'user/Patient.rs',
  [CLAIM.hprNumber]: DEMO_HPR,
  [CLAIM.orgnrParent]: '312345676',
  [CLAIM.role]: 'LE',
  [CLAIM.purposeOfUse]: 'TREAT',
  ...over,
});

describe.each(engines)('trust over HTTP (%s)', (engine) => {
  let srv: TestServer;
  let foreignKey: CryptoKey;
  let trustedKey: CryptoKey;
  const patientPath = `/fhir/Patient/${PERSONAS.ms.id}`;
  const withAuth = (authorization: string) => fetch(`${srv.url}${patientPath}`, { headers: { authorization } });

  /** Signs with the demo issuer's own key unless another key is given, so one claim at a time can be wrong. */
  async function signed(claims: JWTPayload, opts: { key?: CryptoKey; iss?: string; aud?: string; exp?: number; nbf?: number } = {}) {
    const issuer = srv.auth.demoIssuer!;
    const key = opts.key ?? trustedKey;
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: issuer.kid })
      .setIssuer(opts.iss ?? DEMO_ISSUER)
      .setAudience(opts.aud ?? DEMO_AUDIENCE)
      .setIssuedAt(now - 10)
      .setExpirationTime(opts.exp ?? now + 300);
    if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf);
    return jwt.sign(key);
  }

  beforeAll(async () => {
    srv = await startTestServer(engine);
    foreignKey = (await generateKeyPair('ES256')).privateKey;
    // The demo issuer's own signing key, read from where it keeps it, to make tokens wrong in one claim only.
    const jwk = JSON.parse(readFileSync(join(srv.config.dataDir, 'demo-issuer', 'signing-key.jwk.json'), 'utf8')) as JWK;
    trustedKey = (await importJWK(jwk, 'ES256')) as CryptoKey;
  });
  afterAll(async () => {
    await srv.close();
  });

  let reference: OperationOutcome | undefined;
  const invalidTokenAnswer = async (): Promise<OperationOutcome> =>
    (reference ??= (await (await withAuth('Bearer x.y.z')).json()) as OperationOutcome);

  async function expectInvalidToken(res: Response) {
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    const oo = (await res.json()) as OperationOutcome;
    expect(oo.issue[0]!.code).toBe('security');
    // Never a hint of why: every kind of bad token gets the very same answer.
    expect(oo).toEqual(await invalidTokenAnswer());
  }

  it('refuses a request without a token with 401 and a Bearer challenge', async () => {
    const res = await fetch(`${srv.url}${patientPath}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await res.json()) as OperationOutcome).issue[0]!.code).toBe('security');
  });

  it('keeps metadata, health and readiness public', async () => {
    for (const p of ['/fhir/metadata', '/healthz', '/readyz']) expect((await fetch(`${srv.url}${p}`)).status, p).toBe(200);
  });

  it('serves the demo issuer JWKS with public keys only', async () => {
    const jwks = (await (await fetch(`${srv.url}/.well-known/jwks.json`)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const k of jwks.keys) expect(k.d).toBeUndefined();
  });

  it('accepts a valid demo token', async () => {
    const res = await withAuth(`Bearer ${await srv.token({ scope: 'user/Patient.rs' })}`);
    expect(res.status).toBe(200);
  });

  it.each([
    ['malformed', 'Bearer not.a.jwt'],
    ['garbage base64', 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJ9.AAAA'],
    ['oversized', `Bearer ${'a'.repeat(12_000)}.${'b'.repeat(3_000)}.c`],
  ])('refuses a %s token as invalid_token', async (_label, header) => {
    await expectInvalidToken(await withAuth(header));
  });

  it('refuses expired, not-yet-valid, wrong issuer and wrong audience tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectInvalidToken(await withAuth(`Bearer ${await signed(clinicianClaims(), { exp: now - 3600 })}`));
    await expectInvalidToken(await withAuth(`Bearer ${await signed(clinicianClaims(), { nbf: now + 3600 })}`));
    await expectInvalidToken(await withAuth(`Bearer ${await signed(clinicianClaims(), { iss: 'https://evil.example' })}`));
    await expectInvalidToken(await withAuth(`Bearer ${await signed(clinicianClaims(), { aud: 'urn:other-service' })}`));
  });

  it('refuses an unsigned alg:none token', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...clinicianClaims(), iss: DEMO_ISSUER, aud: DEMO_AUDIENCE, exp: now + 300 })}.`;
    await expectInvalidToken(await withAuth(`Bearer ${none}`));
  });

  it('refuses a token signed by a key the server does not trust', async () => {
    await expectInvalidToken(await withAuth(`Bearer ${await signed(clinicianClaims(), { key: foreignKey })}`));
  });

  it('answers 403 with insufficient_scope when the token lacks the scope', async () => {
    const token = await srv.token({ scope: 'user/AllergyIntolerance.rs' });
    const res = await withAuth(`Bearer ${token}`);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('insufficient_scope');
    const oo = (await res.json()) as OperationOutcome;
    expect(oo.issue[0]!.details!.coding![0]!.code).toBe('ACCESS-SCOPE');
  });

  it('records exactly one AuditEvent with the right fields for a clinician read', async () => {
    const db = await getTestDb(engine);
    const requestId = `audit-read-${engine}-0001`;
    const res = await fetch(`${srv.url}${patientPath}`, {
      headers: { authorization: `Bearer ${await srv.token({ scope: 'user/Patient.rs' })}`, 'x-request-id': requestId },
    });
    expect(res.status).toBe(200);
    const rows = await db.query<{ resource: AuditEvent; patient_fnr: string; patient_id: string }>(
      'select resource, patient_fnr, patient_id from audit_event where request_id = $1',
      [requestId],
    );
    expect(rows.rows).toHaveLength(1);
    const { resource: ev, patient_fnr, patient_id } = rows.rows[0]!;
    expect(patient_fnr).toBe(PERSONAS.ms.fnr);
    expect(patient_id).toBe(PERSONAS.ms.id);
    expect(ev.action).toBe('R');
    expect(ev.outcome).toBe('0');
    const agentText = JSON.stringify(ev.agent);
    expect(agentText).toContain(DEMO_HPR);
    expect(agentText).toContain('312345676');
    expect(JSON.stringify(ev.purposeOfEvent)).toContain('TREAT');
    expect(JSON.stringify(ev.entity)).toContain(requestId);
    expect(Date.now() - new Date(ev.recorded).getTime()).toBeLessThan(60_000);
  });

  it("refuses a citizen reading someone else's patient with 403, and audits the refusal", async () => {
    const db = await getTestDb(engine);
    const requestId = `audit-deny-${engine}-0001`;
    const token = await srv.token({ scope: 'patient/Patient.rs', patient: PERSONAS.addison.fnr });
    const res = await fetch(`${srv.url}${patientPath}`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as OperationOutcome).issue[0]!.details!.coding![0]!.code).toBe('ACCESS-CITIZEN-OWN-ONLY');
    const rows = await db.query<{ resource: AuditEvent }>('select resource from audit_event where request_id = $1', [requestId]);
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]!.resource.outcome).toBe('4');
    // Their own record is fine.
    const own = await fetch(`${srv.url}/fhir/Patient/${PERSONAS.addison.id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(own.status).toBe(200);
  });

  it("confines a citizen's patient search to themselves", async () => {
    const token = await srv.token({ scope: 'patient/Patient.rs', patient: PERSONAS.addison.fnr });
    const all = (await (await fetch(`${srv.url}/fhir/Patient`, { headers: { authorization: `Bearer ${token}` } })).json()) as Bundle;
    expect(all.entry!.map((e) => e.resource!.id)).toEqual([PERSONAS.addison.id]);
    const other = await fetch(`${srv.url}/fhir/Patient?identifier=${encodeURIComponent(`${OID.fnr}|${PERSONAS.ms.fnr}`)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(other.status).toBe(403);
    // Criteria that do not match the citizen find nobody; they are not replaced by the citizen's own number.
    const search = async (q: string): Promise<Bundle> =>
      (await (await fetch(`${srv.url}/fhir/Patient?${q}`, { headers: { authorization: `Bearer ${token}` } })).json()) as Bundle;
    const unmatched = await search(`identifier=${encodeURIComponent('urn:oid:2.16.578.1.12.4.1.2|9144889')}`);
    expect(unmatched.total).toBe(0);
    expect((await search('_id=nobody-by-this-id')).total).toBe(0);
    const own = await search(`identifier=${encodeURIComponent(`${OID.fnr}|${PERSONAS.addison.fnr}`)}&_id=${PERSONAS.addison.id}`);
    expect(own.entry!.map((e) => e.resource!.id)).toEqual([PERSONAS.addison.id]);
  });

  it("lets a citizen read the log of their own data and refuses anyone else's", async () => {
    const me = PERSONAS.knee;
    await fetch(`${srv.url}/fhir/Patient/${me.id}`, {
      headers: { authorization: `Bearer ${await srv.token({ scope: 'user/Patient.rs' })}`, 'x-request-id': `knee-read-${engine}-01` },
    });
    const token = await srv.token({ scope: 'patient/AuditEvent.rs', patient: me.fnr });
    const log = await fetch(`${srv.url}/fhir/AuditEvent?patient=Patient/${me.id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(log.status).toBe(200);
    const b = (await log.json()) as Bundle<AuditEvent>;
    expect(b.entry!.some((e) => JSON.stringify(e.resource!.entity).includes(`knee-read-${engine}-01`))).toBe(true);
    expect(b.entry!.every((e) => JSON.stringify(e.resource!.entity).includes(me.fnr) || JSON.stringify(e.resource!.entity).includes(me.id))).toBe(true);
    const someoneElse = await fetch(`${srv.url}/fhir/AuditEvent?patient=Patient/${PERSONAS.ms.id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(someoneElse.status).toBe(403);
  });

  it('lets the auditor scope read the whole log', async () => {
    const res = await srv.fetchAs('system/AuditEvent.rs', '/fhir/AuditEvent?_count=5', {}, { client: 'auditor' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Bundle).entry!.length).toBe(5);
  });

  it('offers no way to change or remove an audit event through the API', async () => {
    const token = await srv.token({ scope: 'user/AuditEvent.cruds', hpr: DEMO_HPR });
    for (const method of ['PUT', 'DELETE', 'PATCH', 'POST']) {
      const res = await fetch(`${srv.url}/fhir/AuditEvent/some-id`, { method, headers: { authorization: `Bearer ${token}` } });
      expect([404, 405], method).toContain(res.status);
    }
    const db = await getTestDb(engine);
    await expect(db.query('update audit_event set outcome = $1', ['0'])).rejects.toThrow();
    await expect(db.query('delete from audit_event')).rejects.toThrow();
  });
});
