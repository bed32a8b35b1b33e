// The error boundary: an unexpected failure is a 500 OperationOutcome without internals, and /readyz
// tells the truth when the store is gone.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { createAuth } from '../../src/auth/setup.ts';
import { loadConfig } from '../../src/config.ts';
import { createApp } from '../../src/http/app.ts';
import type { RouteDef } from '../../src/http/types.ts';
import { createLogger } from '../../src/log.ts';
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

  it('reports not ready when the store is unreachable, while staying alive', async () => {
    const url = await serve([], []);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
  });
});
