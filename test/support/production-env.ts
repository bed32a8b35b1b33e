// A complete production configuration for tests that load one: the API's token settings and the view's
// HelseID sign-in (a fresh synthetic client key, never a real one). Tests override what they exercise.
import { generateKeyPairSync } from 'node:crypto';

/** A private P-256 key as a JWK, the form HELSEID_CLIENT_JWK takes. */
export function testClientJwk(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: 'helsebro-test', alg: 'ES256' });
}

export const PRODUCTION_ENV: Readonly<Record<string, string>> = {
  HELSEBRO_MODE: 'production',
  AUTH_JWKS_URL: 'https://helseid-sts.nhn.no/.well-known/openid-configuration/jwks',
  AUTH_ISSUER: 'https://helseid-sts.nhn.no',
  AUTH_AUDIENCE: 'nhn:helsebro',
  HELSEID_CLIENT_ID: 'helsebro-view',
  HELSEID_CLIENT_JWK: testClientJwk(),
  HELSEID_VIEW_AUDIENCE: 'nhn:helsebro/view',
  PUBLIC_BASE_URL: 'https://helsebro.example',
  // An arc as an operator would register it (made up): production refuses the 2.999 placeholder.
  HELSEBRO_OID: '2.16.578.1.12.4.1.7.3',
};
