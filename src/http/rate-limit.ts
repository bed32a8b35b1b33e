// Rate limits for the FHIR API, after authentication so that each request is counted against who made it:
//   - per person (a clinician's HPR number, a citizen's fødselsnummer): one person's flood is theirs alone,
//     even when thousands of others sign in through the same client (the citizen app, a large EPJ);
//   - per client: a bound on one OAuth client as a whole (system clients have no person, only this);
//   - per source address, for requests without a valid token (none, bad, expired, or a public route):
//     the only thing that tells such callers apart.
// Beyond a limit: 429 with Retry-After and an OperationOutcome saying which limit. Counters are in memory,
// per instance: with N instances behind a load balancer a caller gets up to N times the limit.
import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit';
import type { Principal } from '../auth/principal.ts';
import type { Config } from '../config.ts';
import { tooManyRequests } from '../fhir/outcomes.ts';
import { sendProblem } from './respond.ts';

const WINDOW_MS = 60_000;

/**
 * The person behind a principal, as a counter key. The fødselsnummer is hashed so the limiter's memory
 * holds no person numbers; a citizen acting for a child counts as themselves, the one making the requests.
 */
export function personKey(p: Principal): string | undefined {
  switch (p.kind) {
    case 'clinician':
      return `hpr:${p.hpr}`;
    case 'citizen':
      return `person:${createHash('sha256').update(p.fnr).digest('base64url')}`;
    case 'system':
      return undefined;
  }
}

type Who = (req: Request) => string | undefined;

function limiter(name: string, limit: number, who: Who, refusal: string, headers: boolean): RequestHandler {
  const property = `rateLimit_${name}`;
  return rateLimit({
    windowMs: WINDOW_MS,
    limit,
    // Only the limit that concerns the caller itself advertises its budget in RateLimit headers.
    standardHeaders: headers ? 'draft-7' : false,
    legacyHeaders: false,
    requestPropertyName: property,
    skip: (req) => who(req) === undefined,
    keyGenerator: (req) => `${name}:${who(req) ?? ''}`,
    handler: (req: Request, res: Response, _next: NextFunction, options: Options) => {
      const info = (req as unknown as Record<string, { resetTime?: Date } | undefined>)[options.requestPropertyName];
      const reset = info?.resetTime?.getTime();
      const seconds = reset ? Math.max(1, Math.ceil((reset - Date.now()) / 1000)) : WINDOW_MS / 1000;
      sendProblem(res, tooManyRequests(seconds, `${refusal} (at most ${limit} a minute); retry after ${seconds} s`));
    },
  });
}

/**
 * The three limits, in this order: a person over their limit is refused before the client's counter moves,
 * so one person's flood cannot use up the budget of everyone else on the same client.
 */
export function limitRequests(config: Config): RequestHandler[] {
  return [
    limiter('person', config.rateLimitPerMinute, (req) => (req.principal ? personKey(req.principal) : undefined), 'Too many requests from this person', true),
    limiter('client', config.rateLimitPerClientPerMinute, (req) => req.principal?.clientId, 'Too many requests from this client', false),
    limiter(
      'address',
      config.rateLimitUnauthenticatedPerMinute,
      (req) => (req.principal ? undefined : ipKeyGenerator(req.ip ?? '')),
      'Too many requests without a valid token from this address',
      true,
    ),
  ];
}
