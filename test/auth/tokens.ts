// Test helpers: key pairs and signed tokens with full control over every claim and header.
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JSONWebKeySet } from 'jose';
import { CLAIM } from '../../src/auth/claims.ts';
import { PERSONAS } from '../../src/demo/personas.ts';

export const ISSUER = 'https://helseid-sts.test.example/';
export const AUDIENCE = 'nhn:helsebro';

export interface TestKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeKey(kid: string, alg = 'RS256'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicJwk };
}

export const jwksOf = (...keys: TestKey[]): JSONWebKeySet => ({ keys: keys.map((k) => k.publicJwk) });

export interface SignOptions {
  iss?: string;
  aud?: string | string[];
  /** Seconds relative to now. */
  iat?: number;
  nbf?: number;
  exp?: number | null;
  kid?: string;
  alg?: string;
}

export async function signToken(key: TestKey, claims: Record<string, unknown>, opts: SignOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: opts.alg ?? key.alg, kid: opts.kid ?? key.kid, typ: 'at+jwt' })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt(now + (opts.iat ?? 0))
    .setNotBefore(now + (opts.nbf ?? 0))
    .setJti(crypto.randomUUID());
  if (opts.exp !== null) jwt = jwt.setExpirationTime(now + (opts.exp ?? 300));
  return jwt.sign(key.privateKey);
}

/** Claims of a GP in a realistic HelseID access token, plus Helsebro's role and purpose claims. */
export const clinicianClaims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  sub: 'a9dc1c0f-pseudonym',
  client_id: 'dips-arena-test',
  [CLAIM.clientName]: 'DIPS Arena (test)',
  scope: ['openid', 'helseid://scopes/hpr/hpr_number', 'user/Patient.rs', 'user/AllergyIntolerance.rs'],
  [CLAIM.hprNumber]: '9144889',
  [CLAIM.pid]: PERSONAS.knee.fnr,
  [CLAIM.orgnrParent]: '312345676',
  [CLAIM.orgnrChild]: '310000019',
  [CLAIM.role]: 'LE',
  [CLAIM.purposeOfUse]: 'TREAT',
  name: 'Kari Lege',
  ...extra,
});

export const citizenClaims = (fnr: string = PERSONAS.addison.fnr, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  sub: 'citizen-pseudonym',
  client_id: 'helsenorge',
  scope: 'openid patient/Patient.r patient/AuditEvent.rs',
  [CLAIM.pidPlain]: fnr,
  ...extra,
});

export const systemClaims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  client_id: 'ncp-no',
  scope: 'system/Patient.r system/MedicationRequest.rs',
  [CLAIM.orgnrParent]: '994598759',
  ...extra,
});
