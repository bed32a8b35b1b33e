// The error boundary: an unexpected failure is a 500 OperationOutcome without internals, and /readyz
// tells the truth when the store is gone.
import { createConnection, type AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { createAuth } from '../../src/auth/setup.ts';
import { loadConfig } from '../../src/config.ts';
import { createApp } from '../../src/http/app.ts';
import { isClientAbort } from '../../src/http/client-errors.ts';
import { isStoreUnreachable } from '../../src/store/db.ts';
import type { RouteDef } from '../../src/http/types.ts';
import { createLogger } from '../../src/log.ts';
import { metricsText } from '../../src/metrics/registry.ts';
import type { Db } from '../../src/store/db.ts';

const brokenDb: Db = {
  engine: 'postgres',
  query: () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2')),
  tx: () => Promise.reject(new Error('down')),
  exec: () => Promise.reject(new Error('down')),
  ping: () => Promise.reject(new Error('down')),
  close: () => Promise.resolve(),
};

const explodingRoute: RouteDef = {
  method: 'GET',
  path: '/Patient/:id',
  resourceType: 'Patient',
  interaction: 'read',
  access: 'public',
  documentation: 'test route that throws',
  handler: async (_req, ctx) => {
    await ctx.db.query('select * from patient where fnr = $1', ['05886610019']);
    return { status: 200, resource: { resourceType: 'Patient' } };
  },
};

/** A store the driver has lost mid-request: what pg raises when PostgreSQL refuses the connection. */
const storeDownRoute: RouteDef = {
  method: 'POST',
  path: '/Patient/$store-down',
  resourceType: 'Patient',
  interaction: 'operation',
  access: 'public',
  accepts: ['json'],
  documentation: 'test route whose store is unreachable',
  handler: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:5432'), { code: 'ECONNREFUSED' })),
};

/** Every answer counted with status 503 so far, over all routes. */
async function count503(): Promise<number> {
  const { body } = await metricsText();
  return body
    .split('\n')
    .filter((l) => l.startsWith('helsebro_http_requests_total{') && l.includes('status="503"'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** Sends the head and part of a body, then closes the connection, as a client giving up mid-upload does. */
async function abandonUpload(url: string, path: string): Promise<void> {
  const { hostname, port } = new URL(url);
  const socket = createConnection({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nContent-Length: 1000\r\n\r\n{"a":`);
  await new Promise((r) => setTimeout(r, 100));
  socket.destroy();
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let server: Server | undefined;
afterEach(() => server?.close());

async function serve(routes: RouteDef[], lines: string[]): Promise<string> {
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const config = loadConfig({ HELSEBRO_DATA_DIR: '/tmp/helsebro-test-data' });
  const app = createApp({
    config,
    db: brokenDb,
    log: createLogger('info', sink),
    routes,
    version: 'test',
    auth: await createAuth(config),
    patientFacts: () => Promise.reject(new Error('unused')),
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server!.once('listening', r));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

describe('error boundary', () => {
  it('turns an unexpected exception into a 500 OperationOutcome with no stack, SQL or connection detail', async () => {
    const lines: string[] = [];
    const url = await serve([explodingRoute], lines);
    const res = await fetch(`${url}/fhir/Patient/x`);
    expect(res.status).toBe(500);
    const body = await res.text();
    const oo = JSON.parse(body) as OperationOutcome;
    expect(oo.issue[0]!.code).toBe('exception');
    for (const leak of ['ECONNREFUSED', 'hunter2', 'select', 'at ', '.ts:', 'Error']) expect(body).not.toContain(leak);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    // The log keeps the detail for operators, tied to the request id.
    expect(lines.join('')).toContain(res.headers.get('x-request-id')!);
  });

  it('takes a client that hangs up mid-upload for what it is: no store-outage warning and no 503, while a real outage is still one', async () => {
    const lines: string[] = [];
    const url = await serve([storeDownRoute], lines);
    const before = await count503();
    await abandonUpload(url, '/fhir/Patient/$store-down');
    await until(() => lines.some((l) => l.includes('request aborted by the client') || l.includes('store unreachable')));
    const abandoned = lines.map((l) => JSON.parse(l) as { level: number | string; msg: string; received?: number; expected?: number });
    expect(lines.join('')).not.toContain('store unreachable');
    const line = abandoned.find((l) => l.msg === 'request aborted by the client')!;
    expect(line).toMatchObject({ received: 5, expected: 1000 });
    expect([30, 'info']).toContain(line.level);
    expect(lines.join('')).not.toContain('store unreachable');
    expect(abandoned.filter((l) => l.msg !== 'request aborted by the client').map((l) => l.msg)).not.toContain('unhandled error');
    expect(await count503()).toBe(before);

    // The same route with its store gone: still the 503 and the warning operators alert on.
    const res = await fetch(`${url}/fhir/Patient/$store-down`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: '{"resourceType":"Parameters"}' });
    expect(res.status).toBe(503);
    await until(() => lines.some((l) => l.includes('store unreachable')));
    await until(() => lines.some((l) => l.includes('"status":503')));
    expect(await count503()).toBe(before + 1);
  });

  it('tells a client abort from a store connection error with the same code', () => {
    const rawBodyAbort = Object.assign(new Error('request aborted'), { type: 'request.aborted', code: 'ECONNABORTED', status: 400 });
    const nodeAbort = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    const storeAbort = Object.assign(new Error('connect ECONNABORTED 10.0.0.7:5432'), { code: 'ECONNABORTED' });
    const storeReset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect([rawBodyAbort, nodeAbort].map(isClientAbort)).toEqual([true, true]);
    expect([storeAbort, storeReset].map(isClientAbort)).toEqual([false, false]);
    expect([storeAbort, storeReset].map((e) => isStoreUnreachable(e))).toEqual([true, true]);
  });

  it('reports not ready when the store is unreachable, while staying alive', async () => {
    const url = await serve([], []);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
  });
});
