// The express application: request ids and logging, security headers, health probes, and the FHIR API.
// Read top-down, a FHIR request goes: request id -> raw body (size-capped) -> route match -> negotiate and
// parse (router.ts) -> handler -> sendResult (respond.ts). Any throw lands in the error boundary at the end.
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config } from '../config.ts';
import {
  badRequest,
  isProblem,
  payloadTooLarge,
  problem,
  ProblemError,
  serverError,
  unsupportedMediaType,
  type Problem,
} from '../fhir/outcomes.ts';
import { loggableUrl, type Logger } from '../log.ts';
import type { Db } from '../store/db.ts';
import { buildCapabilityStatement } from './capability.ts';
import { sendProblem, sendResult } from './respond.ts';
import { buildFhirRequest, RouteTable } from './router.ts';
import type { RouteContext, RouteDef } from './types.ts';

export interface AppDeps {
  config: Config;
  db: Db;
  log: Logger;
  routes: RouteDef[];
  version: string;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    log: Logger;
  }
}

export function createApp(deps: AppDeps): express.Express {
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

  const routes = withMetadata(deps);
  const table = new RouteTable(routes);
  const limits = config.maxBodyBytes;
  const rawBody = express.raw({ type: () => true, limit: Math.max(limits.json, limits.xml) });

  app.use('/fhir', rawBody, async (req, res) => {
    const pretty = /^(true|1)$/.test(String(req.query._pretty ?? ''));
    const match = table.match(req.method, req.path);
    if (isProblem(match)) return sendProblem(res, match, pretty);
    const baseUrl = `${publicBase(config, req)}/fhir`;
    const fhirReq = buildFhirRequest({
      route: match.route,
      params: match.params,
      req,
      rawBody: Buffer.isBuffer(req.body) ? req.body : undefined,
      limits,
      baseUrl,
      requestId: req.id,
    });
    if (isProblem(fhirReq)) return sendProblem(res, fhirReq, pretty);
    const ctx: RouteContext = { db, config, log: req.log };
    const result = await match.route.handler(fhirReq, ctx);
    sendResult(res, result, pretty);
  });

  // The error boundary: body-parser failures keep their 4xx meaning; anything else is a 500 without internals.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const p = problemFromError(err);
    if (p.status >= 500) req.log.error({ err: describeError(err) }, 'unhandled error');
    if (res.headersSent) return res.end();
    sendProblem(res, p);
  });

  return app;
}

function withMetadata(deps: AppDeps): RouteDef[] {
  const metadata: RouteDef = {
    method: 'GET',
    path: '/metadata',
    resourceType: 'CapabilityStatement',
    interaction: 'operation',
    documentation: 'The CapabilityStatement of this server, generated from its route table.',
    handler: async (req) => ({
      status: 200,
      resource: buildCapabilityStatement(routes, { baseUrl: req.baseUrl, version: deps.version }),
    }),
  };
  const routes = [metadata, ...deps.routes];
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

function publicBase(config: Config, req: Request): string {
  if (config.publicBaseUrl) return config.publicBaseUrl;
  const host = req.headers.host;
  return `${req.protocol}://${host && HOST.test(host) ? host : `localhost:${config.port}`}`;
}

function problemFromError(err: unknown): Problem {
  if (err instanceof ProblemError) return err.problem;
  const e = err as { type?: string; status?: number; statusCode?: number } | undefined;
  switch (e?.type) {
    case 'entity.too.large':
      return payloadTooLarge('Request body is larger than this server accepts');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return unsupportedMediaType('Content encoding or charset is not supported');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'entity.verify.failed':
      return badRequest('The request body could not be read');
  }
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return problem(status, 'invalid', 'Bad request');
  return serverError();
}

function describeError(err: unknown): { message: string; stack?: string | undefined } {
  return err instanceof Error ? { message: err.message, stack: err.stack } : { message: String(err) };
}
