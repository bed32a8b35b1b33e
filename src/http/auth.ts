// Authentication, rate limiting and the audit record for the FHIR routes, as express middleware stages
// between route matching and the handler. Every route that is not public needs a verified token; every
// route that touches personal data leaves exactly one AuditEvent, written before the response is sent.
import { createHmac } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { CLAIM } from '../auth/claims.ts';
import type { Principal } from '../auth/principal.ts';
import type { AuthSetup } from '../auth/setup.ts';
import { buildAuditEvent, auditOutcomeFromStatus, type AuditAction } from '../audit/build.ts';
import { recordAudit } from '../audit/repository.ts';
import type { Config } from '../config.ts';
import { isProblem, type Problem } from '../fhir/outcomes.ts';
import type { Queryable } from '../store/db.ts';
import { sendProblem, type AnsweredOutcome } from './respond.ts';
import type { RouteMatch } from './router.ts';
import type { AuditNotes, FhirRequest, RouteDef } from './types.ts';

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

/** The 401 that `authenticate` kept, once the per-address limit has had its say; audited (onRefused) before it is sent. */
export function refuseUnauthenticated(onRefused: (req: Request, res: Response, problem: Problem) => Promise<void>) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const refusal = res.locals.authProblem as Problem | undefined;
    if (!refusal) return next();
    await onRefused(req, res, refusal);
    sendProblem(res, refusal);
  };
}


/** What the audit record reads of a route's declaration (any route, FHIR or view page). */
export type AuditedRoute = Pick<RouteDef, 'interaction' | 'operation' | 'resourceType'> & { access: 'public' | { audit: AuditAction | false } };

export interface AuditContext {
  db: Queryable;
  config: Config;
  route: AuditedRoute;
  principal: Principal | undefined;
  request: Pick<FhirRequest, 'requestId' | 'query'> | undefined;
  requestId: string;
  notes: AuditNotes;
  /** Not the result itself: a caller may drop the answer's content while the record is written. */
  outcome: AnsweredOutcome;
}

/**
 * Records the AuditEvent for a call to a protected route, unless the handler recorded it in its own
 * transaction. Routes that touch no person's data (audit: false) are recorded only when refused.
 */
export function auditCall(a: AuditContext): Promise<void> {
  if (a.route.access === 'public' || a.notes.recorded) return Promise.resolve();
  const status = a.outcome.status;
  const refused = status === 401 || status === 403;
  if (a.route.access.audit === false && !refused) return Promise.resolve();
  const query = a.route.interaction === 'search-type' && a.request ? a.request.query.toString() : undefined;
  const event = buildAuditEvent({
    principal: a.principal,
    patient: a.notes.patient,
    foreignPatient: a.notes.foreignPatient,
    related: a.notes.prescription,
    action: a.route.access.audit || 'E',
    interaction: a.route.interaction,
    operation: a.route.operation ? { name: a.route.operation.name, definition: a.route.operation.definition } : undefined,
    resourceType: a.route.resourceType,
    resourceId: a.notes.resourceId,
    query: query || undefined,
    outcome: auditOutcomeFromStatus(status),
    outcomeDesc: a.outcome.issueCodes,
    requestId: a.requestId,
    withheld: a.notes.withheld,
    at: new Date(),
    observer: { name: a.config.operator.name, orgnr: a.config.operator.orgnr },
  });
  // Returned, not awaited here: nothing of the call stays referenced while the record is written.
  return recordAudit(a.db, event).then(() => undefined);
}

/**
 * The AuditEvent of a request refused before a principal exists (no, bad or expired token): no patient,
 * the client the token claims (unverified, so marked as claimed) and a keyed hash of the source address.
 */
export async function auditRefusal(a: { db: Queryable; config: Config; req: Request; route: AuditedRoute; problem: Problem }): Promise<void> {
  const { route, req } = a;
  const event = buildAuditEvent({
    principal: undefined,
    anonymous: { claimedClient: claimedClientId(req.headers.authorization), addressHash: addressHash(req.ip ?? '', a.config.auditAddressKey) },
    action: route.access !== 'public' && route.access.audit ? route.access.audit : 'E',
    interaction: route.interaction,
    operation: route.operation ? { name: route.operation.name, definition: route.operation.definition } : undefined,
    resourceType: route.resourceType,
    outcome: auditOutcomeFromStatus(a.problem.status),
    outcomeDesc: a.problem.issues.map((i) => i.code).join(', '),
    requestId: req.id,
    at: new Date(),
    observer: { name: a.config.operator.name, orgnr: a.config.operator.orgnr },
  });
  await recordAudit(a.db, event);
}

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

/** The client id an unverified bearer token names, if it names a plausible one (never trusted beyond the log). */
export function claimedClientId(authorization: string | undefined): string | undefined {
  const m = /^Bearer\s+([A-Za-z0-9_-]{1,8192})\.([A-Za-z0-9_-]{1,16384})\.[A-Za-z0-9_-]*$/i.exec(authorization ?? '');
  if (!m) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(m[2]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const id = claims[CLAIM.clientId];
    return typeof id === 'string' && CLIENT_ID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** A keyed hash of the source address: the same address gives the same value, and the value gives no address back. */
export const addressHash = (ip: string, key: string): string => createHmac('sha256', key).update(ip).digest('hex').slice(0, 32);
