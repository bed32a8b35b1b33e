// The embedded token issuer of demo mode: one ES256 key pair, generated on first use and kept as a JWK in
// <dataDir>/demo-issuer/ (file mode 0600), so tokens printed by `npx helsebro token` stay valid across
// restarts. Its public half is served at /.well-known/jwks.json. Never used when HELSEBRO_MODE=production.
import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import { parsePersonNumber } from '../fhir/identifiers.ts';
import { CLAIM } from './claims.ts';
import { parseScopes } from './scopes.ts';

export const DEMO_ISSUER = 'urn:helsebro:demo-issuer';
export const DEMO_AUDIENCE = 'urn:helsebro:fhir';
/** The clinician view's own tokens: the API's verifier refuses this audience, so they never work as a bearer. */
export const DEMO_VIEW_AUDIENCE = 'urn:helsebro:view';
export const DEMO_ALGORITHM = 'ES256';
/** A synthetic organisation number (valid check digit) for demo clinicians who name none. */
export const DEMO_ORGNR = '312345676';
export const DEMO_CLIENTS = { clinician: 'helsebro-demo-epj', citizen: 'helsebro-demo-helsenorge' } as const;
export const DEFAULT_TTL_SEC = 3600;
export const MAX_TTL_SEC = 24 * 3600;

const KEY_FILE = 'signing-key.jwk.json';

export interface DemoTokenOptions {
  /** Space-separated scopes, e.g. `user/Patient.rs user/AllergyIntolerance.rs`. */
  scope: string;
  /** Makes a clinician token. */
  hpr?: string | undefined;
  /** The clinician's (or system's) organisation number; clinicians default to DEMO_ORGNR. */
  org?: string | undefined;
  /** Fødselsnummer: makes a citizen token for this person. */
  patient?: string | undefined;
  /** Client id; makes a system token when neither hpr nor patient is given. */
  client?: string | undefined;
  ttlSec?: number | undefined;
  /** Clinician role (Volven 9060); default LE. */
  role?: string | undefined;
  /** Purpose of use (HL7 v3); clinicians default to TREAT. */
  purpose?: string | undefined;
  name?: string | undefined;
  /** A citizen acting for someone else. */
  actingFor?: { fnr: string; relation: 'guardian' | 'proxy' } | undefined;
  /** Default DEMO_AUDIENCE (the API); the view's sign-in asks for DEMO_VIEW_AUDIENCE. */
  audience?: typeof DEMO_AUDIENCE | typeof DEMO_VIEW_AUDIENCE | undefined;
  now?: Date | undefined;
}

export interface DemoIssuer {
  issuer: string;
  audience: string;
  kid: string;
  /** The public key set, as served at /.well-known/jwks.json. */
  jwks(): JSONWebKeySet;
  issueDemoToken(opts: DemoTokenOptions): Promise<string>;
}

export class DemoTokenError extends Error {
  override name = 'DemoTokenError';
}

/** Loads the key pair from <dataDir>/demo-issuer/, creating it the first time. */
export async function loadDemoIssuer(dataDir: string): Promise<DemoIssuer> {
  const dir = join(dataDir, 'demo-issuer');
  const file = join(dir, KEY_FILE);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const privateJwk = (await readKey(file)) ?? (await createKey(file));
  const privateKey = (await importJWK(privateJwk, DEMO_ALGORITHM)) as CryptoKey;
  // Only the public members: never let `d` (or anything else in the file) reach the published set.
  const publicJwk: JWK = { kty: privateJwk.kty, crv: privateJwk.crv, x: privateJwk.x, y: privateJwk.y };
  const kid = privateJwk.kid ?? (await calculateJwkThumbprint(publicJwk));
  const published: JWK = { ...publicJwk, kid, alg: DEMO_ALGORITHM, use: 'sig' };

  return {
    issuer: DEMO_ISSUER,
    audience: DEMO_AUDIENCE,
    kid,
    jwks: () => ({ keys: [{ ...published }] }),
    issueDemoToken: (opts) => sign(privateKey, kid, opts),
  };
}

async function readKey(file: string): Promise<JWK | undefined> {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  // Someone may have copied the folder with a wider mode; the private key is for the owner only.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  let jwk: JWK;
  try {
    jwk = JSON.parse(raw) as JWK;
  } catch {
    throw new Error(`Demo issuer key ${file} is not valid JSON; delete it to create a new key pair`);
  }
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || [jwk.d, jwk.x, jwk.y].some((v) => typeof v !== 'string')) {
    throw new Error(`Demo issuer key ${file} is not a P-256 private key; delete it to create a new key pair`);
  }
  return jwk;
}

async function createKey(file: string): Promise<JWK> {
  const { privateKey, publicKey } = await generateKeyPair(DEMO_ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  jwk.alg = DEMO_ALGORITHM;
  try {
    // `wx`: if another process (the server and the token CLI starting together) won the race, use its key.
    writeFileSync(file, JSON.stringify(jwk, null, 2) + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const theirs = await readKey(file);
    if (theirs) return theirs;
  }
  return jwk;
}

type TokenKind = 'clinician' | 'citizen' | 'system';

/** Which kind of token the options describe; throws DemoTokenError on contradictions. */
export function demoTokenKind(opts: Pick<DemoTokenOptions, 'hpr' | 'patient' | 'client'>): TokenKind {
  if (opts.hpr !== undefined && opts.patient !== undefined) {
    throw new DemoTokenError('--hpr makes a clinician token and --patient a citizen token; give one of them');
  }
  if (opts.hpr !== undefined) return 'clinician';
  if (opts.patient !== undefined) return 'citizen';
  if (opts.client !== undefined) return 'system';
  throw new DemoTokenError('Say who the token is for: --hpr N (clinician), --patient FNR (citizen) or --client NAME (system)');
}

const CONTEXT_OF = { clinician: 'user', citizen: 'patient', system: 'system' } as const;

/** The claims of a demo token (exported for the CLI's --claims output and for tests). */
export function demoClaims(opts: DemoTokenOptions): Record<string, unknown> {
  const kind = demoTokenKind(opts);
  const { granted, other } = parseScopes(opts.scope);
  if (granted.length === 0) throw new DemoTokenError(`No SMART resource scope in "${opts.scope}" (e.g. user/Patient.rs)`);
  const wrong = granted.filter((s) => s.context !== CONTEXT_OF[kind]);
  if (wrong.length) {
    throw new DemoTokenError(
      `A ${kind} token takes ${CONTEXT_OF[kind]}/ scopes; these would never be granted: ${wrong.map((s) => s.raw).join(' ')}`,
    );
  }
  const scope = [...granted.map((s) => s.raw), ...other].join(' ');
  const org = opts.org;
  if (org !== undefined && !/^\d{9}$/.test(org)) throw new DemoTokenError('--org must be a 9-digit organisation number');

  switch (kind) {
    case 'clinician': {
      const hpr = opts.hpr ?? '';
      if (!/^[1-9]\d{3,8}$/.test(hpr)) throw new DemoTokenError('--hpr must be an HPR number (4 to 9 digits)');
      return {
        sub: `demo-hpr-${hpr}`,
        [CLAIM.clientId]: opts.client ?? DEMO_CLIENTS.clinician,
        scope,
        [CLAIM.hprNumber]: hpr,
        [CLAIM.orgnrParent]: org ?? DEMO_ORGNR,
        [CLAIM.role]: opts.role ?? 'LE',
        [CLAIM.purposeOfUse]: opts.purpose ?? 'TREAT',
        ...(opts.name ? { name: opts.name } : {}),
      };
    }
    case 'citizen': {
      const fnr = opts.patient ?? '';
      if (!parsePersonNumber(fnr)) throw new DemoTokenError('--patient must be a valid fødselsnummer or D-nummer');
      if (opts.actingFor && !parsePersonNumber(opts.actingFor.fnr)) {
        throw new DemoTokenError('--acting-for must be a valid fødselsnummer or D-nummer');
      }
      return {
        // A subject that is stable per person but does not carry the person number itself.
        sub: `demo-person-${createHash('sha256').update(fnr).digest('hex').slice(0, 16)}`,
        [CLAIM.clientId]: opts.client ?? DEMO_CLIENTS.citizen,
        scope,
        [CLAIM.pid]: fnr,
        ...(opts.actingFor
          ? { [CLAIM.actingFor]: opts.actingFor.fnr, [CLAIM.representation]: opts.actingFor.relation }
          : {}),
      };
    }
    case 'system': {
      const client = opts.client ?? '';
      if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/.test(client)) {
        throw new DemoTokenError('--client must be a client name of letters, digits and . _ : -');
      }
      return {
        sub: client,
        [CLAIM.clientId]: client,
        scope,
        ...(org ? { [CLAIM.orgnrParent]: org } : {}),
        ...(opts.purpose ? { [CLAIM.purposeOfUse]: opts.purpose } : {}),
      };
    }
  }
}

async function sign(key: CryptoKey, kid: string, opts: DemoTokenOptions): Promise<string> {
  const ttl = opts.ttlSec ?? DEFAULT_TTL_SEC;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SEC) {
    throw new DemoTokenError(`--ttl must be a whole number of seconds from 1 to ${MAX_TTL_SEC}`);
  }
  const claims = demoClaims(opts);
  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: DEMO_ALGORITHM, kid, typ: 'at+jwt' })
    .setIssuer(DEMO_ISSUER)
    .setAudience(opts.audience ?? DEMO_AUDIENCE)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + ttl)
    .setJti(randomUUID())
    .sign(key);
}
