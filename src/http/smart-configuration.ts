// SMART App Launch discovery: /.well-known/smart-configuration (and the same under /fhir/, where SMART
// clients look relative to the FHIR base). It names the authorization server Helsebro trusts: HelseID's
// discovered endpoints in production, the demo issuer in demo mode (which signs tokens for the demo
// sign-in page and the token CLI and has no OAuth endpoints, so it names none). Public, like /metadata.
import type { ProviderEndpoints } from '../auth/helseid.ts';
import { INTERACTIONS, type Interaction, type ScopeContext, type ScopeNeed } from '../auth/scopes.ts';

/** The well-known document (SMART App Launch 2.x, section "SMART on FHIR OAuth authorization Endpoints"). */
export interface SmartConfiguration {
  issuer: string;
  jwks_uri?: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  revocation_endpoint?: string;
  introspection_endpoint?: string;
  /** Not a SMART field: OpenID Connect's RP-initiated logout, where the view also signs out. */
  end_session_endpoint?: string;
  grant_types_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  response_types_supported: string[];
  scopes_supported: string[];
  code_challenge_methods_supported: ['S256'];
  capabilities: string[];
}

/** Identity and launch scopes besides the resource scopes. */
const BASE_SCOPES = ['openid', 'profile', 'launch'];

/**
 * Every resource scope a route accepts, per context, with the letters of all its routes in SMART's cruds
 * order (`user/Patient.rs`). Sorted, so the document is stable.
 */
export function resourceScopes(needs: readonly ScopeNeed[], contexts: readonly ScopeContext[] = ['user', 'system', 'patient']): string[] {
  const letters = new Map<string, Set<Interaction>>();
  for (const n of needs) letters.set(n.resourceType, (letters.get(n.resourceType) ?? new Set()).add(n.interaction));
  const out: string[] = [];
  for (const [type, set] of [...letters].sort(([a], [b]) => a.localeCompare(b))) {
    const cruds = INTERACTIONS.filter((i) => set.has(i)).join('');
    for (const c of contexts) out.push(`${c}/${type}.${cruds}`);
  }
  return out;
}

export function smartConfiguration(server: ProviderEndpoints, resourceScopeList: readonly string[]): SmartConfiguration {
  const oauth = server.authorizationEndpoint !== undefined && server.tokenEndpoint !== undefined;
  const doc: SmartConfiguration = {
    issuer: server.issuer,
    ...(server.jwksUri ? { jwks_uri: server.jwksUri } : {}),
    ...(server.authorizationEndpoint ? { authorization_endpoint: server.authorizationEndpoint } : {}),
    ...(server.tokenEndpoint ? { token_endpoint: server.tokenEndpoint } : {}),
    ...(server.revocationEndpoint ? { revocation_endpoint: server.revocationEndpoint } : {}),
    ...(server.introspectionEndpoint ? { introspection_endpoint: server.introspectionEndpoint } : {}),
    ...(server.endSessionEndpoint ? { end_session_endpoint: server.endSessionEndpoint } : {}),
    grant_types_supported: oauth ? ['authorization_code', 'client_credentials'] : [],
    // HelseID authenticates every client with a signed assertion (no shared secrets).
    token_endpoint_auth_methods_supported: oauth ? ['private_key_jwt'] : [],
    response_types_supported: oauth ? ['code'] : [],
    scopes_supported: [...(oauth ? BASE_SCOPES : []), ...resourceScopeList],
    code_challenge_methods_supported: ['S256'],
    capabilities: [
      ...(oauth ? ['launch-ehr', 'context-ehr-patient', 'client-confidential-asymmetric', 'sso-openid-connect'] : []),
      'permission-v1',
      'permission-v2',
      'permission-user',
      'permission-patient',
    ],
  };
  return doc;
}
