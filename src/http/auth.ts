// Authentication, rate limiting and the audit record for the FHIR routes, as express middleware stages
// between route matching and the handler. Every route that is not public needs a verified token; every
// route that touches personal data leaves exactly one AuditEvent, written before the response is sent.
import type { NextFunction, Request, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { Principal } from '../auth/principal.ts';
import { scopeRule, accessProblem } from '../auth/access-rules.ts';
import type { AuthSetup } from '../auth/setup.ts';
import { buildAuditEvent, auditOutcomeFromStatus } from '../audit/build.ts';
import { recordAudit } from '../audit/repository.ts';
import type { Config } from '../config.ts';
import { isProblem, tooManyRequests, type Problem } from '../fhir/outcomes.ts';
import type { Queryable } from '../store/db.ts';
import { sendProblem } from './respond.ts';
import type { RouteMatch } from './router.ts';
import type { AuditNotes, FhirRequest, HandlerResult, RouteDef } from './types.ts';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

export const matchOf = (res: Response): RouteMatch => res.locals.match as RouteMatch;

/** Verifies the bearer token of every non-public route; a refusal is the 401 with WWW-Authenticate. */
export function authenticate(auth: AuthSetup) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (matchOf(res).route.access === 'public') return next();
    const result = await auth.verify(req.headers.authorization);
    if (isProblem(result)) return sendProblem(res, result);
    req.principal = result;
    next();
  };
}

/** A fixed window per OAuth client (per address before authentication): 429 with Retry-After beyond it. */
export function limitPerClient(config: Config) {
  const windowMs = 60_000;
  return rateLimit({
    windowMs,
    limit: config.rateLimitPerMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req) => (req.principal ? `client:${req.principal.clientId}` : `ip:${ipKeyGenerator(req.ip ?? '')}`),
    handler: (req, res) => {
      const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime?.getTime();
      const seconds = reset ? Math.max(1, Math.ceil((reset - Date.now()) / 1000)) : windowMs / 1000;
      sendProblem(res, tooManyRequests(seconds));
    },
  });
}

/** The scope check every protected route gets before its handler runs: 403 with the scope it needs. */
export function checkScope(route: RouteDef, principal: Principal | undefined): Problem | undefined {
  if (route.access === 'public' || !principal) return undefined;
  const outcomes = scopeRule(principal, undefined, { ...route.access.scope, level: 'request' });
  const denied = outcomes.filter((o) => o.effect === 'deny');
  return denied.length ? accessProblem({ effect: 'deny', outcomes: denied }) : undefined;
}

export interface AuditContext {
  db: Queryable;
  config: Config;
  route: RouteDef;
  principal: Principal | undefined;
  request: Pick<FhirRequest, 'requestId' | 'query'> | undefined;
  requestId: string;
  notes: AuditNotes;
  result: HandlerResult;
}

/** Records the AuditEvent for a call to an audited route, unless the handler recorded it in its own transaction. */
export async function auditCall(a: AuditContext): Promise<void> {
  if (a.route.access === 'public' || a.route.access.audit === false || a.notes.recorded) return;
  const status = a.result.status;
  const query = a.route.interaction === 'search-type' && a.request ? a.request.query.toString() : undefined;
  const event = buildAuditEvent({
    principal: a.principal,
    patient: a.notes.patient,
    action: a.route.access.audit,
    interaction: a.route.interaction,
    operation: a.route.operation ? { name: a.route.operation.name, definition: a.route.operation.definition } : undefined,
    resourceType: a.route.resourceType,
    resourceId: a.notes.resourceId,
    query: query || undefined,
    outcome: auditOutcomeFromStatus(status),
    outcomeDesc: isProblem(a.result) ? a.result.issues.map((i) => i.code).join(', ') : undefined,
    requestId: a.requestId,
    withheld: a.notes.withheld,
    at: new Date(),
    observer: { name: a.config.operator.name, orgnr: a.config.operator.orgnr },
  });
  await recordAudit(a.db, event);
}
