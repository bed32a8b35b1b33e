// Configuration: environment variables parsed once into a typed object. A bad value stops start-up
// with a message naming the variable; defaults serve the embedded demo.
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseSystemClients, type ClientRole } from './auth/roles.ts';

const port = z.coerce.number().int().min(0).max(65535);
const ms = z.coerce.number().int().min(1).max(600_000);
const bytes = z.coerce.number().int().min(1024).max(512 * 1024 * 1024);
const url = z.string().url();

const schema = z
  .object({
    HELSEBRO_MODE: z.enum(['demo', 'production']).default('demo'),
    PORT: port.default(8080),
    HOST: z.string().min(1).default('127.0.0.1'),
    PUBLIC_BASE_URL: url.optional(),
    HELSEBRO_DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: url.optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    MAX_BODY_BYTES_JSON: bytes.default(2 * 1024 * 1024),
    MAX_BODY_BYTES_XML: bytes.default(5 * 1024 * 1024),
    DEMO_POPULATION_SIZE: z.coerce.number().int().min(0).max(100_000).default(60),
    SUMMARY_SOURCE_TIMEOUT_MS: ms.default(2000),
    AUTH_JWKS_URL: url.optional(),
    AUTH_ISSUER: z.string().min(1).optional(),
    AUTH_AUDIENCE: z.string().min(1).optional(),
    // Registered system clients and their roles: `client=role,...` (a trailing * matches a prefix).
    SYSTEM_CLIENTS: z
      .string()
      .refine((v) => parseSystemClients(v) !== undefined, 'must be client=ncp|pharmacy|operator|auditor[@orgnr[/herid]], comma-separated')
      .optional(),
    // Key of the hash under which refused callers' source addresses are audited (not the address itself).
    AUDIT_ADDRESS_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
    // HelseID sign-in for the clinician view (OpenID Connect, authorization code with PKCE). The view's
    // tokens are asked for a resource of their own (HELSEID_VIEW_AUDIENCE), so the API refuses them.
    HELSEID_CLIENT_ID: z.string().min(1).max(200).optional(),
    HELSEID_CLIENT_JWK: z.string().min(1).max(16_384).optional(),
    HELSEID_VIEW_AUDIENCE: z.string().min(1).max(200).optional(),
    HELSEID_SCOPE: z.string().regex(/^[\x21-\x7e]+( [\x21-\x7e]+)*$/, 'must be space-separated scopes').max(2000).optional(),
    VIEW_SESSION_IDLE_SEC: z.coerce.number().int().min(1).max(24 * 3600).default(15 * 60),
    VIEW_SESSION_MAX_SEC: z.coerce.number().int().min(1).max(7 * 24 * 3600).default(8 * 3600),
    RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
    RATE_LIMIT_PER_CLIENT_PER_MINUTE: z.coerce.number().int().min(1).max(100_000_000).optional(),
    RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).optional(),
    KJERNEJOURNAL_BASE_URL: url.optional(),
    MEDICATION_LIST_BASE_URL: url.optional(),
    FOLKEREGISTERET_BASE_URL: url.optional(),
    // Reseptformidleren (the prescription chain), asked for a Norwegian prescription's status and count of
    // dispensings before anything states its dispensings remaining abroad.
    RESEPTFORMIDLEREN_BASE_URL: url.optional(),
    RESEPTFORMIDLEREN_TIMEOUT_MS: ms.default(2000),
    M10_DELIVERY_URL: url.optional(),
    NCP_DELIVERY_URL: url.optional(),
    OPERATOR_NAME: z.string().min(1).default('Norsk helsenett SF (Helsebro demo)'),
    OPERATOR_ORGNR: z.string().regex(/^\d{9}$/, 'must be a 9-digit organisasjonsnummer').default('994598759'),
    NCP_HER_ID: z.string().regex(/^\d{1,9}$/, 'must be a HER-id').default('8142520'),
    NCP_ORGNR: z.string().regex(/^\d{9}$/, 'must be a 9-digit organisasjonsnummer').default('994598759'),
    NCP_NAME: z.string().min(1).default('NCP Norge (Helsebro)'),
    NCP_PHONE: z.string().regex(/^\+?[0-9 ]{5,20}$/, 'must be a phone number').optional(),
    // OID arc for identifiers Helsebro writes into eHDSI CDA: .1 Norwegian prescription ids, .2 dispensations
    // reported by Norwegian pharmacies, .3 documents. The default is in the ITU-T example arc: a placeholder
    // until the operator registers an arc in the Norwegian OID register.
    HELSEBRO_OID: z.string().regex(/^[0-2](\.(0|[1-9]\d*))+$/, 'must be an OID').default('2.999.47'),
    OUTBOX_WORKERS: z.coerce.number().int().min(0).max(16).default(1),
    OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(600_000).default(1000),
    OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(12),
    OUTBOX_RETRY_BASE_MS: z.coerce.number().int().min(1).max(3_600_000).default(2000),
    OUTBOX_RETRY_MAX_MS: z.coerce.number().int().min(1).max(86_400_000).default(900_000),
    DELIVERY_TIMEOUT_MS: ms.default(10_000),
    OUTBOX_LEASE_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  })
  .superRefine((env, ctx) => {
    if (env.HELSEBRO_MODE !== 'production') return;
    // Links in answers (Location, Bundle.link, fullUrl) are never built from the request's Host header in production
    // (PUBLIC_BASE_URL is among HELSEID_REQUIRED).
    for (const key of ['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE', ...HELSEID_REQUIRED] as const) {
      if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required when HELSEBRO_MODE=production' });
    }
    if (env.HELSEID_VIEW_AUDIENCE && env.HELSEID_VIEW_AUDIENCE === env.AUTH_AUDIENCE) {
      ctx.addIssue({ code: 'custom', path: ['HELSEID_VIEW_AUDIENCE'], message: 'must differ from AUTH_AUDIENCE, so the API refuses the view\'s tokens' });
    }
    if (env.HELSEID_CLIENT_JWK && !privateJwk(env.HELSEID_CLIENT_JWK)) {
      ctx.addIssue({ code: 'custom', path: ['HELSEID_CLIENT_JWK'], message: 'must be a private JWK (JSON with kty and d) for private_key_jwt' });
    }
    // Identifiers in the ITU-T example arc would leave the country in every CDA: production needs the
    // operator's registered arc.
    if (env.HELSEBRO_OID === '2.999' || env.HELSEBRO_OID.startsWith('2.999.')) {
      ctx.addIssue({ code: 'custom', path: ['HELSEBRO_OID'], message: 'is the 2.999 placeholder arc; production needs the operator\'s registered OID arc' });
    }
  });

/** The view's sign-in needs all of these in production; PUBLIC_BASE_URL names its redirect URI. */
const HELSEID_REQUIRED = ['HELSEID_CLIENT_ID', 'HELSEID_CLIENT_JWK', 'HELSEID_VIEW_AUDIENCE', 'PUBLIC_BASE_URL'] as const;

/** A private JWK as HelseID's private_key_jwt client authentication needs it, or undefined. */
function privateJwk(text: string): PrivateJwk | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const jwk = v as Record<string, unknown>;
  return (jwk.kty === 'RSA' || jwk.kty === 'EC') && typeof jwk.d === 'string' ? (jwk as PrivateJwk) : undefined;
}

/** A JSON Web Key with its private part (`d`). */
export interface PrivateJwk {
  kty: 'RSA' | 'EC';
  d: string;
  kid?: string;
  alg?: string;
  [member: string]: unknown;
}

export type Env = z.infer<typeof schema>;

export interface Config {
  mode: 'demo' | 'production';
  port: number;
  host: string;
  publicBaseUrl: string | undefined;
  dataDir: string;
  databaseUrl: string | undefined;
  logLevel: Env['LOG_LEVEL'];
  maxBodyBytes: { json: number; xml: number };
  demoPopulationSize: number;
  summarySourceTimeoutMs: number;
  auth: {
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
    /** SYSTEM_CLIENTS; undefined: the demo registration in demo mode, none in production. */
    systemClients: readonly ClientRole[] | undefined;
  };
  /** HelseID sign-in for the clinician view; set in production (required there), absent in demo mode. */
  helseid: HelseIdConfig | undefined;
  /** Clinician view sessions: ended after this long without a request, and this long after sign-in. */
  viewSession: { idleSec: number; maxSec: number };
  /** Requests per minute per person (HPR number or fødselsnummer); also the view's per-user limit. */
  rateLimitPerMinute: number;
  /** AUDIT_ADDRESS_KEY: keys the hash of refused callers' addresses in the audit log. */
  auditAddressKey: string;
  /** Requests per minute per OAuth client, all its users together. */
  rateLimitPerClientPerMinute: number;
  /** Requests per minute per source address, for requests without a valid token. */
  rateLimitUnauthenticatedPerMinute: number;
  sources: { kjernejournalBaseUrl: string | undefined; medicationListBaseUrl: string | undefined; folkeregisteretBaseUrl: string | undefined };
  /** Reseptformidleren: the live gateway (unset: the demo stand-in in demo mode, no answer in production) and its deadline. */
  prescriptionChain: { baseUrl: string | undefined; timeoutMs: number };
  delivery: { m10Url: string | undefined; ncpUrl: string | undefined };
  operator: { name: string; orgnr: string };
  ncp: { herId: string; orgnr: string; name: string; phone: string | undefined };
  /** OID arc for identifiers Helsebro writes into eHDSI CDA (see HELSEBRO_OID). */
  helsebroOid: string;
  outbox: { workers: number; pollMs: number; maxAttempts: number; retryBaseMs: number; retryMaxMs: number; deliveryTimeoutMs: number; leaseMs: number };
}

export interface HelseIdConfig {
  clientId: string;
  /** The client's private key: HelseID authenticates clients with private_key_jwt. */
  clientJwk: PrivateJwk;
  /** The resource (audience) of the view's tokens; never the API's AUTH_AUDIENCE. */
  viewAudience: string;
  /** Identity scopes asked for besides openid and the view's API scopes. */
  scope: string;
}

/** HelseID's identity scopes: the person, their HPR number and security level in the ID and access tokens. */
export const HELSEID_DEFAULT_SCOPE = 'profile helseid://scopes/identity/pid helseid://scopes/identity/security_level helseid://scopes/hpr/hpr_number';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment (process.env by default); throws ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, so `FOO= npm start` behaves like not setting FOO.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(environment)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    mode: e.HELSEBRO_MODE,
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl: e.PUBLIC_BASE_URL?.replace(/\/$/, ''),
    dataDir: resolve(e.HELSEBRO_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    logLevel: e.LOG_LEVEL,
    maxBodyBytes: { json: e.MAX_BODY_BYTES_JSON, xml: e.MAX_BODY_BYTES_XML },
    demoPopulationSize: e.DEMO_POPULATION_SIZE,
    summarySourceTimeoutMs: e.SUMMARY_SOURCE_TIMEOUT_MS,
    auth: { jwksUrl: e.AUTH_JWKS_URL, issuer: e.AUTH_ISSUER, audience: e.AUTH_AUDIENCE, systemClients: e.SYSTEM_CLIENTS ? parseSystemClients(e.SYSTEM_CLIENTS) : undefined },
    helseid:
      e.HELSEID_CLIENT_ID && e.HELSEID_CLIENT_JWK && e.HELSEID_VIEW_AUDIENCE
        ? {
            clientId: e.HELSEID_CLIENT_ID,
            clientJwk: privateJwk(e.HELSEID_CLIENT_JWK)!,
            viewAudience: e.HELSEID_VIEW_AUDIENCE,
            scope: e.HELSEID_SCOPE ?? HELSEID_DEFAULT_SCOPE,
          }
        : undefined,
    viewSession: { idleSec: e.VIEW_SESSION_IDLE_SEC, maxSec: e.VIEW_SESSION_MAX_SEC },
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    auditAddressKey: e.AUDIT_ADDRESS_KEY ?? 'helsebro-demo-address-key',
    // One client (an EPJ, the citizen app) carries many people: by default room for fifty busy ones at once.
    rateLimitPerClientPerMinute: e.RATE_LIMIT_PER_CLIENT_PER_MINUTE ?? e.RATE_LIMIT_PER_MINUTE * 50,
    rateLimitUnauthenticatedPerMinute: e.RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE ?? e.RATE_LIMIT_PER_MINUTE,
    sources: { kjernejournalBaseUrl: e.KJERNEJOURNAL_BASE_URL, medicationListBaseUrl: e.MEDICATION_LIST_BASE_URL, folkeregisteretBaseUrl: e.FOLKEREGISTERET_BASE_URL },
    prescriptionChain: { baseUrl: e.RESEPTFORMIDLEREN_BASE_URL, timeoutMs: e.RESEPTFORMIDLEREN_TIMEOUT_MS },
    delivery: { m10Url: e.M10_DELIVERY_URL, ncpUrl: e.NCP_DELIVERY_URL },
    operator: { name: e.OPERATOR_NAME, orgnr: e.OPERATOR_ORGNR },
    ncp: { herId: e.NCP_HER_ID, orgnr: e.NCP_ORGNR, name: e.NCP_NAME, phone: e.NCP_PHONE },
    helsebroOid: e.HELSEBRO_OID,
    outbox: {
      workers: e.OUTBOX_WORKERS,
      pollMs: e.OUTBOX_POLL_MS,
      maxAttempts: e.OUTBOX_MAX_ATTEMPTS,
      retryBaseMs: e.OUTBOX_RETRY_BASE_MS,
      retryMaxMs: e.OUTBOX_RETRY_MAX_MS,
      deliveryTimeoutMs: e.DELIVERY_TIMEOUT_MS,
      leaseMs: e.OUTBOX_LEASE_MS,
    },
  };
}
