// Start-up: which issuer Helsebro trusts. Demo mode trusts the embedded demo issuer only; production trusts
// the configured issuer (HelseID) only, and refuses to start without its JWKS URL, issuer and audience.
import type { JSONWebKeySet } from 'jose';
import type { Config } from '../config.ts';
import { loadDemoIssuer, type DemoIssuer } from './demo-issuer.ts';
import { isProblem } from '../fhir/outcomes.ts';
import { DEMO_SYSTEM_CLIENTS, withSystemRole, type ClientRole } from './roles.ts';
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

type AuthConfig = Pick<Config, 'mode' | 'dataDir'> & { auth: Omit<Config['auth'], 'systemClients'> & { systemClients?: readonly ClientRole[] | undefined } };

/** Every verified principal leaves with its system role (from the client registration) set. */
const withRoles =
  (verify: TokenVerifier, clients: readonly ClientRole[]): TokenVerifier =>
  async (header, onReject) => {
    const result = await verify(header, onReject);
    return isProblem(result) ? result : withSystemRole(result, clients);
  };

export async function createAuth(config: AuthConfig, opts: AuthSetupOptions = {}): Promise<AuthSetup> {
  // Production trusts only the clients it was told about; the demo registers the token CLI's clients.
  const clients = config.auth.systemClients ?? (config.mode === 'production' ? [] : DEMO_SYSTEM_CLIENTS);
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
      verify: withRoles(createTokenVerifier({ jwks: url, issuer, audience, ...opts }), clients),
    };
  }
  const demo = await loadDemoIssuer(config.dataDir);
  return {
    mode: 'demo',
    issuer: demo.issuer,
    audience: demo.audience,
    jwks: demo.jwks,
    demoIssuer: demo,
    verify: withRoles(createTokenVerifier({ jwks: demo.jwks(), issuer: demo.issuer, audience: demo.audience, ...opts }), clients),
  };
}
