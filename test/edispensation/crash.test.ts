// Crash safety, end to end: the real server runs as a child process (`node src/main.ts`) while dispensations
// are posted in a loop and its outbox delivers M10s to a counting receiver in this test. The server is killed
// with SIGKILL mid-stream and started again; once the outbox has drained, every dispensation that got a 2xx
// is stored and has exactly one delivered M10 at the receiver, counted by MsgId. (A message may arrive twice
// when the kill falls between delivery and its recording: the receiver deduplicates by MsgId, which is
// what makes at-least-once delivery exactly-once in effect.)
import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { countingReceiver, exited, freePort } from '../support/child-server.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { MedicationDispense, Parameters } from '@medplum/fhirtypes';
import { loadDemoIssuer } from '../../src/auth/demo-issuer.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import type { Db } from '../../src/store/db.ts';
import { engines } from '../support/db.ts';
import { mpdDispense } from './support/messages.ts';
import { insertNoPrescription, type StoredPrescription } from './support/store.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = join(ROOT, 'node_modules/.bin/node');
const PRESCRIPTIONS = 60;


describe.each(engines)('crash safety with the real server (%s)', (engine) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'helsebro-crash-'));
  const schema = `helsebro_crash_${process.pid}`;
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (engine === 'postgres') {
      const admin = await openPostgres({ connectionString: process.env.TEST_DATABASE_URL!, max: 1 });
      await admin.exec(`drop schema if exists ${schema} cascade`);
      await admin.close();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function openStore(): Promise<Db> {
    if (engine === 'pglite') return openPglite(join(dataDir, 'pglite'));
    return openPostgres({ connectionString: process.env.TEST_DATABASE_URL!, schema, max: 2 });
  }

  function start(env: Record<string, string>): Promise<ChildProcess> {
    const proc = spawn(NODE, ['src/main.ts'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 90_000);
      const onData = (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (out.includes('Helsebro listening on')) {
          clearTimeout(timer);
          resolve(proc);
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code}:\n${out}`));
      });
    });
  }


  it('keeps every acknowledged dispensation, and delivers each one M10 exactly once, across a SIGKILL', { timeout: 300_000 }, async () => {
    // The store, prepared the way the M1 import would have left it: prescriptions the NCP may dispense.
    const setup = await openStore();
    await migrate(setup);
    const prescriptions: StoredPrescription[] = [];
    for (let i = 0; i < PRESCRIPTIONS; i++) prescriptions.push(await insertNoPrescription(setup, { dispensingsAllowed: 1, quantityPrescribed: 2 }));
    await setup.close();

    const issuer = await loadDemoIssuer(dataDir);
    const token = await issuer.issueDemoToken({ client: 'ncp-no', scope: 'system/MedicationDispense.crs' });
    // The outbox view is the operator's; the NCP's token is refused there.
    const operatorToken = await issuer.issueDemoToken({ client: 'operator', scope: 'system/MedicationDispense.rs' });
    const receiver = countingReceiver(15);
    await new Promise<void>((r) => receiver.server.listen(0, '127.0.0.1', r));
    const port = await freePort();
    const env: Record<string, string> = {
      PORT: String(port),
      HOST: '127.0.0.1',
      HELSEBRO_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      DEMO_POPULATION_SIZE: '0',
      RATE_LIMIT_PER_MINUTE: '100000',
      M10_DELIVERY_URL: `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/m10`,
      OUTBOX_POLL_MS: '50',
      OUTBOX_RETRY_BASE_MS: '50',
      OUTBOX_RETRY_MAX_MS: '200',
      DELIVERY_TIMEOUT_MS: '1000',
      // The killed server's claims must expire within the test for the restarted one to deliver them.
      OUTBOX_LEASE_MS: '2000',
    };
    if (engine === 'postgres') env.DATABASE_URL = `${process.env.TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const base = `http://127.0.0.1:${port}`;
    const post = (rx: StoredPrescription) =>
      fetch(`${base}/fhir/MedicationDispense`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${token}` },
        body: JSON.stringify(mpdDispense(rx.prescriptionId, { quantity: 2 })),
      });

    child = await start(env);
    const acknowledged = new Map<string, string>(); // prescription id -> MedicationDispense id
    let killed = false;
    let next = 0;
    // Four clients post in a loop; the server is killed once a third of the prescriptions got an answer.
    const client = async () => {
      while (next < prescriptions.length && !killed) {
        const rx = prescriptions[next++]!;
        try {
          const res = await post(rx);
          if (res.status === 201 || res.status === 200) acknowledged.set(rx.prescriptionId, ((await res.json()) as MedicationDispense).id!);
          else throw new Error(`unexpected ${res.status}: ${await res.text()}`);
        } catch (err) {
          if (!killed) throw err;
        }
        if (acknowledged.size >= PRESCRIPTIONS / 3 && !killed) {
          killed = true;
          child!.kill('SIGKILL');
        }
      }
    };
    await Promise.all([client(), client(), client(), client()]);
    await exited(child);
    expect(killed).toBe(true);
    const beforeRestart = acknowledged.size;
    expect(beforeRestart).toBeGreaterThan(0);

    // Restart; the rest of the prescriptions are dispensed against the restarted server too.
    child = await start(env);
    for (const rx of prescriptions.slice(next)) {
      const res = await post(rx);
      expect([200, 201]).toContain(res.status);
      acknowledged.set(rx.prescriptionId, ((await res.json()) as MedicationDispense).id!);
    }

    // Let the outbox drain: nothing pending or in flight (the killed server's claims expire first).
    const undelivered = async (): Promise<number> => {
      const res = await fetch(`${base}/fhir/MedicationDispense/$outbox-status`, { headers: { authorization: `Bearer ${operatorToken}` } });
      // Anything but the status itself (a refusal, an error) must fail the test, not read as an empty outbox.
      if (res.status !== 200) throw new Error(`$outbox-status answered ${res.status}: ${await res.text()}`);
      const p = (await res.json()) as Parameters;
      return (p.parameter ?? [])
        .filter((x) => x.name === 'count')
        .filter((x) => x.part?.some((y) => y.name === 'state' && (y.valueCode === 'pending' || y.valueCode === 'in-flight')))
        .reduce((n, x) => n + (x.part?.find((y) => y.name === 'count')?.valueInteger ?? 0), 0);
    };
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await undelivered()) > 0) await new Promise((r) => setTimeout(r, 100));
    expect(await undelivered()).toBe(0);

    for (const [prescriptionId, dispenseId] of acknowledged) {
      const stored = await fetch(`${base}/fhir/MedicationDispense/${dispenseId}`, { headers: { authorization: `Bearer ${token}` } });
      expect(stored.status, `MedicationDispense/${dispenseId}`).toBe(200);
      const msgIds = receiver.byResept.get(prescriptionId);
      expect(msgIds?.size, `distinct M10s for ${prescriptionId}`).toBe(1);
    }
    child.kill('SIGTERM');
    await exited(child);

    // Nothing is left behind, and nothing was sent that is not stored: every stored dispensation's M10 is
    // delivered, and every M10 the receiver got belongs to a stored dispensation.
    const after = await openStore();
    const rows = await after.query<{ prescription_id: string; state: string; msg_id: string }>(
      `select p.prescription_id, o.state, o.msg_id from dispensation d join prescription p on p.id = d.prescription_row join outbox o on o.dispensation_id = d.id`,
    );
    await after.close();
    expect(rows.rows.filter((r) => r.state !== 'delivered')).toEqual([]);
    expect(rows.rows.length).toBeGreaterThanOrEqual(acknowledged.size);
    const storedMsgIds = new Set(rows.rows.map((r) => r.msg_id));
    for (const [, perResept] of receiver.byResept) for (const msgId of perResept.keys()) expect(storedMsgIds.has(msgId)).toBe(true);
    await new Promise<void>((r) => receiver.server.close(() => r()));
  });
});
