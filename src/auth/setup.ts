// Start-up: which issuer Helsebro trusts. Demo mode trusts the embedded demo issuer only; production trusts
// the configured issuer (HelseID) only, and refuses to start without its JWKS URL, issuer and audience.
import type { JSONWebKeySet } from 'jose';
import type { Config } from '../config.ts';
import { loadDemoIssuer, type DemoIssuer } from './demo-issuer.ts';
import { createTokenVerifier, type TokenVerifier } from './verify.ts';

export interface AuthSetup {
  mode: Config['mode'];
  verify: TokenVerifier;
  issuer: string;
  audience: string;
  /** Demo mode only: the key set to serve at /.well-known/jwks.json. */
  jwks?: () => JSONWebKeySet;
  demoIssuer?: DemoIssuer;
}

export interface AuthSetupOptions {
  /** Gets each refusal's reason (no personal data) for the log. */
  onReject?: (reason: string) => void;
}

export class AuthConfigError extends Error {
  override name = 'AuthConfigError';
}

export async function createAuth(
  config: Pick<Config, 'mode' | 'dataDir' | 'auth'>,
  opts: AuthSetupOptions = {},
): Promise<AuthSetup> {
  if (config.mode === 'production') {
    const { jwksUrl, issuer, audience } = config.auth;
    const missing = [
      ['AUTH_JWKS_URL', jwksUrl],
      ['AUTH_ISSUER', issuer],
      ['AUTH_AUDIENCE', audience],
    ].filter(([, v]) => !v);
    if (missing.length || !jwksUrl || !issuer || !audience) {
      throw new AuthConfigError(`HELSEBRO_MODE=production needs ${missing.map(([k]) => k).join(', ')}`);
    }
    const url = new URL(jwksUrl);
    if (url.protocol !== 'https:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
      throw new AuthConfigError('AUTH_JWKS_URL must use https');
    }
    return {
      mode: 'production',
      issuer,
      audience,
      verify: createTokenVerifier({ jwks: url, issuer, audience, ...opts }),
    };
  }
  const demo = await loadDemoIssuer(config.dataDir);
  return {
    mode: 'demo',
    issuer: demo.issuer,
    audience: demo.audience,
    jwks: demo.jwks,
    demoIssuer: demo,
    verify: createTokenVerifier({ jwks: demo.jwks(), issuer: demo.issuer, audience: demo.audience, ...opts }),
  };
}
