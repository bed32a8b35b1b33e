// An OpenID provider in-process (oidc-provider) playing HelseID for the tests: HelseID's claim names
// (src/auth/claims.ts), clinicians with HPR numbers, private_key_jwt client authentication, PKCE
// required, JWT access tokens per resource (RFC 8707) signed RS256, RP-initiated logout, and the SMART
// EHR launch: a simulated EPJ page registers a launch context and links to Helsebro's /view/launch; the
// token response of an authorization that carried that launch names its patient. It listens on
// `localhost`, while Helsebro listens on 127.0.0.1, so the browser treats them as different sites (as
// HelseID and Helsebro are).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { CLAIM } from '../../src/auth/claims.ts';

export interface TestClinician {
  /** The account id at the provider (`sub`). */
  sub: string;
  name: string;
  hpr: string;
  pid: string;
  orgnr: string;
  role: string;
  purpose: string;
}

/** Synthetic people: HPR numbers of the demo register; person numbers with valid check digits, born 1970 and 1975, month + 80. */
export const CLINICIANS = {
  koman: { sub: 'helseid-koman', name: 'Magnar Koman', hpr: '9144889', pid: '13897048803', orgnr: '974557746', role: 'LE', purpose: 'TREAT' },
  // The same kind of clinician without a care purpose: the access rules refuse her patient data.
  aasen: { sub: 'helseid-aasen', name: 'Hilde Aasen', hpr: '565502011', pid: '01897543296', orgnr: '974557746', role: 'LE', purpose: 'HRESCH' },
} as const satisfies Record<string, TestClinician>;

export interface HelseIdTestProvider {
  /** Issuer, e.g. http://localhost:41234 */
  issuer: string;
  jwksUri: string;
  /** The simulated EPJ's page for a patient: a link that launches the Helsebro view in that patient's context. */
  epjUrl(patientId: string): string;
  /** The view client's registration. */
  client: { clientId: string; privateJwk: JWK };
  /** Signs a token as the provider would for another resource, e.g. the API's, with a clinician's claims. */
  mintAccessToken(clinician: TestClinician, audience: string, scope: string): Promise<string>;
  /** How many times the token endpoint refused a code as invalid_grant (replays among them). */
  invalidGrants(): number;
  close(): Promise<void>;
}

export interface ProviderOptions {
  /** Helsebro's public base URL (its /view/callback and /view/signed-out are the registered redirects). */
  helsebroBase: string;
  viewAudience: string;
  /** Resource scopes the view may get (user/...). */
  viewScopes: string;
}

const html = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function startHelseIdProvider(opts: ProviderOptions): Promise<HelseIdTestProvider> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, 'localhost', r));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://localhost:${port}`;

  const signing = await generateKeyPair('RS256', { extractable: true });
  const signingJwk = { ...(await exportJWK(signing.privateKey)), kid: 'helseid-test-sig', alg: 'RS256', use: 'sig' };
  const clientKeys = await generateKeyPair('ES256', { extractable: true });
  const clientPrivate = { ...(await exportJWK(clientKeys.privateKey)), kid: 'helsebro-view-1', alg: 'ES256' };
  const clientPublic = { ...(await exportJWK(clientKeys.publicKey)), kid: 'helsebro-view-1', alg: 'ES256', use: 'sig' };
  const clientId = 'helsebro-view';
  const accounts = new Map<string, TestClinician>(Object.values(CLINICIANS).map((c) => [c.sub, c]));
  const launches = new Map<string, string>(); // launch id -> patient id (the EPJ's context)
  const launchByNonce = new Map<string, string>(); // authorization request (its nonce) -> launch id
  let invalidGrants = 0;

  const accessClaims = (c: TestClinician): Record<string, string> => ({
    [CLAIM.hprNumber]: c.hpr,
    [CLAIM.pid]: c.pid,
    [CLAIM.orgnrParent]: c.orgnr,
    [CLAIM.role]: c.role,
    [CLAIM.purposeOfUse]: c.purpose,
    name: c.name,
  });

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [clientPublic] },
        redirect_uris: [`${opts.helsebroBase}/view/callback`],
        post_logout_redirect_uris: [`${opts.helsebroBase}/view/signed-out`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [signingJwk] },
    cookies: { keys: [randomUUID()] },
    pkce: { required: () => true },
    scopes: ['openid', 'profile', 'launch', 'helseid://scopes/identity/pid', 'helseid://scopes/identity/security_level', 'helseid://scopes/hpr/hpr_number'],
    claims: {
      profile: ['name'],
      'helseid://scopes/identity/pid': [CLAIM.pid],
      'helseid://scopes/identity/security_level': ['helseid://claims/identity/security_level'],
      'helseid://scopes/hpr/hpr_number': [CLAIM.hprNumber],
    },
    extraParams: ['launch', 'aud'],
    async findAccount(_ctx, sub) {
      const c = accounts.get(sub);
      if (!c) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, name: c.name, [CLAIM.pid]: c.pid, [CLAIM.hprNumber]: c.hpr, 'helseid://claims/identity/security_level': '4' }),
      };
    },
    // HelseID puts the person's and the client's claims into the access token (Helsebro's role and
    // purpose claims stand in for what the trust framework's attestation carries).
    async extraTokenClaims(_ctx, token) {
      const c = 'accountId' in token && typeof token.accountId === 'string' ? accounts.get(token.accountId) : undefined;
      return c ? accessClaims(c) : undefined;
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = `<!doctype html><html lang="nb"><head><meta charset="utf-8"><title>HelseID</title></head><body><h1>Logge ut av HelseID?</h1>${form}<button type="submit" form="op.logoutForm" value="yes" name="logout">Logg ut</button></body></html>`;
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = '<!doctype html><html lang="nb"><head><meta charset="utf-8"><title>HelseID</title></head><body><h1>Logget ut</h1></body></html>';
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => opts.viewAudience,
        useGrantedResource: () => true,
        async getResourceServerInfo(_ctx, resource) {
          if (resource !== opts.viewAudience) throw new errors.InvalidTarget();
          return { scope: opts.viewScopes, audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
  });

  // The launch context: an authorization request that carries `launch` must name this FHIR server as
  // `aud` (SMART); the launch is remembered by the request's nonce, which its code carries to the token
  // endpoint, where the token response gains the patient.
  provider.use(async (ctx, next) => {
    if (ctx.path === '/auth' && ctx.method === 'GET' && typeof ctx.query.launch === 'string') {
      if (ctx.query.aud !== `${opts.helsebroBase}/fhir` || !launches.has(ctx.query.launch) || typeof ctx.query.nonce !== 'string') {
        ctx.status = 400;
        ctx.body = 'unknown launch or aud';
        return;
      }
      launchByNonce.set(ctx.query.nonce, ctx.query.launch);
    }
    await next();
    if (ctx.path === '/token') {
      const body = ctx.body as Record<string, unknown> | undefined;
      if (body?.error === 'invalid_grant') invalidGrants++;
      const code = (ctx as KoaContextWithOIDC).oidc?.entities.AuthorizationCode;
      const launch = code?.nonce ? launchByNonce.get(code.nonce) : undefined;
      if (body?.access_token && launch) body.patient = launches.get(launch);
    }
  });

  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', issuer);
    const handled = url.pathname.startsWith('/interaction/') ? interaction(req, res, url) : url.pathname === '/epj' ? epj(res, url) : undefined;
    if (handled) {
      handled.catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
      return;
    }
    callback(req, res);
  });

  // HelseID's login: pick a test clinician (a stand-in for BankID). Consent is granted for what was asked.
  async function interaction(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params } = details;
    if (prompt.name === 'login' && req.method === 'GET') {
      const buttons = Object.values(CLINICIANS)
        .map((c) => `<button type="submit" name="account" value="${html(c.sub)}">Logg inn som ${html(c.name)}</button>`)
        .join('');
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><html lang="nb"><head><meta charset="utf-8"><title>HelseID</title></head><body><h1>HelseID</h1><form method="post" action="${url.pathname}">${buttons}</form></body></html>`);
      return;
    }
    if (prompt.name === 'login') {
      const form = new URLSearchParams(await readBody(req));
      const accountId = form.get('account') ?? undefined;
      if (!accountId || !accounts.has(accountId)) {
        res.statusCode = 400;
        res.end('unknown account');
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
      return;
    }
    // Consent: what the client asked for and the provider found missing from the grant.
    const accountId = details.session?.accountId;
    if (!accountId) throw new Error('no account for consent');
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId: String(params.client_id) });
    if (!grant) throw new Error('grant vanished');
    const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  async function epj(res: ServerResponse, url: URL): Promise<void> {
    const patient = url.searchParams.get('patient') ?? '';
    const launch = randomUUID();
    launches.set(launch, patient);
    const target = `${opts.helsebroBase}/view/launch?iss=${encodeURIComponent(`${opts.helsebroBase}/fhir`)}&launch=${launch}`;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html lang="nb"><head><meta charset="utf-8"><title>EPJ</title></head><body><h1>Journal</h1><a id="open-summary" href="${html(target)}">Pasientens oppsummering (Helsebro)</a></body></html>`);
  }

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    epjUrl: (patientId) => `${issuer}/epj?patient=${encodeURIComponent(patientId)}`,
    client: { clientId, privateJwk: clientPrivate },
    async mintAccessToken(c, audience, scope) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ ...accessClaims(c), client_id: 'helsebro-test-epj', scope })
        .setProtectedHeader({ alg: 'RS256', kid: signingJwk.kid, typ: 'at+jwt' })
        .setIssuer(issuer)
        .setSubject(c.sub)
        .setAudience(audience)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .setJti(randomUUID())
        .sign(signing.privateKey as CryptoKey);
    },
    invalidGrants: () => invalidGrants,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
      if (body.length > 4096) reject(new Error('body too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
