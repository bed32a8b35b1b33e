// Bearer token verification: signature against a JWKS (HelseID's, or the embedded demo issuer's), then iss,
// aud, exp/nbf with a small clock tolerance, then the claims that make a principal. Every refusal is the
// same 401 invalid_token to the client; the reason goes only to onReject (for the log, with the request id).
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import { invalidToken, unauthorized, unavailable, type Problem } from '../fhir/outcomes.ts';
import { isInvalidClaims, principalFromClaims, type Principal } from './principal.ts';

/**
 * Asymmetric algorithms only. `none` is never accepted, and no HMAC algorithm is, so a public key from
 * the JWKS can never be misused as a shared secret.
 */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;
export type AllowedAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];

export interface TokenVerifierOptions {
  /** A JWKS URL (fetched, cached, refetched on an unknown kid), a key set in memory, or a jose key resolver. */
  jwks: URL | JSONWebKeySet | JWTVerifyGetKey;
  issuer: string;
  audience: string | string[];
  /** Accepted clock difference for exp and nbf; default 30 s. */
  clockToleranceSec?: number;
  /** Narrows ALLOWED_ALGORITHMS (e.g. to what the issuer publishes); cannot widen it. */
  algorithms?: readonly AllowedAlgorithm[];
  /** Remote JWKS: minimum time between refetches triggered by unknown kids; default 30 s. */
  jwksCooldownMs?: number;
  /** Remote JWKS: how long fetched keys are trusted before a refetch; default 10 min. */
  jwksCacheMaxAgeMs?: number;
  /** Remote JWKS: fetch timeout; default 5 s. */
  jwksTimeoutMs?: number;
  /** Called with a short, non-personal reason whenever a token is refused (for the log line). */
  onReject?: (reason: string) => void;
  /** Clock for exp/nbf checks (tests). */
  now?: () => Date;
}

/**
 * Verifies the Authorization header's value. `onReject`, when given, also hears this call's refusal reason
 * (so the log line can carry the request id).
 */
export type TokenVerifier = (
  authorization: string | undefined,
  onReject?: (reason: string) => void,
) => Promise<Principal | Problem>;

/** Tokens larger than this are refused unread: no legitimate access token comes near it. */
export const MAX_TOKEN_CHARS = 16 * 1024;

const BEARER_RE = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)[ ]*$/i;

/** Thrown by the guarded remote resolver when the issuer's keys cannot be fetched (not the client's fault). */
class KeySourceUnavailable extends Error {
  override name = 'KeySourceUnavailable';
}

export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const algorithms = (opts.algorithms ?? ALLOWED_ALGORITHMS).filter((a) =>
    (ALLOWED_ALGORITHMS as readonly string[]).includes(a),
  );
  if (algorithms.length === 0) throw new Error('createTokenVerifier: no allowed algorithm');
  if (!opts.issuer) throw new Error('createTokenVerifier: issuer is required');
  if (!opts.audience || (Array.isArray(opts.audience) && opts.audience.length === 0)) {
    throw new Error('createTokenVerifier: audience is required');
  }
  const getKey = keyResolver(opts);
  const clockTolerance = opts.clockToleranceSec ?? 30;

  return async (authorization, onCallReject) => {
    const tell = (reason: string): void => {
      opts.onReject?.(reason);
      onCallReject?.(reason);
    };
    const reject = (reason: string): Problem => {
      tell(reason);
      return invalidToken();
    };
    if (authorization === undefined || authorization.trim() === '') return unauthorized();
    if (!/^Bearer(\s|$)/i.test(authorization.trimStart())) {
      // Other schemes (Basic, DPoP ...) carry no bearer token: ask for one.
      tell('not a Bearer authorization');
      return unauthorized();
    }
    if (authorization.length > MAX_TOKEN_CHARS) return reject('token too large');
    const m = BEARER_RE.exec(authorization.trim());
    if (!m?.[1]) return reject('malformed Bearer header');
    const token = m[1];
    if (token.split('.').length !== 3) return reject('not a compact JWS');

    let payload: Record<string, unknown>;
    try {
      const verified = await jwtVerify(token, getKey, {
        issuer: opts.issuer,
        audience: opts.audience,
        algorithms: [...algorithms],
        clockTolerance,
        requiredClaims: ['exp'],
        ...(opts.now ? { currentDate: opts.now() } : {}),
      });
      payload = verified.payload as Record<string, unknown>;
    } catch (err) {
      if (err instanceof KeySourceUnavailable) {
        tell(`issuer keys unavailable: ${err.message}`);
        return unavailable('The token issuer\'s signing keys could not be fetched; try again shortly');
      }
      return reject(err instanceof errors.JOSEError ? err.code : 'unverifiable token');
    }
    const principal = principalFromClaims(payload);
    if (isInvalidClaims(principal)) return reject(principal.invalid);
    return principal;
  };
}

function keyResolver(opts: TokenVerifierOptions): JWTVerifyGetKey {
  const { jwks } = opts;
  if (typeof jwks === 'function') return jwks;
  if (!(jwks instanceof URL)) return createLocalJWKSet(jwks);
  const remote = createRemoteJWKSet(jwks, {
    cooldownDuration: opts.jwksCooldownMs ?? 30_000,
    cacheMaxAge: opts.jwksCacheMaxAgeMs ?? 600_000,
    timeoutDuration: opts.jwksTimeoutMs ?? 5_000,
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      // No key for this kid (after a refetch, cooldown permitting) is the token's fault; anything else
      // (timeout, network, a non-200 or unparsable JWKS) is the key source's.
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) throw err;
      throw new KeySourceUnavailable(err instanceof errors.JOSEError ? err.code : 'fetch failed');
    }
  };
}
