// The clinician view's OpenID Connect client for HelseID (openid-client): authorization code flow with
// PKCE (S256), state and nonce, private_key_jwt client authentication (as HelseID requires), and the view's
// own resource (HELSEID_VIEW_AUDIENCE) in both requests, so the access token it gets is one the API refuses.
// An EPJ launch (SMART App Launch, EHR launch) adds the `launch` scope, the launch id and `aud`; the
// patient of the launch context comes back in the token response. Discovery is lazy and retried after a
// failure, so Helsebro starts while HelseID is briefly unreachable.
import { importJWK, type CryptoKey } from 'jose';
import * as oidc from 'openid-client';
import type { HelseIdConfig } from '../config.ts';

/** What discovery says about the provider, as the SMART configuration and the CapabilityStatement name it. */
export interface ProviderEndpoints {
  issuer: string;
  authorizationEndpoint: string | undefined;
  tokenEndpoint: string | undefined;
  endSessionEndpoint: string | undefined;
  revocationEndpoint: string | undefined;
  introspectionEndpoint: string | undefined;
  jwksUri: string | undefined;
}

export interface AuthorizationRequest {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** The API scopes (user/...) the view's token is to carry, besides openid and HELSEID_SCOPE. */
  apiScopes: string;
  /** EHR launch: the EPJ's launch id and the FHIR base it named as `iss`. */
  launch?: { id: string; aud: string } | undefined;
}

export interface SignInTokens {
  accessToken: string;
  idToken: string;
  /** The ID token's subject, which the access token's must equal. */
  subject: string;
  /** SMART launch context: the patient the EPJ opened the view for. */
  patient: string | undefined;
}

/** Why a sign-in did not complete: the provider or the checks refused it, or the provider could not be reached. */
export class SignInError extends Error {
  override name = 'SignInError';
  readonly kind: 'refused' | 'unavailable';
  /** Short, non-personal: an OAuth error code or the check that failed. */
  readonly reason: string;
  constructor(kind: 'refused' | 'unavailable', reason: string) {
    super(`${kind}: ${reason}`);
    this.kind = kind;
    this.reason = reason;
  }
}

export interface HelseIdClient {
  endpoints(): Promise<ProviderEndpoints>;
  authorizationUrl(req: AuthorizationRequest): Promise<URL>;
  /** Redeems the code of the callback at `callbackQuery`; checks state, nonce, PKCE and the ID token. */
  redeem(callbackQuery: URLSearchParams, expected: Pick<AuthorizationRequest, 'state' | 'nonce' | 'codeVerifier'>): Promise<SignInTokens>;
  /** Where to send the browser to end the provider's session too (undefined if it has no such endpoint). */
  endSessionUrl(idToken: string | undefined, postLogoutRedirectUri: string): Promise<URL | undefined>;
}

export interface HelseIdClientOptions {
  issuer: string;
  helseid: HelseIdConfig;
  /** `${PUBLIC_BASE_URL}/view/callback`, registered with HelseID. */
  redirectUri: string;
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export const newPkceVerifier = (): string => oidc.randomPKCECodeVerifier();
export const newState = (): string => oidc.randomState();
export const newNonce = (): string => oidc.randomNonce();

export function createHelseIdClient(opts: HelseIdClientOptions): HelseIdClient {
  const issuer = new URL(opts.issuer);
  let configuration: Promise<oidc.Configuration> | undefined;

  const configure = (): Promise<oidc.Configuration> => {
    configuration ??= (async () => {
      const jwk = opts.helseid.clientJwk;
      const key = (await importJWK(jwk, jwk.alg ?? (jwk.kty === 'EC' ? 'ES256' : 'RS256'))) as CryptoKey;
      const auth = oidc.PrivateKeyJwt(jwk.kid ? { key, kid: jwk.kid } : key);
      // Plain http only for a provider on this machine (the in-process provider of the tests).
      const insecure = issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname);
      return oidc.discovery(issuer, opts.helseid.clientId, { redirect_uris: [opts.redirectUri], response_types: ['code'] }, auth, {
        timeout: 5,
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
    })();
    // A failed discovery is not remembered: the next sign-in tries again.
    configuration.catch(() => {
      configuration = undefined;
    });
    return configuration.catch((err: unknown) => {
      throw new SignInError('unavailable', `discovery failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  };

  return {
    async endpoints() {
      const m = (await configure()).serverMetadata();
      return {
        issuer: m.issuer,
        authorizationEndpoint: m.authorization_endpoint,
        tokenEndpoint: m.token_endpoint,
        endSessionEndpoint: m.end_session_endpoint,
        revocationEndpoint: m.revocation_endpoint,
        introspectionEndpoint: m.introspection_endpoint,
        jwksUri: m.jwks_uri,
      };
    },

    async authorizationUrl(req) {
      const config = await configure();
      const scope = ['openid', opts.helseid.scope, req.apiScopes, ...(req.launch ? ['launch'] : [])].join(' ');
      return oidc.buildAuthorizationUrl(config, {
        redirect_uri: opts.redirectUri,
        scope,
        resource: opts.helseid.viewAudience,
        state: req.state,
        nonce: req.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(req.codeVerifier),
        code_challenge_method: 'S256',
        ...(req.launch ? { launch: req.launch.id, aud: req.launch.aud } : {}),
      });
    },

    async redeem(query, expected) {
      const config = await configure();
      const current = new URL(opts.redirectUri);
      current.search = query.toString();
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(
          config,
          current,
          { pkceCodeVerifier: expected.codeVerifier, expectedState: expected.state, expectedNonce: expected.nonce, idTokenExpected: true },
          { resource: opts.helseid.viewAudience },
        );
      } catch (err) {
        throw signInError(err);
      }
      const subject = tokens.claims()?.sub;
      if (!tokens.id_token || !subject) throw new SignInError('refused', 'no ID token');
      if (tokens.token_type?.toLowerCase() !== 'bearer') throw new SignInError('refused', 'not a bearer token');
      const patient = (tokens as Record<string, unknown>).patient;
      if (patient !== undefined && (typeof patient !== 'string' || !FHIR_ID.test(patient))) {
        throw new SignInError('refused', 'launch context patient malformed');
      }
      return { accessToken: tokens.access_token, idToken: tokens.id_token, subject, patient };
    },

    async endSessionUrl(idToken, postLogoutRedirectUri) {
      const config = await configure();
      if (!config.serverMetadata().end_session_endpoint) return undefined;
      return oidc.buildEndSessionUrl(config, {
        post_logout_redirect_uri: postLogoutRedirectUri,
        client_id: opts.helseid.clientId,
        ...(idToken ? { id_token_hint: idToken } : {}),
      });
    },
  };
}

/** The provider's own refusals and failed checks are the sign-in's fault; anything else is the network's. */
function signInError(err: unknown): SignInError {
  if (err instanceof oidc.AuthorizationResponseError || err instanceof oidc.ResponseBodyError) {
    return new SignInError('refused', err.error);
  }
  const cause = err instanceof Error ? err.cause : undefined;
  const network = cause instanceof TypeError || (cause instanceof DOMException && /Abort|Timeout/.test(cause.name));
  if (err instanceof oidc.ClientError && !network) return new SignInError('refused', err.code ?? 'check failed');
  return new SignInError('unavailable', err instanceof Error ? err.message : String(err));
}
