// The outbox: exponential backoff with jitter (pure), and the worker against the store (both engines) with a
// local HTTP receiver that fails on command: retries until delivered, marks delivered once, moves a message
// that keeps failing to dead, lets operators send it again, survives a worker that dies mid-delivery, keeps
// an annullering behind the M10 it withdraws, and never lets two workers deliver one message twice.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.ts';
import { createLogger } from '../../src/log.ts';
import { PRESCRIPTION_ID_SYSTEM } from '../../src/fhir/identifiers.ts';
import { afterFailure, retryDelayMs, type RetryPolicy } from '../../src/edispensation/outbox/backoff.ts';
import { folderAdapter, httpAdapter } from '../../src/edispensation/outbox/delivery.ts';
import { claimDue, markDelivered, outboxForDispensation, readOutboxMessage, retryDead } from '../../src/edispensation/outbox/repository.ts';
import { createOutboxWorker } from '../../src/edispensation/outbox/worker.ts';
import { deliveryAdapters } from '../../src/edispensation/outbox/start.ts';
import { loadConfig } from '../../src/config.ts';
import { receiveDispensation } from '../../src/edispensation/receive.ts';
import { engines, getTestDb } from '../support/db.ts';
import { czechDispensation, NCP } from './support/fixtures.ts';
import { insertNoPrescription } from './support/store.ts';
import { validateM10 } from './support/xsd.ts';
import { PRODUCTION_ENV } from '../support/production-env.ts';

const POLICY: RetryPolicy = { baseMs: 1000, maxMs: 60_000, maxAttempts: 5 };

describe('retry policy', () => {
  it('doubles the delay per failure, caps it, and jitters within the upper half', () => {
    expect(retryDelayMs(1, POLICY, () => 1)).toBe(1000);
    expect(retryDelayMs(2, POLICY, () => 1)).toBe(2000);
    expect(retryDelayMs(5, POLICY, () => 1)).toBe(16000);
    expect(retryDelayMs(30, POLICY, () => 1)).toBe(60_000);
    expect(retryDelayMs(3, POLICY, () => 0)).toBe(2000);
    for (let i = 0; i < 200; i++) {
      const d = retryDelayMs(4, POLICY);
      expect(d).toBeGreaterThanOrEqual(4000);
      expect(d).toBeLessThanOrEqual(8000);
    }
    expect(retryDelayMs(10_000, { ...POLICY, maxMs: Number.MAX_SAFE_INTEGER }, () => 1)).toBeLessThan(Number.MAX_SAFE_INTEGER);
  });

  it('gives up after the last attempt or at once on a permanent refusal', () => {
    expect(afterFailure(4, false, POLICY, () => 1)).toEqual({ kind: 'retry', inMs: 8000 });
    expect(afterFailure(5, false, POLICY)).toEqual({ kind: 'dead' });
    expect(afterFailure(1, true, POLICY)).toEqual({ kind: 'dead' });
  });
});

/** A receiver that fails the first `failures` posts per message id (503), then accepts, counting everything. */
class Receiver {
  server!: Server;
  url = '';
  failures = 0;
  status = 503;
  posts: { msgId: string; body: string }[] = [];
  hang = false;
  private seen = new Map<string, number>();

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        if (this.hang) return; // never answers: the caller's timeout must fire
        const msgId = String(req.headers['x-message-id'] ?? '');
        this.posts.push({ msgId, body });
        const n = (this.seen.get(msgId) ?? 0) + 1;
        this.seen.set(msgId, n);
        if (n <= this.failures) {
          res.writeHead(this.status, { 'content-type': 'text/plain' }).end('receiver unavailable');
        } else {
          res.writeHead(200).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/m10`;
  }

  reset(): void {
    this.failures = 0;
    this.status = 503;
    this.posts = [];
    this.hang = false;
    this.seen.clear();
  }

  postsFor(msgId: string): number {
    return this.posts.filter((p) => p.msgId === msgId).length;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe.each(engines)('outbox worker (%s)', (engine) => {
  let db: Db;
  const receiver = new Receiver();
  const log = createLogger('silent');

  beforeAll(async () => {
    db = await getTestDb(engine);
    await receiver.start();
  });
  afterAll(async () => {
    await receiver.stop();
  });
  beforeEach(async () => {
    receiver.reset();
    // Messages other test files left waiting are not this file's to deliver.
    await db.query(`update outbox set state = 'dead', last_error = 'parked by the outbox test' where state in ('pending', 'in-flight')`);
  });

  async function dispense(prescriptionId: string) {
    const d = czechDispensation({
      identifier: { system: 'urn:oid:2.16.17.710.804.1000.990.1.7', value: `CZ-${randomUUID()}` },
      prescription: { identifier: { system: PRESCRIPTION_ID_SYSTEM, value: prescriptionId } },
      whenHandedOver: new Date(Date.now() - 3600_000).toISOString(),
    });
    const r = await receiveDispensation(db, { dispensation: d, source: 'ehdsi-cda', channel: 'ncp' }, { ncp: NCP });
    if (r.kind !== 'created') throw new Error(JSON.stringify(r));
    const [m] = await outboxForDispensation(db, r.row.id);
    return { dispensation: r.row, d, message: m! };
  }

  const worker = (policy: Partial<RetryPolicy> = {}, extra: { leaseMs?: number; workerId?: string; timeoutMs?: number } = {}) =>
    createOutboxWorker({
      db,
      log,
      adapters: { m10: httpAdapter(receiver.url, { timeoutMs: extra.timeoutMs ?? 5000 }) },
      retry: { baseMs: 1, maxMs: 1, maxAttempts: 5, ...policy },
      random: () => 0,
      ...(extra.leaseMs ? { leaseMs: extra.leaseMs } : {}),
      ...(extra.workerId ? { workerId: extra.workerId } : {}),
    });

  it('retries a failing receiver and marks the M10 delivered once it is accepted', async () => {
    const rx = await insertNoPrescription(db);
    const { message } = await dispense(rx.prescriptionId);
    receiver.failures = 3;
    const w = worker();
    const rounds = [];
    for (let i = 0; i < 10; i++) {
      const r = await w.runOnce();
      rounds.push(r);
      if (r.delivered) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(rounds.map((r) => r.retried + r.delivered * 10)).toEqual([1, 1, 1, 10]);
    const after = await readOutboxMessage(db, message.id);
    expect(after).toMatchObject({ state: 'delivered', attempts: 4 });
    expect(after?.lastError).toBeUndefined();
    expect(receiver.postsFor(message.msgId)).toBe(4);
    // Every attempt carried the same message and the same id, so the receiver can deduplicate.
    expect(new Set(receiver.posts.filter((p) => p.msgId === message.msgId).map((p) => p.body)).size).toBe(1);
    expect((await validateM10(receiver.posts[0]!.body)).valid).toBe(true);
    // Delivered is final: nothing is claimed again.
    expect((await w.runOnce()).claimed).toBe(0);
  });

  it('waits the backoff before the next attempt', async () => {
    const rx = await insertNoPrescription(db);
    const { message } = await dispense(rx.prescriptionId);
    receiver.failures = 1;
    const w = worker({ baseMs: 60_000, maxMs: 600_000 });
    expect((await w.runOnce()).retried).toBe(1);
    const after = await readOutboxMessage(db, message.id);
    expect(after?.state).toBe('pending');
    expect(after?.lastError).toMatch(/HTTP 503/);
    const wait = Date.parse(after!.nextAttemptAt) - Date.now();
    // Equal jitter with random 0: half the base delay.
    expect(wait).toBeGreaterThan(20_000);
    expect(wait).toBeLessThan(31_000);
    expect((await w.runOnce()).claimed).toBe(0);
  });

  it('moves a message that keeps failing to dead, and an operator sends it again', async () => {
    const rx = await insertNoPrescription(db);
    const { message } = await dispense(rx.prescriptionId);
    receiver.failures = 1000;
    const w = worker({ maxAttempts: 3 });
    // Each retry is due 1 ms after the failure (the store's clock); run until it settles, however fast the loop.
    for (let i = 0; i < 100 && (await readOutboxMessage(db, message.id))?.state !== 'dead'; i++) {
      await w.runOnce();
      await new Promise((r) => setTimeout(r, 2));
    }
    const dead = await readOutboxMessage(db, message.id);
    expect(dead).toMatchObject({ state: 'dead', attempts: 3 });
    expect(dead?.lastError).toMatch(/503/);
    expect(receiver.postsFor(message.msgId)).toBe(3);

    receiver.failures = 0;
    receiver.reset();
    expect(await retryDead(db, message.id)).toBe(true);
    expect(await retryDead(db, message.id)).toBe(false);
    expect((await w.runOnce()).delivered).toBe(1);
    expect(await readOutboxMessage(db, message.id)).toMatchObject({ state: 'delivered', attempts: 1 });
  });

  it('gives up at once when the receiver refuses the message (4xx)', async () => {
    const rx = await insertNoPrescription(db);
    const { message } = await dispense(rx.prescriptionId);
    receiver.failures = 1;
    receiver.status = 400;
    expect((await worker().runOnce()).dead).toBe(1);
    expect(await readOutboxMessage(db, message.id)).toMatchObject({ state: 'dead', attempts: 1 });
  });

  it('retries when the receiver does not answer in time', async () => {
    const rx = await insertNoPrescription(db);
    const { message } = await dispense(rx.prescriptionId);
    receiver.hang = true;
    expect((await worker({}, { timeoutMs: 200 }).runOnce()).retried).toBe(1);
    expect((await readOutboxMessage(db, message.id))?.lastError).toMatch(/no answer within 200 ms/);
  });

  it('takes over from a worker that died mid-delivery; the dead worker cannot settle it afterwards', async () => {
    const rx = await insertNoPrescription(db);
    const { message } = await dispense(rx.prescriptionId);
    // A worker claims the message and then dies (never settles it).
    // The lease is long enough that the check below runs inside it on a busy machine.
    const leaseMs = 2000;
    const [claimed] = await claimDue(db, { channels: ['m10'], workerId: 'dies', limit: 10, leaseMs });
    expect(claimed?.id).toBe(message.id);
    expect((await worker().runOnce()).claimed).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, leaseMs + 100));
    expect((await worker().runOnce()).delivered).toBe(1);
    expect(await markDelivered(db, message.id, claimed!.claimToken!)).toBe(false);
    expect(await readOutboxMessage(db, message.id)).toMatchObject({ state: 'delivered', attempts: 2 });
  });

  it('keeps the annullering behind the M10 it withdraws', async () => {
    const rx = await insertNoPrescription(db);
    const { dispensation, d } = await dispense(rx.prescriptionId);
    const withdrawn = await receiveDispensation(db, { dispensation: { ...d, status: 'discarded', discardOf: d.identifier }, source: 'discard-operation', channel: 'ncp' }, { ncp: NCP });
    expect(withdrawn.kind).toBe('withdrawn');
    const [original] = await outboxForDispensation(db, dispensation.id);
    receiver.failures = 1;
    const w = worker({ baseMs: 60_000, maxMs: 60_000 });
    const first = await w.runOnce();
    // Only the original was claimed; it failed, and the annullering waits behind it.
    expect(first).toMatchObject({ claimed: 1, retried: 1 });
    expect((await w.runOnce()).claimed).toBe(0);
    receiver.failures = 0;
    await db.query(`update outbox set next_attempt_at = now() where id = $1`, [original!.id]);
    expect((await w.runOnce()).delivered).toBe(1);
    expect((await w.runOnce()).delivered).toBe(1);
    const bodies = receiver.posts.filter((p) => p.body.includes(`<ReseptId>${rx.prescriptionId}</ReseptId>`)).map((p) => p.body);
    expect(bodies.map((b) => b.includes('<Annullering>true</Annullering>'))).toEqual([false, false, true]);
  });

  it('lets several workers run at once without delivering any message twice', async () => {
    const messages = [];
    for (let i = 0; i < 12; i++) {
      const rx = await insertNoPrescription(db);
      messages.push((await dispense(rx.prescriptionId)).message);
    }
    const workers = Array.from({ length: 4 }, (_, i) => worker({}, { workerId: `w${i}` }));
    for (let round = 0; round < 6; round++) await Promise.all(workers.map((w) => w.runOnce()));
    for (const m of messages) {
      expect(receiver.postsFor(m.msgId), m.msgId).toBe(1);
      expect((await readOutboxMessage(db, m.id))?.state).toBe('delivered');
    }
  });

  it('writes one file per message in demo mode', async () => {
    const rx = await insertNoPrescription(db);
    const { message } = await dispense(rx.prescriptionId);
    const dir = mkdtempSync(join(tmpdir(), 'helsebro-outbox-'));
    const w = createOutboxWorker({ db, log, adapters: { m10: folderAdapter(dir) } });
    expect((await w.runOnce()).delivered).toBeGreaterThanOrEqual(1);
    const file = readFileSync(join(dir, `${message.msgId}.xml`), 'utf8');
    expect(file).toBe(message.payload);
  });

  it('runs as a loop that is woken by new messages and stops cleanly', async () => {
    const w = worker();
    w.start();
    const rx = await insertNoPrescription(db);
    const { message } = await dispense(rx.prescriptionId);
    const deadline = Date.now() + 5000;
    while ((await readOutboxMessage(db, message.id))?.state !== 'delivered' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await w.stop();
    expect((await readOutboxMessage(db, message.id))?.state).toBe('delivered');
  });
});

describe('http adapter', () => {
  it('treats a refused connection as a transient failure', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const result = await httpAdapter(`http://127.0.0.1:${port}/m10`, { timeoutMs: 1000 }).deliver({
      id: 'x', channel: 'm10', msgId: 'm', dispensationId: 'd', contentType: 'application/xml', payload: '<x/>', state: 'in-flight', attempts: 1, nextAttemptAt: '', createdAt: '',
    });
    expect(result).toMatchObject({ ok: false, permanent: false });
  });
});

describe('delivery configuration', () => {
  const prod = PRODUCTION_ENV;

  it('posts to the configured URLs, writes files in demo mode without one, and leaves production messages waiting', () => {
    const withUrls = deliveryAdapters(loadConfig({ M10_DELIVERY_URL: 'https://rf.example/m10', NCP_DELIVERY_URL: 'https://ncp.example/ed', HELSEBRO_DATA_DIR: '/tmp/hb' }));
    expect(withUrls.m10?.describe).toBe('http https://rf.example/m10');
    expect(withUrls.ncp?.describe).toBe('http https://ncp.example/ed');
    const demo = deliveryAdapters(loadConfig({ HELSEBRO_DATA_DIR: '/tmp/hb' }));
    expect(demo.m10?.describe).toBe('folder /tmp/hb/outbox/m10');
    expect(demo.ncp?.describe).toBe('folder /tmp/hb/outbox/ncp');
    expect(deliveryAdapters(loadConfig(prod))).toEqual({});
    expect(deliveryAdapters(loadConfig({ ...prod, M10_DELIVERY_URL: 'https://rf.example/m10' })).ncp).toBeUndefined();
  });

  it('refuses outbox settings out of range', () => {
    expect(() => loadConfig({ OUTBOX_WORKERS: '-1' })).toThrow(/OUTBOX_WORKERS/);
    expect(() => loadConfig({ OUTBOX_MAX_ATTEMPTS: '0' })).toThrow(/OUTBOX_MAX_ATTEMPTS/);
    expect(() => loadConfig({ HELSEBRO_OID: '2.999.x' })).toThrow(/HELSEBRO_OID/);
    expect(loadConfig({ OUTBOX_WORKERS: '3' }).outbox.workers).toBe(3);
  });
});
