import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, UnsecuredJWT, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessProblem, decideAccess } from '../../src/auth/access-rules.ts';
import { CLAIM } from '../../src/auth/claims.ts';
import type { Principal } from '../../src/auth/principal.ts';
import { createTokenVerifier, MAX_TOKEN_CHARS, type TokenVerifier } from '../../src/auth/verify.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { invalidToken, isProblem, type Problem } from '../../src/fhir/outcomes.ts';
import {
  AUDIENCE,
  citizenClaims,
  clinicianClaims,
  ISSUER,
  jwksOf,
  makeKey,
  signToken,
  systemClaims,
  type TestKey,
} from './tokens.ts';

let keyA: TestKey;
let keyB: TestKey;
let ecKey: TestKey;
let verify: TokenVerifier;
const reasons: string[] = [];

beforeAll(async () => {
  keyA = await makeKey('key-a', 'RS256');
  keyB = await makeKey('key-b', 'RS256');
  ecKey = await makeKey('key-ec', 'ES256');
  verify = createTokenVerifier({
    jwks: jwksOf(keyA, ecKey),
    issuer: ISSUER,
    audience: AUDIENCE,
    onReject: (r) => reasons.push(r),
  });
});

const bearer = (t: string) => `Bearer ${t}`;

function expectInvalidToken(result: Principal | Problem): void {
  expect(isProblem(result)).toBe(true);
  // Every refusal is the same answer: status, header, code and text give no hint of why.
  expect(result).toEqual(invalidToken());
  const p = result as Problem;
  expect(p.status).toBe(401);
  expect(p.headers?.['WWW-Authenticate']).toContain('error="invalid_token"');
  expect(p.issues[0]?.code).toBe('security');
}

describe('createTokenVerifier: accepted tokens', () => {
  it('turns a valid HelseID-style clinician token into a clinician principal', async () => {
    const p = await verify(bearer(await signToken(keyA, clinicianClaims())));
    expect(isProblem(p)).toBe(false);
    const c = p as Principal;
    expect(c).toMatchObject({
      kind: 'clinician',
      hpr: '9144889',
      orgnr: '310000019',
      parentOrgnr: '312345676',
      role: 'LE',
      purposeOfUse: 'TREAT',
      clientId: 'dips-arena-test',
      clientName: 'DIPS Arena (test)',
      issuer: ISSUER,
    });
    expect(c.scopes.map((s) => s.raw)).toEqual(['user/Patient.rs', 'user/AllergyIntolerance.rs']);
    expect(c.tokenId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('accepts ES256 tokens, the scheme in any case, and an audience list containing ours', async () => {
    const t = await signToken(ecKey, citizenClaims(), { aud: ['other-api', AUDIENCE] });
    const p = await verify(`bearer   ${t}`);
    expect(isProblem(p)).toBe(false);
    expect((p as Principal).kind).toBe('citizen');
  });

  it('tolerates small clock skew on exp and nbf (30 s by default)', async () => {
    expect(isProblem(await verify(bearer(await signToken(keyA, systemClaims(), { iat: -400, exp: -10 }))))).toBe(false);
    expect(isProblem(await verify(bearer(await signToken(keyA, systemClaims(), { nbf: 10 }))))).toBe(false);
  });
});

describe('createTokenVerifier: every failure class is a 401', () => {
  it('no token: 401 asking for a bearer token, without an error code', async () => {
    for (const header of [undefined, '', '   ']) {
      const p = (await verify(header)) as Problem;
      expect(p.status).toBe(401);
      expect(p.headers?.['WWW-Authenticate']).toBe('Bearer realm="helsebro"');
      expect(p.issues[0]?.code).toBe('security');
    }
  });

  it('another scheme (Basic) is treated as no bearer token', async () => {
    const p = (await verify('Basic dXNlcjpwYXNz')) as Problem;
    expect(p.status).toBe(401);
    expect(p.headers?.['WWW-Authenticate']).not.toContain('invalid_token');
  });

  it('malformed: no token after Bearer, not three parts, garbage parts, trailing words, control characters', async () => {
    const good = await signToken(keyA, systemClaims());
    for (const header of [
      'Bearer',
      'Bearer ',
      'Bearer abc',
      'Bearer a.b',
      'Bearer a.b.c',
      'Bearer !!!.???.***',
      `Bearer ${good} extra`,
      `Bearer ${good}\u0000`,
      `Bearer ${good.replace(/\.[^.]+$/, '.')}`,
      'Bearer eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln',
    ]) {
      expectInvalidToken(await verify(header));
    }
  });

  it('expired beyond the tolerance', async () => {
    expectInvalidToken(await verify(bearer(await signToken(keyA, systemClaims(), { iat: -3600, exp: -120 }))));
  });

  it('not yet valid beyond the tolerance', async () => {
    expectInvalidToken(await verify(bearer(await signToken(keyA, systemClaims(), { nbf: 120 }))));
  });

  it('without exp', async () => {
    expectInvalidToken(await verify(bearer(await signToken(keyA, systemClaims(), { exp: null }))));
  });

  it('wrong issuer', async () => {
    expectInvalidToken(await verify(bearer(await signToken(keyA, systemClaims(), { iss: 'https://evil.example/' }))));
  });

  it('wrong audience', async () => {
    expectInvalidToken(await verify(bearer(await signToken(keyA, systemClaims(), { aud: 'kjernejournal' }))));
  });

  it('unsigned (alg none), however the header is spelled', async () => {
    const now = Math.floor(Date.now() / 1000);
    const unsecured = new UnsecuredJWT(systemClaims()).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime(now + 300).encode();
    expectInvalidToken(await verify(bearer(unsecured)));
    // The same payload with alg "None"/"NONE" and an empty signature.
    const [, payload] = unsecured.split('.');
    for (const alg of ['None', 'NONE', 'nOnE']) {
      const header = Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url');
      expectInvalidToken(await verify(bearer(`${header}.${payload}.`)));
    }
  });

  it('signed by another key: under a kid the JWKS does not hold, and forged under a kid it does', async () => {
    expectInvalidToken(await verify(bearer(await signToken(keyB, systemClaims()))));
    expectInvalidToken(await verify(bearer(await signToken(keyB, systemClaims(), { kid: 'key-a' }))));
  });

  it('signature or payload tampered with after signing', async () => {
    const t = await signToken(keyA, systemClaims());
    const [h, p, s] = t.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    claims['scope'] = 'system/*.cruds';
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    expectInvalidToken(await verify(bearer(forged)));
    expectInvalidToken(await verify(bearer(`${h}.${p}.${s.slice(0, -4)}AAAA`)));
  });

  it('HMAC with the public key as secret (algorithm confusion) is refused', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(keyA.publicJwk));
    const now = Math.floor(Date.now() / 1000);
    const t = await new SignJWT(systemClaims())
      .setProtectedHeader({ alg: 'HS256', kid: 'key-a' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime(now + 300)
      .sign(secret);
    expectInvalidToken(await verify(bearer(t)));
  });

  it('an algorithm outside the pinned list is refused even with a matching key', async () => {
    const narrow = createTokenVerifier({ jwks: jwksOf(keyA, ecKey), issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256'] });
    expectInvalidToken(await narrow(bearer(await signToken(ecKey, systemClaims()))));
    expect(isProblem(await narrow(bearer(await signToken(keyA, systemClaims()))))).toBe(false);
  });

  it('oversized token is refused unread', async () => {
    expectInvalidToken(await verify(`Bearer ${'a'.repeat(MAX_TOKEN_CHARS)}.b.c`));
  });

  it('valid signature but claims that make no principal', async () => {
    const cases: Record<string, unknown>[] = [
      clinicianClaims({ [CLAIM.purposeOfUse]: undefined }),
      clinicianClaims({ [CLAIM.role]: undefined }),
      clinicianClaims({ [CLAIM.orgnrParent]: undefined, [CLAIM.orgnrChild]: undefined }),
      clinicianClaims({ [CLAIM.hprNumber]: '12<script>' }),
      clinicianClaims({ [CLAIM.orgnrChild]: '12345' }),
      systemClaims({ client_id: undefined }),
      citizenClaims('12345678901'),
      citizenClaims(PERSONAS.addison.fnr, { scope: 'user/Patient.r' }),
    ];
    for (const claims of cases) {
      for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
      expectInvalidToken(await verify(bearer(await signToken(keyA, claims))));
    }
  });

  it('tells onReject why, without personal data', async () => {
    reasons.length = 0;
    await verify(bearer(await signToken(keyA, citizenClaims('12345678901'))));
    await verify(bearer(await signToken(keyA, systemClaims(), { iat: -3600, exp: -120 })));
    expect(reasons).toHaveLength(2);
    expect(reasons[1]).toBe('ERR_JWT_EXPIRED');
    for (const r of reasons) expect(r).not.toMatch(/\d{11}/);
  });

  it('also tells a per-call listener (for the request id in the log line)', async () => {
    const heard: string[] = [];
    await verify(bearer(await signToken(keyA, systemClaims(), { aud: 'kjernejournal' })), (r) => heard.push(r));
    expect(heard).toEqual(['ERR_JWT_CLAIM_VALIDATION_FAILED']);
  });
});

describe('missing scope is a 403', () => {
  it('a valid token without the route\'s scope is refused with insufficient_scope', async () => {
    const p = (await verify(bearer(await signToken(keyA, clinicianClaims())))) as Principal;
    const decision = decideAccess(p, undefined, { resourceType: 'MedicationDispense', interaction: 'c', level: 'request' });
    expect(decision.effect).toBe('deny');
    const problem = accessProblem(decision);
    expect(problem.status).toBe(403);
    expect(problem.headers?.['WWW-Authenticate']).toContain('error="insufficient_scope"');
    expect(problem.headers?.['WWW-Authenticate']).toContain('user/MedicationDispense.c');
    expect(problem.issues[0]?.details?.coding?.[0]?.code).toBe('ACCESS-SCOPE');
  });
});

describe('remote JWKS (a local HTTP server as the issuer)', () => {
  let server: Server;
  let jwks: JSONWebKeySet;
  let fetches = 0;
  let failing = false;
  let url: URL;

  beforeAll(async () => {
    jwks = jwksOf(keyA);
    server = createServer((req, res) => {
      fetches++;
      if (failing) {
        res.writeHead(500).end('down');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/openid-configuration/jwks`);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('fetches once, caches, and refetches when a token names an unknown kid (key rotation)', async () => {
    fetches = 0;
    failing = false;
    jwks = jwksOf(keyA);
    const remote = createTokenVerifier({ jwks: url, issuer: ISSUER, audience: AUDIENCE, jwksCooldownMs: 0 });
    expect(isProblem(await remote(bearer(await signToken(keyA, systemClaims()))))).toBe(false);
    expect(isProblem(await remote(bearer(await signToken(keyA, systemClaims()))))).toBe(false);
    expect(fetches).toBe(1);

    // The issuer rotates in key B; a token signed with it makes the verifier fetch the set again.
    jwks = jwksOf(keyA, keyB);
    expect(isProblem(await remote(bearer(await signToken(keyB, systemClaims()))))).toBe(false);
    expect(fetches).toBe(2);

    // A kid the issuer never published: refetched, still unknown, refused as an invalid token.
    const stranger = await makeKey('key-unknown');
    expectInvalidToken(await remote(bearer(await signToken(stranger, systemClaims()))));
    expect(fetches).toBe(3);
  });

  it('within the cooldown an unknown kid does not trigger another fetch', async () => {
    fetches = 0;
    jwks = jwksOf(keyA);
    const remote = createTokenVerifier({ jwks: url, issuer: ISSUER, audience: AUDIENCE, jwksCooldownMs: 60_000 });
    expect(isProblem(await remote(bearer(await signToken(keyA, systemClaims()))))).toBe(false);
    expectInvalidToken(await remote(bearer(await signToken(keyB, systemClaims()))));
    expectInvalidToken(await remote(bearer(await signToken(keyB, systemClaims()))));
    expect(fetches).toBe(1);
  });

  it('an unreachable key source is a 503, not a verdict on the token', async () => {
    failing = true;
    const remote = createTokenVerifier({ jwks: url, issuer: ISSUER, audience: AUDIENCE });
    const p = (await remote(bearer(await signToken(keyA, systemClaims())))) as Problem;
    expect(p.status).toBe(503);
    failing = false;
  });

  it('refuses to be built without issuer, audience or an allowed algorithm', () => {
    expect(() => createTokenVerifier({ jwks: url, issuer: '', audience: AUDIENCE })).toThrow();
    expect(() => createTokenVerifier({ jwks: url, issuer: ISSUER, audience: [] })).toThrow();
    expect(() => createTokenVerifier({ jwks: url, issuer: ISSUER, audience: AUDIENCE, algorithms: ['none' as 'RS256'] })).toThrow();
  });
});
