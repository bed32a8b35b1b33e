// The hostile-input corpus, driven by the route table: every route the server serves gets hostile path
// parameters, tokens, Accept and Content-Type headers, and hostile bodies of every kind it accepts; plus
// hand-written request-level cases. Every case must be answered with a 4xx OperationOutcome (or, where
// the input may be legitimate, at least without a 5xx), never leak internals, and leave the server up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allDocumentedRoutes } from '../../src/http/routes.ts';
import type { RouteDef } from '../../src/http/types.ts';
import { engines } from '../support/db.ts';
import { judge } from './support/check.ts';
import { buildCorpus, pathFor, routeName, type HostileCase } from './support/corpus.ts';
import { rawRequest, type RawResponse } from './support/raw-http.ts';
import { REQUEST_CASES } from './support/requests.ts';
import { startHostileServer, type HostileServer, type TokenKind } from './support/server.ts';
import { validBase, MEDIA } from './support/bodies.ts';

const routes = allDocumentedRoutes();
const corpus = buildCorpus(routes);
const byRoute = new Map<string, HostileCase[]>();
for (const c of corpus) byRoute.set(c.route, [...(byRoute.get(c.route) ?? []), c]);

describe('the hostile corpus', () => {
  it('covers every route in the table and has at least 200 cases', () => {
    for (const r of routes) expect(byRoute.has(routeName(r)), routeName(r)).toBe(true);
    expect(corpus.length + REQUEST_CASES.length).toBeGreaterThanOrEqual(200);
    expect(new Set([...corpus, ...REQUEST_CASES].map((c) => c.title)).size).toBe(corpus.length + REQUEST_CASES.length);
  });
});

function expectClean(c: HostileCase, res: RawResponse): void {
  const findings = judge(c, res);
  expect(findings, `${findings.join(' | ')} <- ${res.status} ${res.text.slice(0, 200)}`).toEqual([]);
}

describe.each(engines)('hostile input (%s)', (engine) => {
  let srv: HostileServer;
  /** Per route, the token kind that gets past its scope check, so cases reach the parsers behind it. */
  const tokenKind = new Map<string, TokenKind>();

  /** Tries the route with a harmless request as a clinician, then as a system client. */
  async function probe(route: RouteDef): Promise<TokenKind> {
    const kind = route.accepts?.[0];
    for (const k of ['clinician', 'system'] as const) {
      const res = await rawRequest(srv.url, {
        method: route.method,
        target: pathFor(route),
        headers: { authorization: (await srv.authorization('route', k))!, ...(kind ? { 'content-type': MEDIA[kind] } : {}) },
        ...(kind ? { body: validBase(route, kind) } : {}),
      });
      if (res.status !== 401 && res.status !== 403) return k;
    }
    return 'clinician';
  }

  async function send(c: HostileCase, kind: TokenKind) {
    const authorization = await srv.authorization(c.credentials, kind);
    const headers = { ...c.request.headers, ...(authorization ? { authorization } : {}) };
    return rawRequest(srv.url, { ...c.request, headers });
  }

  beforeAll(async () => {
    srv = await startHostileServer(engine);
    for (const r of routes) tokenKind.set(routeName(r), await probe(r));
  });
  afterAll(async () => {
    await srv?.close();
  });

  for (const [route, cases] of byRoute) {
    describe(route, () => {
      for (const c of cases) {
        it(c.title, async () => {
          const res = await send(c, tokenKind.get(c.route) ?? 'clinician');
          expectClean(c, res);
        });
      }

      afterAll(async () => {
        const health = await fetch(`${srv.url}/healthz`);
        expect(health.status).toBe(200);
      });
    });
  }

  describe('request level (hand-written)', () => {
    for (const c of REQUEST_CASES) {
      it(c.title, async () => {
        const res = await send(c, 'clinician');
        expectClean(c, res);
      });
    }
  });

  it('is still up and ready after the whole corpus, with no handler failure logged', async () => {
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${srv.url}/readyz`)).status).toBe(200);
    expect(srv.errorLines).toEqual([]);
  });

  it('left no polluted prototype behind', () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });
});
