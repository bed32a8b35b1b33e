// Authentication, rate limiting and the audit record for the FHIR routes, as express middleware stages
// between route matching and the handler. Every route that is not public needs a verified token; every
// route that touches personal data leaves exactly one AuditEvent, written before the response is sent.
import type { NextFunction, Request, Response } from 'express';
import type { Principal } from '../auth/principal.ts';
import { scopeRule, accessProblem } from '../auth/access-rules.ts';
import type { AuthSetup } from '../auth/setup.ts';
import { buildAuditEvent, auditOutcomeFromStatus } from '../audit/build.ts';
import { recordAudit } from '../audit/repository.ts';
import type { Config } from '../config.ts';
import { isProblem, type Problem } from '../fhir/outcomes.ts';
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

/**
 * Verifies the bearer token of every non-public route. A refusal is kept, not sent: the rate limits
 * (src/http/rate-limit.ts) count a request without a valid token against its source address first, and
 * `refuseUnauthenticated` then answers the 401 with WWW-Authenticate.
 */
export function authenticate(auth: AuthSetup) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (matchOf(res).route.access === 'public') return next();
    const result = await auth.verify(req.headers.authorization);
    if (isProblem(result)) res.locals.authProblem = result;
    else req.principal = result;
    next();
  };
}

/** The 401 that `authenticate` kept, once the per-address limit has had its say. */
export function refuseUnauthenticated(_req: Request, res: Response, next: NextFunction): void {
  const refusal = res.locals.authProblem as Problem | undefined;
  if (refusal) return sendProblem(res, refusal);
  next();
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
