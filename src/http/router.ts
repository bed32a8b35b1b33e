// The FHIR routing core: matches /fhir requests against the route table and runs one route top-down:
// negotiate -> read body -> handler -> response. Everything that goes wrong becomes a Problem, and
// respond.ts is the single place a Problem becomes HTTP.
import type { Request } from 'express';
import { badRequest, isProblem, methodNotAllowed, notFound, type Problem } from '../fhir/outcomes.ts';
import { malformedEscape, readBody, type BodyLimits } from './body.ts';
import { bodyKindOf, negotiate } from './negotiate.ts';
import { pickLanguage } from '../summary/sections.ts';
import type { BodyKind, FhirRequest, RouteDef } from './types.ts';

interface CompiledRoute {
  route: RouteDef;
  segments: string[];
}

export interface RouteMatch {
  route: RouteDef;
  params: Record<string, string>;
}

export class RouteTable {
  private readonly compiled: CompiledRoute[];
  readonly resourceTypes: Set<string>;
  readonly routes: readonly RouteDef[];

  constructor(routes: readonly RouteDef[]) {
    this.routes = routes;
    this.compiled = routes.map((route) => ({ route, segments: route.path.split('/').filter(Boolean) }));
    this.resourceTypes = new Set(routes.map((r) => r.resourceType));
  }

  /** The matching route, or 404 (unknown path or type) / 405 (known path, other method). */
  match(method: string, path: string): RouteMatch | Problem {
    const parts = path.split('/').filter(Boolean).map(safeDecode);
    const allowed = new Set<string>();
    // Literal segments beat parameters, so `/Patient/$summary` is not read as `/Patient/:id`.
    const candidates = this.compiled
      .map((c) => ({ c, params: matchSegments(c.segments, parts) }))
      .filter((m): m is { c: CompiledRoute; params: Record<string, string> } => m.params !== undefined)
      .sort((a, b) => Object.keys(a.params).length - Object.keys(b.params).length);
    for (const { c, params } of candidates) {
      if (c.route.method === method || (method === 'HEAD' && c.route.method === 'GET')) return { route: c.route, params };
      allowed.add(c.route.method);
    }
    if (allowed.size > 0) {
      return { ...methodNotAllowed(`${method} is not supported on ${path}`), headers: { Allow: [...allowed].join(', ') } };
    }
    const type = parts[0];
    if (type && !this.resourceTypes.has(type) && /^[A-Z][A-Za-z]+$/.test(type)) {
      return notFound(`Resource type '${type}' is not served by this server`, { expression: [type] });
    }
    return notFound(`No FHIR endpoint at ${path}`);
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const v = parts[i]!;
    if (p.startsWith(':')) {
      if (v.startsWith('$')) return undefined;
      params[p.slice(1)] = v;
    } else if (p !== v) return undefined;
  }
  return params;
}

export interface DispatchInput {
  route: RouteDef;
  params: Record<string, string>;
  req: Request;
  rawBody: Buffer | undefined;
  limits: BodyLimits;
  baseUrl: string;
  requestId: string;
}

/** Builds the handler's FhirRequest from the HTTP request, or the Problem that stops it first. */
export function buildFhirRequest(input: DispatchInput): FhirRequest | Problem {
  const { route, req } = input;
  const rawQuery = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
  const malformed = malformedEscape(rawQuery);
  if (malformed) return badRequest(`Search parameter '${malformed.name}' is not valid percent-encoded UTF-8`, { expression: [malformed.name] });
  const query = new URLSearchParams(rawQuery);
  const refused = negotiate(route.produces ?? 'fhir', req.headers.accept, query.get('_format'));
  if (refused) return refused;
  // U+0000 cannot be stored or compared in PostgreSQL text: refuse it here rather than fail in a query.
  const withNul = [...query].find(([k, v]) => k.includes('\u0000') || v.includes('\u0000'));
  if (withNul) return badRequest('Search parameters may not contain NUL characters', { expression: [withNul[0].replace(/\u0000/g, '')] });
  if (Object.values(input.params).some((v) => v.includes('\u0000'))) return badRequest('The path may not contain NUL characters');
  let body: unknown;
  let bodyKind: BodyKind | undefined;
  const hasBody = input.rawBody !== undefined && input.rawBody.length > 0;
  // An operation that takes a Parameters body may be POSTed without one: it has nothing to say beyond its
  // path and query (an instance-level $summary, $discard).
  const bodyOptional = route.interaction === 'operation' && !!route.accepts?.some((k) => k === 'json' || k === 'form');
  if (route.accepts?.length && (hasBody || !bodyOptional)) {
    const kind = bodyKindOf(req.headers['content-type'], route.accepts);
    if (isProblem(kind)) return kind;
    const parsed = readBody(input.rawBody ?? Buffer.alloc(0), kind, req.headers['content-type'], input.limits);
    if (!parsed.ok) return parsed.problem;
    body = parsed.value;
    bodyKind = kind;
  } else if (hasBody && req.method !== 'GET') {
    const kind = bodyKindOf(req.headers['content-type'], []);
    if (isProblem(kind)) return kind;
  }
  return {
    method: req.method,
    params: input.params,
    query,
    body,
    bodyKind,
    headers: req.headers,
    baseUrl: input.baseUrl,
    lang: pickLanguage(req.headers['accept-language']),
    requestId: input.requestId,
  };
}

