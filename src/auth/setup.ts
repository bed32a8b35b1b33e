// Start-up: which issuer Helsebro trusts. Demo mode trusts the embedded demo issuer only; production trusts
// the configured issuer (HelseID) only, and refuses to start without its JWKS URL, issuer and audience.
import type { JSONWebKeySet } from 'jose';
import type { Config } from '../config.ts';
import { isProblem, unauthorized } from '../fhir/outcomes.ts';
import { DEMO_VIEW_AUDIENCE, loadDemoIssuer, type DemoIssuer } from './demo-issuer.ts';
import { createHelseIdClient, type HelseIdClient, type ProviderEndpoints } from './helseid.ts';
import { DEMO_SYSTEM_CLIENTS, withSystemRole, type ClientRole } from './roles.ts';
import { createTokenVerifier, type TokenVerifier } from './verify.ts';

export interface AuthSetup {
  mode: Config['mode'];
  verify: TokenVerifier;
  issuer: string;
  audience: string;
  /**
   * The clinician view's tokens: the same issuer and keys, another audience (HELSEID_VIEW_AUDIENCE, or
   * DEMO_VIEW_AUDIENCE). `verify` above refuses them, and this verifier refuses the API's.
   */
  view: { audience: string | undefined; verify: TokenVerifier };
  /** Production: the clinician view's OpenID Connect client for HelseID (absent without HELSEID_* settings). */
  helseid?: HelseIdClient;
  /**
   * The authorization server clients get tokens from, for the SMART configuration and the
   * CapabilityStatement: HelseID's discovered endpoints, or the demo issuer's. Rejects when discovery fails.
   */
  authorizationServer(baseUrl: string): Promise<ProviderEndpoints>;
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

type AuthConfig = Pick<Config, 'mode' | 'dataDir'> & { auth: Omit<Config['auth'], 'systemClients'> & { systemClients?: readonly ClientRole[] | undefined } } & Partial<Pick<Config, 'helseid' | 'publicBaseUrl'>>;

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
    const viewAudience = config.helseid?.viewAudience;
    // The view signs in at the same issuer whose tokens the API trusts (AUTH_ISSUER): one HelseID.
    const helseid =
      config.helseid && config.publicBaseUrl
        ? createHelseIdClient({ issuer, helseid: config.helseid, redirectUri: `${config.publicBaseUrl}/view/callback` })
        : undefined;
    return {
      helseid,
      authorizationServer: async () => {
        if (!helseid) throw new AuthConfigError('HelseID sign-in is not configured');
        return helseid.endpoints();
      },
      mode: 'production',
      issuer,
      audience,
      verify: withRoles(createTokenVerifier({ jwks: url, issuer, audience, ...opts }), clients),
      view: {
        audience: viewAudience,
        // Without HelseID settings (only partial configurations in tests get here) no view token is valid.
        verify: viewAudience ? withRoles(createTokenVerifier({ jwks: url, issuer, audience: viewAudience, ...opts }), clients) : async () => unauthorized(),
      },
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
    // The demo issuer signs tokens for the demo sign-in page and the token CLI; it has no OAuth endpoints.
    authorizationServer: async (baseUrl) => ({
      issuer: demo.issuer,
      authorizationEndpoint: undefined,
      tokenEndpoint: undefined,
      endSessionEndpoint: undefined,
      revocationEndpoint: undefined,
      introspectionEndpoint: undefined,
      jwksUri: `${baseUrl}/.well-known/jwks.json`,
    }),
    view: {
      audience: DEMO_VIEW_AUDIENCE,
      verify: withRoles(createTokenVerifier({ jwks: demo.jwks(), issuer: demo.issuer, audience: DEMO_VIEW_AUDIENCE, ...opts }), clients),
    },
  };
}
