import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { CLAIM } from '../../src/auth/claims.ts';
import { DEMO_AUDIENCE, DEMO_ISSUER, DEMO_ORGNR, DemoTokenError, demoClaims, loadDemoIssuer } from '../../src/auth/demo-issuer.ts';
import type { Principal } from '../../src/auth/principal.ts';
import { createAuth } from '../../src/auth/setup.ts';
import { createTokenVerifier } from '../../src/auth/verify.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { isProblem, type Problem } from '../../src/fhir/outcomes.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'helsebro-auth-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('loadDemoIssuer', () => {
  it('creates the key pair once, with mode 0600, and loads the same key after a reload', async () => {
    const dir = tempDir();
    const first = await loadDemoIssuer(dir);
    const file = join(dir, 'demo-issuer', 'signing-key.jwk.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'demo-issuer')).mode & 0o077).toBe(0);
    const token = await first.issueDemoToken({ scope: 'user/Patient.rs', hpr: '9876543' });

    const second = await loadDemoIssuer(dir);
    expect(second.kid).toBe(first.kid);
    expect(second.jwks()).toEqual(first.jwks());
    // A token from before the restart still verifies against the reloaded key set.
    const verify = createTokenVerifier({ jwks: second.jwks(), issuer: DEMO_ISSUER, audience: DEMO_AUDIENCE });
    expect(isProblem(await verify(`Bearer ${token}`))).toBe(false);
  });

  it('two loaders starting together end up with one key', async () => {
    const dir = tempDir();
    const [a, b] = await Promise.all([loadDemoIssuer(dir), loadDemoIssuer(dir)]);
    expect(a.kid).toBe(b.kid);
  });

  it('publishes only the public key', async () => {
    const issuer = await loadDemoIssuer(tempDir());
    const [key] = issuer.jwks().keys;
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: issuer.kid });
    expect(key).not.toHaveProperty('d');
    expect(Object.keys(key ?? {}).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  });

  it('tightens a key file left readable by others', async () => {
    const dir = tempDir();
    await loadDemoIssuer(dir);
    const file = join(dir, 'demo-issuer', 'signing-key.jwk.json');
    chmodSync(file, 0o644);
    await loadDemoIssuer(dir);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses a corrupt or foreign key file instead of silently replacing it', async () => {
    const dir = tempDir();
    await loadDemoIssuer(dir);
    const file = join(dir, 'demo-issuer', 'signing-key.jwk.json');
    writeFileSync(file, '{not json');
    await expect(loadDemoIssuer(dir)).rejects.toThrow(/not valid JSON/);
    writeFileSync(file, JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }));
    await expect(loadDemoIssuer(dir)).rejects.toThrow(/P-256/);
  });
});

describe('issueDemoToken', () => {
  it('signs ES256 access tokens that verify into the principal they describe', async () => {
    const issuer = await loadDemoIssuer(tempDir());
    const verify = createTokenVerifier({ jwks: issuer.jwks(), issuer: issuer.issuer, audience: issuer.audience });
    const now = new Date();

    const clinician = await issuer.issueDemoToken({ scope: 'user/Patient.rs', hpr: '9876543', now });
    expect(decodeProtectedHeader(clinician)).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: issuer.kid });
    expect(await verify(`Bearer ${clinician}`)).toMatchObject({
      kind: 'clinician',
      hpr: '9876543',
      orgnr: DEMO_ORGNR,
      role: 'LE',
      purposeOfUse: 'TREAT',
    });

    const person = await issuer.issueDemoToken({ scope: 'patient/Patient.r patient/AuditEvent.rs', patient: PERSONAS.addison.fnr });
    expect(await verify(`Bearer ${person}`)).toMatchObject({ kind: 'citizen', fnr: PERSONAS.addison.fnr });
    // The subject is stable per person but is not the person number.
    expect(decodeJwt(person).sub).not.toContain(PERSONAS.addison.fnr);

    const system = await issuer.issueDemoToken({ scope: 'system/MedicationRequest.rs', client: 'ncp-no', org: '994598759' });
    expect(await verify(`Bearer ${system}`)).toMatchObject({ kind: 'system', clientId: 'ncp-no', orgnr: '994598759' });
  });

  it('honours the lifetime', async () => {
    const issuer = await loadDemoIssuer(tempDir());
    const t = await issuer.issueDemoToken({ scope: 'system/Patient.r', client: 'x', ttlSec: 60 });
    const c = decodeJwt(t);
    expect((c.exp ?? 0) - (c.iat ?? 0)).toBe(60);
    const expired = await issuer.issueDemoToken({ scope: 'system/Patient.r', client: 'x', ttlSec: 60, now: new Date(Date.now() - 3_600_000) });
    const verify = createTokenVerifier({ jwks: issuer.jwks(), issuer: issuer.issuer, audience: issuer.audience });
    expect(((await verify(`Bearer ${expired}`)) as Problem).status).toBe(401);
    await expect(issuer.issueDemoToken({ scope: 'system/Patient.r', client: 'x', ttlSec: 0 })).rejects.toThrow(DemoTokenError);
    await expect(issuer.issueDemoToken({ scope: 'system/Patient.r', client: 'x', ttlSec: 999_999 })).rejects.toThrow(DemoTokenError);
  });
});

describe('demoClaims', () => {
  it.each([
    ['nobody named', { scope: 'user/Patient.r' }, /Say who/],
    ['clinician and citizen at once', { scope: 'user/Patient.r', hpr: '9876543', patient: PERSONAS.addison.fnr }, /one of them/],
    ['scope of the wrong context', { scope: 'user/Patient.r', patient: PERSONAS.addison.fnr }, /patient\/ scopes/],
    ['no SMART scope at all', { scope: 'openid', hpr: '9876543' }, /No SMART/],
    ['malformed HPR number', { scope: 'user/Patient.r', hpr: '98x' }, /--hpr/],
    ['invalid fødselsnummer', { scope: 'patient/Patient.r', patient: '12345678901' }, /--patient/],
    ['client name with markup', { scope: 'system/Patient.r', client: '<script>' }, /--client/],
    ['organisation number too short', { scope: 'system/Patient.r', client: 'x', org: '123' }, /--org/],
  ])('refuses %s', (_n, opts, message) => {
    expect(() => demoClaims(opts)).toThrow(message);
  });

  it('a citizen acting for a child gets the representation claims', () => {
    const c = demoClaims({
      scope: 'patient/Patient.r',
      patient: PERSONAS.knee.fnr,
      actingFor: { fnr: PERSONAS.child.fnr, relation: 'guardian' },
    });
    expect(c[CLAIM.actingFor]).toBe(PERSONAS.child.fnr);
    expect(c[CLAIM.representation]).toBe('guardian');
  });
});

describe('createAuth', () => {
  const auth = (mode: 'demo' | 'production', a: Partial<Record<'jwksUrl' | 'issuer' | 'audience', string>>, dataDir = tempDir()) =>
    createAuth({ mode, dataDir, auth: { jwksUrl: a.jwksUrl, issuer: a.issuer, audience: a.audience } });

  it('demo mode trusts the embedded issuer and exposes its JWKS', async () => {
    const dir = tempDir();
    const setup = await auth('demo', {}, dir);
    expect(setup.jwks?.().keys).toHaveLength(1);
    const token = await setup.demoIssuer!.issueDemoToken({ scope: 'user/Patient.r', hpr: '9876543' });
    expect(((await setup.verify(`Bearer ${token}`)) as Principal).kind).toBe('clinician');
  });

  it('production refuses to start without AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE', async () => {
    await expect(auth('production', {})).rejects.toThrow(/AUTH_JWKS_URL, AUTH_ISSUER, AUTH_AUDIENCE/);
    await expect(auth('production', { jwksUrl: 'https://helseid-sts.nhn.no/.well-known/openid-configuration/jwks', issuer: 'https://helseid-sts.nhn.no' })).rejects.toThrow(/AUTH_AUDIENCE/);
    await expect(auth('production', { jwksUrl: 'http://keys.example/jwks', issuer: 'x', audience: 'y' })).rejects.toThrow(/https/);
  });

  it('production does not trust demo tokens and serves no JWKS', async () => {
    const dir = tempDir();
    const demo = await loadDemoIssuer(dir);
    const token = await demo.issueDemoToken({ scope: 'user/Patient.r', hpr: '9876543' });
    const setup = await auth('production', { jwksUrl: 'https://127.0.0.1:1/jwks', issuer: DEMO_ISSUER, audience: DEMO_AUDIENCE }, dir);
    expect(setup.jwks).toBeUndefined();
    expect(setup.demoIssuer).toBeUndefined();
    const result = (await setup.verify(`Bearer ${token}`)) as Problem;
    expect(result.status).toBeGreaterThanOrEqual(401);
    expect(isProblem(result)).toBe(true);
  });
});
