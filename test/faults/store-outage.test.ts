// The store briefly unreachable. On PostgreSQL the server's pool goes through a TCP proxy the test cuts
// and restores; on PGlite (no network) the store raises the errors pg raises when PostgreSQL goes away.
// While it is down every route answers 503 with Retry-After (never 500), liveness stays up and readiness
// says not ready; when it returns the server recovers by itself; and every answer it gave is backed by
// its AuditEvent: nothing acknowledged is lost, nothing is recorded twice.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { loadConfig } from '../../src/config.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { allDocumentedRoutes } from '../../src/http/routes.ts';
import type { RouteDef } from '../../src/http/types.ts';
import { createLogger } from '../../src/log.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { engines, getTestDb, type Engine } from '../support/db.ts';
import { cuttable } from './support/cuttable-db.ts';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';

interface Outage {
  /** The server's store as the server sees it. */
  db: Db;
  /** A direct connection for checking what was stored, bypassing the outage. */
  direct: Db;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

const EU_IMPORT = '/MedicationRequest/$import-ehdsi-cda';
const hasEuImport = allDocumentedRoutes().some((r) => r.method === 'POST' && r.path === EU_IMPORT);

/** The NCP's eHDSI ePrescription CDA (OpenNCP sample) with a fresh prescription item id. */
function euPrescription(): { id: string; xml: string } {
  const id = `EU-${randomUUID()}`;
  const sample = readFileSync(new URL('../fixtures/edispensation/eP-L3-lantus-W8.openncp.xml', import.meta.url), 'utf8');
  return { id, xml: sample.replace('<id extension="3000.1.1" root="2.16.17.710.850.1000.990.1"', `<id extension="${id}" root="2.16.17.710.850.1000.990.1"`) };
}

const workerId = process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? '0';

async function outageFor(engine: Engine): Promise<Outage & { proxy?: TcpProxy }> {
  if (engine === 'pglite') {
    const shared = await getTestDb('pglite');
    const db = cuttable(shared);
    return { db, direct: shared, cut: async () => db.cut(), restore: async () => db.restore(), close: async () => undefined };
  }
  const url = new URL(process.env.TEST_DATABASE_URL!);
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  const schema = `helsebro_faults_w${workerId}`;
  const direct = await openPostgres({ connectionString: url.toString(), schema, max: 2 });
  await direct.exec(`drop schema if exists ${schema} cascade; create schema ${schema}`);
  const viaProxy = new URL(url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  const db = await openPostgres({ connectionString: viaProxy.toString(), schema, max: 5 });
  await migrate(db);
  return {
    db,
    direct,
    proxy,
    cut: () => proxy.cut(),
    restore: () => proxy.restore(),
    close: async () => {
      await db.close();
      await direct.close();
      await proxy.close();
    },
  };
}

/** Every GET route of the table with its parameters filled for the MS persona. */
function getTargets(): { route: RouteDef; path: string }[] {
  return allDocumentedRoutes()
    .filter((r) => r.method === 'GET' && r.access !== 'public')
    .map((route) => {
      const path = `/fhir${route.path.replace(/:([A-Za-z]+)/g, PERSONAS.ms.id)}`;
      const query = route.interaction === 'search-type' ? `?patient=Patient/${PERSONAS.ms.id}` : '';
      return { route, path: path + query };
    });
}

describe.each(engines)('store briefly unreachable (%s)', (engine) => {
  let outage: Outage & { proxy?: TcpProxy };
  let srv: RunningServer;
  let token: string;
  let ncpToken: string;
  const before = euPrescription();
  const during = euPrescription();
  /** Request ids of every answer below 500 the server gave, with its status. */
  const answered: { requestId: string; status: number }[] = [];

  /** GET as a clinician; answers of routes that record an AuditEvent are remembered for the last check. */
  async function get(path: string, audited = true): Promise<Response> {
    const res = await fetch(`${srv.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (audited && res.status < 500) answered.push({ requestId: res.headers.get('x-request-id')!, status: res.status });
    return res;
  }

  beforeAll(async () => {
    outage = await outageFor(engine);
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', HELSEBRO_DATA_DIR: '/tmp/helsebro-test-data', RATE_LIMIT_PER_MINUTE: '100000' });
    srv = await startServer({ config, log: createLogger('silent'), db: outage.db });
    token = await srv.auth.demoIssuer!.issueDemoToken({ scope: 'user/*.cruds', hpr: '9144889' });
    ncpToken = await srv.auth.demoIssuer!.issueDemoToken({ scope: 'system/MedicationRequest.cruds', client: 'ncp-no' });
  });
  afterAll(async () => {
    await srv?.close();
    await outage?.close();
  });

  /** The NCP delivering an EU ePrescription: a write that must be stored once it is acknowledged. */
  const deliver = (xml: string) =>
    fetch(`${srv.url}/fhir${EU_IMPORT}`, { method: 'POST', headers: { authorization: `Bearer ${ncpToken}`, 'content-type': 'application/xml' }, body: xml });

  it('serves normally before the outage', async () => {
    expect((await get(`/fhir/Patient/${PERSONAS.ms.id}`)).status).toBe(200);
    expect((await get(`/fhir/Patient/${PERSONAS.ms.id}/$summary`)).status).toBe(200);
    if (hasEuImport) expect((await deliver(before.xml)).status).toBe(201);
  });

  it('answers 503 with Retry-After on every route while the store is down, and stays alive', async () => {
    await outage.cut();
    for (const { route, path } of getTargets()) {
      const res = await get(path, route.access !== 'public' && route.access.audit !== false);
      const body = await res.text();
      // A route may refuse the request before it needs the store (a 4xx); it must never answer 500 or 200.
      expect(res.status, `${route.method} ${route.path}: ${body.slice(0, 200)}`).not.toBe(500);
      expect(res.status, `${route.method} ${route.path}`).not.toBe(200);
      if (res.status >= 500) {
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
        const oo = JSON.parse(body) as OperationOutcome;
        expect(oo.resourceType).toBe('OperationOutcome');
        expect(oo.issue[0]!.code).toBe('transient');
        for (const leak of ['ECONNREFUSED', 'terminated', 'select', '127.0.0.1', 'Error']) expect(body).not.toContain(leak);
      }
    }
    const read = await get(`/fhir/Patient/${PERSONAS.ms.id}`);
    expect(read.status).toBe(503);
    if (hasEuImport) {
      const write = await deliver(during.xml);
      expect(write.status).toBe(503);
      expect(write.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${srv.url}/readyz`)).status).toBe(503);
  });

  it('recovers by itself when the store returns, without a restart', async () => {
    const connectionsBefore = outage.proxy?.accepted ?? 0;
    await outage.restore();
    const deadline = Date.now() + 20_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await get(`/fhir/Patient/${PERSONAS.ms.id}`)).status;
      if (status === 200) break;
      expect(status).toBe(503);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    expect((await fetch(`${srv.url}/readyz`)).status).toBe(200);
    expect((await get(`/fhir/Patient/${PERSONAS.ms.id}/$summary`)).status).toBe(200);
    // On PostgreSQL the pool really opened new connections (the old ones died with the cut).
    if (outage.proxy) expect(outage.proxy.accepted).toBeGreaterThan(connectionsBefore);
  });

  it('stores a write retried after the outage once, and a replay of an acknowledged one not again', async () => {
    if (!hasEuImport) return;
    expect((await deliver(during.xml)).status).toBe(201);
    expect((await deliver(before.xml)).status).toBe(200);
    const rows = await outage.direct.query<{ prescription_id: string; n: number }>(
      'select prescription_id, count(*)::int as n from prescription where prescription_id = any($1::text[]) group by prescription_id',
      [[before.id, during.id]],
    );
    expect(Object.fromEntries(rows.rows.map((r) => [r.prescription_id, r.n]))).toEqual({ [before.id]: 1, [during.id]: 1 });
  });

  it('lost nothing it acknowledged: every answer of an audited route has exactly one AuditEvent', async () => {
    const ids = answered.map((a) => a.requestId);
    expect(ids.length).toBeGreaterThan(3);
    const r = await outage.direct.query<{ request_id: string; n: number }>(
      'select request_id, count(*)::int as n from audit_event where request_id = any($1::text[]) group by request_id',
      [ids],
    );
    const found = new Map(r.rows.map((row) => [row.request_id, row.n]));
    for (const a of answered) expect(found.get(a.requestId), `${a.status} answer ${a.requestId}`).toBe(1);
  });
});
