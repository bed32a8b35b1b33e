// The server under test, in its own process (forked by the bench and the soak test; they talk over IPC).
// It runs two apps over one store and one token issuer:
//   - the real stack: startServer() from src/server.ts, exactly what `npm start` serves;
//   - the baseline: the same express stack (createApp: request ids, logging, token verification, rate
//     limit, scope check, audit write) whose only route handlers answer with bytes the real stack produced
//     once at start-up. The ratio real/baseline is then the cost of the handler's own work.
// Environment: BENCH_STORE=pglite|postgres, BENCH_PG_URL, BENCH_PG_SCHEMA, BENCH_DATA_DIR,
// BENCH_PRECOMPUTE (JSON array of GET paths under /fhir), BENCH_LOG_FILE (default: discard),
// BENCH_DEMO_FEST=1 (load the demo FEST extract, which dispensing needs for enrichment).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { personNumberOf } from '../src/fhir/identifiers.ts';
import { isProblem } from '../src/fhir/outcomes.ts';
import { createApp } from '../src/http/app.ts';
import { CONTENT_TYPE } from '../src/http/negotiate.ts';
import { RouteTable } from '../src/http/router.ts';
import { allDocumentedRoutes } from '../src/http/routes.ts';
import { route, type RouteDef } from '../src/http/types.ts';
import { createLogger } from '../src/log.ts';
import { startServer, VERSION } from '../src/server.ts';
import type { Db } from '../src/store/db.ts';
import { migrate } from '../src/store/migrate.ts';
import { readPatient } from '../src/store/patients.ts';

export const BENCH_HPR = '9144889';
/** Broad clinician scopes, so every route the bench or soak calls gets past the scope check. */
export const BENCH_SCOPE = 'user/*.cruds';

export type ServeMessage =
  | { type: 'ready'; url: string; baselineUrl: string; token: string; engine: string; precomputed: string[] }
  | { type: 'memory'; rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number; spaces: Record<string, number>; gc: Record<string, { count: number; ms: number }> }
  | { type: 'token'; token: string; id: number }
  | { type: 'profile'; file: string }
  | { type: 'failed'; message: string };

export type ServeRequest =
  | { type: 'memory' }
  | { type: 'token'; scope: string; id: number; client?: string }
  | { type: 'profile-start' }
  | { type: 'profile-stop'; file: string }
  | { type: 'stop' };

const send = (m: ServeMessage): void => {
  process.send?.(m);
};

async function openDb(): Promise<Db> {
  const env = process.env;
  if (env.BENCH_STORE === 'postgres') {
    const { openPostgres } = await import('../src/store/postgres.ts');
    const url = env.BENCH_PG_URL;
    if (!url) throw new Error('BENCH_PG_URL is required with BENCH_STORE=postgres');
    const db = await openPostgres({ connectionString: url, max: 20, ...(env.BENCH_PG_SCHEMA ? { schema: env.BENCH_PG_SCHEMA } : {}) });
    await migrate(db);
    return db;
  }
  const { openPglite } = await import('../src/store/pglite.ts');
  const db = await openPglite(`${env.BENCH_DATA_DIR ?? '/tmp/helsebro-bench'}/pglite`);
  await migrate(db);
  return db;
}

async function main(): Promise<void> {
  const dataDir = process.env.BENCH_DATA_DIR ?? '/tmp/helsebro-bench';
  const config = loadConfig({
    HELSEBRO_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    // The load generator is one client; the per-client limit would otherwise be what is measured.
    RATE_LIMIT_PER_MINUTE: '1000000',
    ...(process.env.BENCH_SOURCE_TIMEOUT_MS ? { SUMMARY_SOURCE_TIMEOUT_MS: process.env.BENCH_SOURCE_TIMEOUT_MS } : {}),
  });
  const destination = process.env.BENCH_LOG_FILE ? pino.destination(process.env.BENCH_LOG_FILE) : pino.destination('/dev/null');
  const log = createLogger(config.logLevel, destination);
  const db = await openDb();
  if (process.env.BENCH_DEMO_FEST === '1') {
    const { loadDemoFest } = await import('../src/registries/fest/ingest.ts');
    await loadDemoFest(db);
  }
  const real = await startServer({ config, log, db });
  const issuer = real.auth.demoIssuer;
  if (!issuer) throw new Error('the bench needs demo mode (the embedded token issuer)');
  const token = await issuer.issueDemoToken({ scope: BENCH_SCOPE, hpr: BENCH_HPR, ttlSec: 6 * 3600 });

  const wanted = JSON.parse(process.env.BENCH_PRECOMPUTE ?? '[]') as string[];
  const baselineRoutes = await precompute(real.url, token, db, wanted);
  const app = createApp({
    config,
    db,
    log,
    routes: baselineRoutes.routes,
    version: VERSION,
    auth: real.auth,
    patientFacts: async (_db, p) => ({ ...p, kjernejournalReserved: false, guardianAccessReserved: false, restrictions: [] }),
  });
  const baseline = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const baselineUrl = `http://127.0.0.1:${(baseline.address() as AddressInfo).port}`;

  process.on('message', (m: ServeRequest) => {
    if (m.type === 'memory') {
      const mem = process.memoryUsage();
      const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
      send({ type: 'memory', rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, arrayBuffers: mem.arrayBuffers, spaces, gc: Object.fromEntries(gcPauses) });
    } else if (m.type === 'token') {
      const who = m.client ? { client: m.client } : { hpr: BENCH_HPR };
      void issuer.issueDemoToken({ scope: m.scope, ttlSec: 6 * 3600, ...who }).then((t) => send({ type: 'token', token: t, id: m.id }));
    } else if (m.type === 'profile-start') {
      void profiler.start();
    } else if (m.type === 'profile-stop') {
      void profiler.stop(m.file).then(() => send({ type: 'profile', file: m.file }));
    } else if (m.type === 'stop') {
      baseline.closeAllConnections();
      baseline.close();
      void real.close().then(
        () => db.close(),
      ).finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', url: real.url, baselineUrl, token, engine: db.engine, precomputed: baselineRoutes.served });
}

/** Garbage-collection pauses of the main thread since start, by kind (minor, major, incremental, weakcb). */
const gcPauses = new Map<string, { count: number; ms: number }>();
const GC_KIND: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = GC_KIND[(e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
    const g = gcPauses.get(kind) ?? { count: 0, ms: 0 };
    g.count++;
    g.ms += e.duration;
    gcPauses.set(kind, g);
  }
}).observe({ entryTypes: ['gc'] });

/** The V8 CPU profiler over exactly the window the bench asks for (not start-up), via the inspector. */
const profiler = (() => {
  let session: import('node:inspector/promises').Session | undefined;
  return {
    async start(): Promise<void> {
      const { Session } = await import('node:inspector/promises');
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    },
    async stop(file: string): Promise<void> {
      if (!session) throw new Error('the profiler was not started');
      const { profile } = await session.post('Profiler.stop');
      const { writeFileSync } = await import('node:fs');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      session = undefined;
    },
  };
})();

/**
 * For each GET path, asks the real stack once and builds a route (same pattern, same access and audit
 * declaration) that answers those bytes. Paths the real stack does not serve (yet) are left out.
 */
async function precompute(url: string, token: string, db: Db, paths: string[]): Promise<{ routes: RouteDef[]; served: string[] }> {
  // The served routes' patterns and access declarations (handlers are replaced below).
  const table = new RouteTable(allDocumentedRoutes());
  const cache = new Map<string, { body: string; contentType: string; patient?: { id: string; fnr: string | undefined } }>();
  const routes = new Map<RouteDef, RouteDef>();
  for (const path of paths) {
    const match = table.match('GET', path);
    if (isProblem(match)) continue;
    const res = await fetch(`${url}/fhir${path}`, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`precomputing ${path}: the real stack answered ${res.status}: ${body.slice(0, 300)}`);
    const id = match.params.id;
    const patient = id && /^\/Patient\//.test(path) ? await readPatient(db, id) : undefined;
    cache.set(path, { body, contentType: res.headers.get('content-type') ?? CONTENT_TYPE.fhir, ...(patient && id ? { patient: { id, fnr: personNumberOf(patient) } } : {}) });
    const real = match.route;
    if (!routes.has(real) && real.access !== 'public') {
      routes.set(real, route({
        ...real,
        documentation: `Bench baseline: precomputed answer of ${real.path}`,
        async handler(req, ctx) {
          const concrete = real.path.replace(/:([A-Za-z]+)/g, (_m, name: string) => req.params[name] ?? '');
          const hit = cache.get(concrete);
          if (!hit) return { status: 404, body: '{"resourceType":"OperationOutcome"}', contentType: CONTENT_TYPE.fhir };
          if (hit.patient) ctx.audit.patient = hit.patient;
          ctx.audit.resourceId = req.params.id;
          return { status: 200, body: hit.body, contentType: hit.contentType };
        },
      }));
    }
  }
  return { routes: [...routes.values()], served: [...cache.keys()] };
}

main().catch((err: unknown) => {
  send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
