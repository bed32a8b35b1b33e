// A fleet: two Helsebro processes (`node src/main.ts`) on one PostgreSQL, as behind a load balancer. The
// same M1 and the same dispensation posted to both at once are stored once; their outbox workers deliver
// each M10 exactly once while one process is SIGKILLed mid-delivery; and a summary asked of either is the
// same document apart from its identifiers and timestamp. PostgreSQL only: PGlite is one process's store.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { countingReceiver, exited, freePort } from '../support/child-server.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, MedicationDispense, Parameters } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoIssuer } from '../../src/auth/demo-issuer.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import type { Db } from '../../src/store/db.ts';
import { mpdDispense } from '../edispensation/support/messages.ts';
import { insertNoPrescription, type StoredPrescription } from '../edispensation/support/store.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = join(ROOT, 'node_modules/.bin/node');
const DATABASE_URL = process.env.TEST_DATABASE_URL;
const PRESCRIPTIONS = 40;


interface Instance {
  name: string;
  base: string;
  proc: ChildProcess;
}

function start(name: string, env: Record<string, string>): Promise<Instance> {
  const proc = spawn(NODE, ['src/main.ts'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${out}`)), 120_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('Helsebro listening on')) {
        clearTimeout(timer);
        resolve({ name, base: `http://127.0.0.1:${env.PORT}`, proc });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${out}`));
    });
  });
}


/** A summary Bundle without what differs by design between two assemblies: ids, fullUrls and times. */
function comparable(bundle: Bundle): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (['id', 'fullUrl', 'timestamp', 'date', 'lastUpdated', 'identifier'].includes(k)) continue;
        if (k === 'reference' && typeof x === 'string' && x.startsWith('urn:uuid:')) continue;
        out[k] = strip(x);
      }
      return out;
    }
    if (typeof v === 'string') return v.replace(/urn:uuid:[0-9a-f-]{36}/g, 'urn:uuid:*');
    return v;
  };
  return strip(bundle);
}

describe('two Helsebro processes on one PostgreSQL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'helsebro-fleet-'));
  const schema = `helsebro_fleet_${process.pid}`;
  const receiver = countingReceiver(20);
  const instances: Instance[] = [];
  let store: Db;
  let ncpToken = '';
  let operatorToken = '';
  let clinicianToken = '';
  let env: (port: number) => Record<string, string>;

  beforeAll(async () => {
    if (!DATABASE_URL) throw new Error('The fleet test needs PostgreSQL: set TEST_DATABASE_URL (.ci/run does)');
    const admin = await openPostgres({ connectionString: DATABASE_URL, max: 1 });
    await admin.exec(`drop schema if exists ${schema} cascade`);
    await admin.close();
    store = await openPostgres({ connectionString: DATABASE_URL, schema, max: 4 });
    await migrate(store);
    const issuer = await loadDemoIssuer(dataDir);
    ncpToken = await issuer.issueDemoToken({ client: 'ncp-no', scope: 'system/MedicationDispense.crus system/MedicationRequest.crs' });
    operatorToken = await issuer.issueDemoToken({ client: 'operator', scope: 'system/MedicationDispense.rus' });
    clinicianToken = await issuer.issueDemoToken({ hpr: '9144889', scope: 'user/*.rs', purpose: 'TREAT' });
    await new Promise<void>((r) => receiver.server.listen(0, '127.0.0.1', r));
    const delivery = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/m10`;
    env = (port) => ({
      PORT: String(port),
      HOST: '127.0.0.1',
      HELSEBRO_DATA_DIR: dataDir,
      DATABASE_URL: `${DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      LOG_LEVEL: 'warn',
      DEMO_POPULATION_SIZE: '0',
      RATE_LIMIT_PER_MINUTE: '100000',
      M10_DELIVERY_URL: delivery,
      OUTBOX_POLL_MS: '50',
      OUTBOX_RETRY_BASE_MS: '50',
      OUTBOX_RETRY_MAX_MS: '200',
      DELIVERY_TIMEOUT_MS: '1000',
      OUTBOX_LEASE_MS: '2000',
    });
    // Both start at once, as a fleet does after a deploy: migrations and demo seeding race and must not fail.
    instances.push(...(await Promise.all([start('A', env(await freePort())), start('B', env(await freePort()))])));
  }, 300_000);

  afterAll(async () => {
    for (const i of instances) if (i.proc.exitCode === null && i.proc.signalCode === null) i.proc.kill('SIGKILL');
    await Promise.all(instances.map((i) => exited(i.proc)));
    await store?.exec(`drop schema if exists ${schema} cascade`).catch(() => undefined);
    await store?.close();
    await new Promise<void>((r) => receiver.server.close(() => r()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  const call = (i: Instance, path: string, init: RequestInit & { token?: string } = {}) =>
    fetch(`${i.base}${path}`, { ...init, headers: { authorization: `Bearer ${init.token ?? ncpToken}`, ...(init.headers as Record<string, string>) } });

  it('stores the same M1 posted to both at once exactly once', async () => {
    const m1 = readFileSync(join(ROOT, 'test/fixtures/m1/official/Utleverer sender oppgjørskrav til Helfo/M1 Resept1.xml'));
    const post = (i: Instance) =>
      call(i, '/fhir/MedicationRequest/$import-m1', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: new Uint8Array(m1) });
    const answers = await Promise.all([post(instances[0]!), post(instances[1]!)]);
    const statuses = answers.map((a) => a.status).sort();
    // Exportable or refused, both instances answer alike: one stored the M1, the other answered the repeat.
    expect(statuses[0] === statuses[1] || statuses.join() === '200,201').toBe(true);
    expect(statuses.every((s) => [200, 201, 422].includes(s))).toBe(true);
    const rows = await store.query<{ n: number }>(`select count(*)::int as n from prescription where prescription_id = $1`, ['3b7e90c8-6b29-4358-a567-180dcb8ab0c6']);
    expect(rows.rows[0]!.n).toBe(1);
  });

  it('stores the same dispensation posted to both at once exactly once, with one M10', async () => {
    const rx = await insertNoPrescription(store, { dispensingsAllowed: 2, quantityPrescribed: 4 });
    const body = JSON.stringify(mpdDispense(rx.prescriptionId, { quantity: 2 }));
    const post = (i: Instance) => call(i, '/fhir/MedicationDispense', { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body });
    const answers = await Promise.all([post(instances[0]!), post(instances[1]!)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 201]);
    const ids = await Promise.all(answers.map(async (a) => ((await a.json()) as MedicationDispense).id));
    expect(ids[0]).toBe(ids[1]);
    const rows = await store.query<{ d: number; o: number }>(
      `select (select count(*)::int from dispensation d join prescription p on p.id = d.prescription_row where p.prescription_id = $1) as d,
              (select count(*)::int from outbox o join dispensation d on d.id = o.dispensation_id join prescription p on p.id = d.prescription_row where p.prescription_id = $1) as o`,
      [rx.prescriptionId],
    );
    expect(rows.rows[0]).toEqual({ d: 1, o: 1 });
  });

  it('gives the same summary from either instance, apart from identifiers and timestamp', async () => {
    const ask = async (i: Instance) => {
      const res = await call(i, `/fhir/Patient/${PERSONAS.ms.id}/$summary`, { token: clinicianToken, headers: { accept: 'application/fhir+json' } });
      expect(res.status, i.name).toBe(200);
      return (await res.json()) as Bundle;
    };
    const [a, b] = await Promise.all([ask(instances[0]!), ask(instances[1]!)]);
    expect(a.identifier?.value).not.toBe(b.identifier?.value);
    expect(comparable(a)).toEqual(comparable(b));
  });

  it('delivers every M10 exactly once while one instance is SIGKILLed mid-delivery', async () => {
    const prescriptions: StoredPrescription[] = [];
    for (let i = 0; i < PRESCRIPTIONS; i++) prescriptions.push(await insertNoPrescription(store, { dispensingsAllowed: 1, quantityPrescribed: 2 }));
    const [a, b] = [instances[0]!, instances[1]!];
    const acknowledged = new Map<string, string>();
    let killed = false;
    // Alternate between the instances; kill A once a third is acknowledged, while deliveries are in flight.
    for (const [n, rx] of prescriptions.entries()) {
      const target = killed || n % 2 === 1 ? b : a;
      const res = await call(target, '/fhir/MedicationDispense', {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify(mpdDispense(rx.prescriptionId, { quantity: 2 })),
      });
      expect([200, 201], `${target.name} ${await res.clone().text()}`).toContain(res.status);
      acknowledged.set(rx.prescriptionId, ((await res.json()) as MedicationDispense).id!);
      if (!killed && acknowledged.size >= PRESCRIPTIONS / 3) {
        killed = true;
        a.proc.kill('SIGKILL');
        await exited(a.proc);
      }
    }
    expect(killed).toBe(true);

    // B alone drains the outbox, A's expired claims included.
    const undelivered = async (): Promise<number> => {
      const res = await call(b, '/fhir/MedicationDispense/$outbox-status', { token: operatorToken });
      const p = (await res.json()) as Parameters;
      return (p.parameter ?? [])
        .filter((x) => x.name === 'count' && x.part?.some((y) => y.name === 'state' && (y.valueCode === 'pending' || y.valueCode === 'in-flight')))
        .reduce((sum, x) => sum + (x.part?.find((y) => y.name === 'count')?.valueInteger ?? 0), 0);
    };
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && (await undelivered()) > 0) await new Promise((r) => setTimeout(r, 200));
    expect(await undelivered()).toBe(0);
    for (const prescriptionId of acknowledged.keys()) {
      expect(receiver.byResept.get(prescriptionId)?.size, `distinct M10s for ${prescriptionId}`).toBe(1);
    }
  }, 240_000);
});
