// The express application: request ids and logging, security headers, health probes, and the FHIR API.
// Read top-down, a FHIR request goes: request id -> raw body (size-capped) -> route match -> token ->
// rate limits (person, client; source address without a valid token) -> 401 (audited) -> negotiate and
// parse (router.ts) -> decide (decide.ts: role, scope, patient, access rules) -> handler -> serialise
// (respond.ts) -> audit -> send.
// Any throw outside a handler lands in the error boundary at the end.
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config } from '../config.ts';
import {
  badRequest,
  forbidden,
  isProblem,
  payloadTooLarge,
  problem,
  ProblemError,
  serverError,
  unavailable,
  unsupportedMediaType,
  type Problem,
} from '../fhir/outcomes.ts';
import { loggableUrl, type Logger } from '../log.ts';
import { metricsText, observeHttp, secondsSince } from '../metrics/registry.ts';
import { isStoreUnreachable, type Db } from '../store/db.ts';
import type { PatientFacts } from '../auth/access-rules.ts';
import type { AuthSetup } from '../auth/setup.ts';
import type { Principal } from '../auth/principal.ts';
import type { SummarySource } from '../sources/source.ts';
import { createViewRouter } from './view/router.ts';
import { abortDetails, isClientAbort } from './client-errors.ts';
import { auditCall, auditRefusal, authenticate, matchOf, refuseUnauthenticated } from './auth.ts';
import { decideRequest, refuseUnadmitted } from './decide.ts';
import { limitRequests } from './rate-limit.ts';
import { buildCapabilityStatement, routeScopeNeeds, securityDescription } from './capability.ts';
import { resourceScopes, smartConfiguration } from './smart-configuration.ts';
import { supportedProfiles } from './supported-profiles.ts';
import { finishResult, representationProblem } from './representation.ts';
import { outcomeOf, prepareResult, sendPrepared, sendProblem, type AnsweredOutcome, type PreparedResponse } from './respond.ts';
import { PersonNumbers } from './person-numbers.ts';
import { reseptformidlerenFor, type ReseptformidlerenSource } from '../sources/reseptformidleren/index.ts';
import { buildFhirRequest, RouteTable } from './router.ts';
import type { AuditNotes, FhirRequest, HandlerResult, RouteContext, RouteDef } from './types.ts';

export interface AppDeps {
  config: Config;
  db: Db;
  log: Logger;
  routes: RouteDef[];
  version: string;
  auth: AuthSetup;
  /** Reservation and restriction facts for the access rules (Kjernejournal's status call in practice). */
  patientFacts: (db: Db, patient: { id: string; fnr: string }) => Promise<PatientFacts>;
  /** The clinician view at /view (src/http/view/); not mounted when absent. */
  view?: { summarySources: readonly SummarySource[] };
  /** Reseptformidleren (the prescription chain); built from the configuration when absent. */
  prescriptionChain?: ReseptformidlerenSource;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    log: Logger;
  }
}

export function createApp(given: AppDeps): express.Express {
  const deps = {
    ...given,
    personNumbers: new PersonNumbers(),
    prescriptionChain: given.prescriptionChain ?? reseptformidlerenFor(given.config, given.db, { log: given.log }),
  };
  const { config, db } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const incoming = req.header('x-request-id');
    req.id = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.log = deps.log.child({ reqId: req.id });
    res.setHeader('X-Request-Id', req.id);
    setSecurityHeaders(res);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      observeHttp(metricsRoute(req.path, res.locals.match), req.method, res.statusCode, secondsSince(started));
      req.log.info(
        {
          method: req.method,
          url: loggableUrl(req.originalUrl),
          status: res.statusCode,
          ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
        },
        'request',
      );
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await db.ping();
      res.json({ status: 'ready', store: db.engine });
    } catch {
      res.status(503).json({ status: 'unavailable', store: db.engine });
    }
  });

  if (deps.auth.jwks) {
    const jwks = deps.auth.jwks;
    app.get('/.well-known/jwks.json', (_req, res) => {
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.json(jwks());
    });
  }

  const routes = withMetadata(deps);
  const table = new RouteTable(routes);

  // SMART discovery, public like /metadata, at the root and relative to the FHIR base.
  const scopes = resourceScopes(routeScopeNeeds(routes));
  const smart = async (req: Request, res: Response): Promise<void> => {
    try {
      const server = await deps.auth.authorizationServer(publicBase(config, req));
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.json(smartConfiguration(server, scopes));
    } catch (err) {
      req.log.warn({ err: describeError(err) }, 'authorization server discovery failed');
      sendProblem(res, unavailable('The authorization server\'s configuration could not be read; try again shortly'));
    }
  };
  app.get('/.well-known/smart-configuration', smart);
  app.get('/fhir/.well-known/smart-configuration', smart);

  // Prometheus metrics: no personal data, but closed like the operator endpoints, to the operator role (the
  // monitoring system scrapes with an operator client's credentials); everyone else gets 403.
  app.get('/metrics', async (req, res) => {
    const who = await deps.auth.verify(req.headers.authorization);
    if (isProblem(who)) return sendProblem(res, who);
    if (who.kind !== 'system' || who.role !== 'operator') return sendProblem(res, forbidden('Metrics are for operations: an operator client token is required'));
    const { contentType, body } = await metricsText();
    res.setHeader('Content-Type', contentType);
    res.send(body);
  });
  const limits = config.maxBodyBytes;
  const fhir = express.Router();
  fhir.use(express.raw({ type: () => true, limit: Math.max(limits.json, limits.xml) }));
  fhir.use((req, res, next) => {
    const match = table.match(req.method, req.path);
    if (isProblem(match)) return sendProblem(res, match, isPretty(req));
    res.locals.match = match;
    next();
  });
  fhir.use(authenticate(deps.auth));
  fhir.use(limitRequests(config));
  fhir.use(refuseUnauthenticated((req, res, problem) => auditRefusal({ db, config, req, route: matchOf(res).route, problem })));
  fhir.use(async (req, res) => {
    const { route, params } = matchOf(res);
    const pretty = isPretty(req);
    const principal = req.principal;
    const notes: AuditNotes = {};
    const ctx = createRouteContext(deps, req.log, principal, notes);
    const fhirReq = buildFhirRequest({
      route,
      params,
      req,
      rawBody: Buffer.isBuffer(req.body) ? req.body : undefined,
      limits,
      baseUrl: `${publicBase(config, req)}/fhir`,
      requestId: req.id,
    });
    const { response, outcome } = await answer(route, fhirReq, principal, ctx, pretty);
    // The audit record is written before any byte of the answer leaves; if it cannot be written, the
    // answer is not given either.
    await auditCall({
      db,
      config,
      route,
      principal,
      request: isProblem(fhirReq) ? undefined : fhirReq,
      requestId: req.id,
      notes,
      outcome,
    });
    sendPrepared(res, response);
  });
  app.use('/fhir', fhir);

  // The clinician's HTML view: its own router with its own session, CSP and error pages.
  if (deps.view) {
    app.use(
      '/view',
      createViewRouter({
        ...deps,
        summarySources: deps.view.summarySources,
        routeContext: (log, principal, notes) => createRouteContext(deps, log, principal, notes),
      }),
    );
  }

  // The error boundary: body-parser failures keep their 4xx meaning, a store that cannot be reached (the
  // audit write included) is a 503 the client may retry; anything else is a 500 without internals.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const p = problemFromError(err);
    // A client that hangs up mid-upload is the client's doing: a line like any refused request's, and no
    // store-outage warning (its ECONNABORTED would otherwise read as one; see isClientAbort).
    if (isClientAbort(err)) req.log.info({ method: req.method, url: loggableUrl(req.originalUrl), status: p.status, ...abortDetails(err) }, 'request aborted by the client');
    else if (p.status === 503) req.log.warn({ err: describeError(err) }, 'store unreachable');
    else if (p.status >= 500) req.log.error({ err: describeError(err) }, 'unhandled error');
    if (res.headersSent) return res.end();
    sendProblem(res, p);
  });

  return app;
}

/** What a handler (or the view, calling the same functions) may use for one request. */
export function createRouteContext(
  deps: Pick<AppDeps, 'db' | 'config' | 'patientFacts' | 'prescriptionChain'> & { personNumbers?: PersonNumbers },
  log: Logger,
  principal: Principal | undefined,
  notes: AuditNotes,
): RouteContext {
  return {
    db: deps.db,
    config: deps.config,
    log,
    principal,
    audit: notes,
    patientFacts: (patient) => deps.patientFacts(deps.db, patient),
    personNumbers: deps.personNumbers,
    prescriptionChain: deps.prescriptionChain,
  };
}

/**
 * One request through its route: a public route's handler runs as is; a protected one's only with the
 * router's decision (decide.ts), after the principal's role, the patient and the access rules.
 */
async function serve(route: RouteDef, req: FhirRequest | Problem, principal: Principal | undefined, ctx: RouteContext): Promise<HandlerResult> {
  if (route.access === 'public') {
    if (isProblem(req)) return req;
    return representationProblem(route, req) ?? finishResult(route, req, await guard(() => route.handler(req, ctx), ctx));
  }
  if (!principal) throw new Error('a protected route was reached without a principal');
  // A request that cannot even be read is refused by role first: an unadmitted caller learns nothing more.
  if (isProblem(req)) return refuseUnadmitted(route.access, principal) ?? req;
  const access = route.access;
  const decided = await guard(() => decideRequest(access, principal, req, ctx), ctx);
  if (isProblem(decided)) return decided;
  const unrepresentable = representationProblem(route, req);
  if (unrepresentable) return unrepresentable;
  return finishResult(route, req, await guard(() => route.handler(req, ctx, decided), ctx));
}

/**
 * The route's answer, serialised at once. The audit write that follows is most requests' longest wait; held
 * through it as one string, the answer costs the young-generation collections meanwhile nothing, where the
 * objects it was made from (thousands, for a summary) would be copied by each of them.
 */
async function answer(
  route: RouteDef,
  req: FhirRequest | Problem,
  principal: Principal | undefined,
  ctx: RouteContext,
  pretty: boolean,
): Promise<{ response: PreparedResponse; outcome: AnsweredOutcome }> {
  const result = await serve(route, req, principal, ctx);
  return { response: prepareResult(result, pretty), outcome: outcomeOf(result) };
}

/** Runs a step that may throw: a ProblemError is its Problem, an unreachable store a 503, anything else a 500. */
async function guard<T>(step: () => Promise<T | Problem>, ctx: RouteContext): Promise<T | Problem> {
  try {
    return await step();
  } catch (err) {
    // Still audited (as a serious failure) by the caller; the detail goes to the log only.
    if (err instanceof ProblemError) return err.problem;
    if (isStoreUnreachable(err)) {
      ctx.log.warn({ err: describeError(err) }, 'store unreachable');
      return storeUnavailable();
    }
    ctx.log.error({ err: describeError(err) }, 'handler failed');
    return serverError();
  }
}

const TOP_LEVEL = new Set(['fhir', 'view', 'healthz', 'readyz', 'metrics', '.well-known']);

/**
 * The metrics label of a request: the FHIR route's pattern, else its top-level area. Never the URL itself
 * (it may hold a fødselsnummer) and never a value a caller can vary without bound.
 */
function metricsRoute(path: string, match: unknown): string {
  const pattern = (match as { route?: { path?: string } } | undefined)?.route?.path;
  if (pattern) return `/fhir${pattern}`;
  const top = path.split('/')[1] ?? '';
  return TOP_LEVEL.has(top) ? `/${top}` : 'other';
}

const isPretty = (req: Request): boolean => /^(true|1)$/.test(String(req.query._pretty ?? ''));

function withMetadata(deps: AppDeps): RouteDef[] {
  const metadata: RouteDef = {
    method: 'GET',
    path: '/metadata',
    resourceType: 'CapabilityStatement',
    interaction: 'operation',
    access: 'public',
    documentation: 'The CapabilityStatement of this server, generated from its route table.',
    handler: async (req, ctx): Promise<HandlerResult> => ({
      status: 200,
      resource: buildCapabilityStatement(routes, {
        baseUrl: req.baseUrl,
        version: deps.version,
        securityDescription: securityDescription(deps.auth),
        // Without a reachable HelseID the statement still answers, only without the oauth-uris.
        authorizationServer: await deps.auth.authorizationServer(req.baseUrl.replace(/\/fhir$/, '')).catch((err: unknown) => {
          ctx.log.warn({ err: describeError(err) }, 'authorization server discovery failed');
          return undefined;
        }),
        profiles: supportedProfiles(),
      }),
    }),
  };
  const routes: RouteDef[] = [metadata, ...deps.routes];
  return routes;
}

function setSecurityHeaders(res: Response): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  res.setHeader('Cache-Control', 'no-store');
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/;

/** The base of links in answers: PUBLIC_BASE_URL (required in production); the demo falls back to a checked Host. */
function publicBase(config: Config, req: Request): string {
  if (config.publicBaseUrl) return config.publicBaseUrl;
  if (config.mode === 'production') throw new Error('PUBLIC_BASE_URL is required in production');
  const host = req.headers.host;
  return `${req.protocol}://${host && HOST.test(host) ? host : `localhost:${config.port}`}`;
}

/** A transient store outage: 503 with Retry-After, so clients and load balancers retry instead of giving up. */
const storeUnavailable = (): Problem => unavailable('The service is temporarily unable to reach its store; retry shortly');

function problemFromError(err: unknown): Problem {
  if (err instanceof ProblemError) return err.problem;
  if (isClientAbort(err)) return badRequest('The client closed the connection before the request body arrived');
  if (isStoreUnreachable(err)) return storeUnavailable();
  const e = err as { type?: string; status?: number; statusCode?: number } | undefined;
  switch (e?.type) {
    case 'entity.too.large':
      return payloadTooLarge('Request body is larger than this server accepts');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return unsupportedMediaType('Content encoding or charset is not supported');
    case 'request.size.invalid':
    case 'entity.verify.failed':
      return badRequest('The request body could not be read');
  }
  const status = e?.status ?? e?.statusCode;
  // What is left are the body reader's other refusals, in practice a body that does not decompress as its
  // Content-Encoding says (gzip labelled br, a corrupt deflate stream).
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return problem(status, 'invalid', 'The request body could not be read: check that it is encoded as its Content-Encoding says, and its length');
  }
  return serverError();
}

function describeError(err: unknown): { message: string; stack?: string | undefined } {
  return err instanceof Error ? { message: err.message, stack: err.stack } : { message: String(err) };
}
