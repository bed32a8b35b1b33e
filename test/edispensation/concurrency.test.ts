// Parallel dispensations against one prescription never over-dispense. On PostgreSQL the requests really run
// in parallel (a pool of connections, one transaction each); the prescription row lock serialises them where
// it matters. PGlite runs one transaction at a time and must give the same answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MedicationDispense, OperationOutcome } from '@medplum/fhirtypes';
import type { Db } from '../../src/store/db.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { mpdDispense } from './support/messages.ts';
import { count, insertNoPrescription, prescriptionCounters } from './support/store.ts';

describe.each(engines)('parallel dispensations (%s)', (engine) => {
  let srv: TestServer;
  let db: Db;

  beforeAll(async () => {
    db = await getTestDb(engine);
    srv = await startTestServer(engine, { OUTBOX_WORKERS: '0', RATE_LIMIT_PER_MINUTE: '100000' });
  });
  afterAll(async () => {
    await srv.close();
  });

  const post = (body: unknown) =>
    srv.fetchAs('system/MedicationDispense.c', '/fhir/MedicationDispense', { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) }, { client: 'ncp-no' });

  it('accepts at most what remains when 20 dispensations race for 10 packages', async () => {
    const rx = await insertNoPrescription(db, { dispensingsAllowed: null, quantityPrescribed: 10 });
    // 20 x 3 packages = 60 asked for, 10 available: at most 3 can be accepted (9 packages).
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(mpdDispense(rx.prescriptionId, { quantity: 3 }))));
    const statuses = answers.map((r) => r.status);
    const accepted = statuses.filter((s) => s === 201).length;
    expect(accepted * 3).toBeLessThanOrEqual(10);
    expect(accepted).toBe(3);
    expect(statuses.filter((s) => s === 422)).toHaveLength(17);
    for (const r of answers.filter((a) => a.status === 422)) {
      expect(((await r.json()) as OperationOutcome).issue.map((i) => i.details?.coding?.[0]?.code)).toContain('DISP-QUANTITY-EXCEEDED');
    }
    expect(await prescriptionCounters(db, rx.id)).toEqual({ done: 3, quantity: 9, status: 'active' });
    expect(await count(db, 'select 1 from dispensation where prescription_row = $1', [rx.id])).toBe(3);
    expect(await count(db, 'select 1 from outbox where order_key = $1', [rx.id])).toBe(3);
  });

  it('accepts exactly the dispensings allowed when they race', async () => {
    const rx = await insertNoPrescription(db, { dispensingsAllowed: 4, quantityPrescribed: null });
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(mpdDispense(rx.prescriptionId, { quantity: 1 }))));
    expect(answers.filter((r) => r.status === 201)).toHaveLength(4);
    expect(await prescriptionCounters(db, rx.id)).toMatchObject({ done: 4, status: 'completed' });
    // The last accepted M10 finishes the prescription; exactly one says so.
    const finished = await count(db, `select 1 from outbox where order_key = $1 and payload like '%<Avsluttet V="1"%'`, [rx.id]);
    expect(finished).toBe(1);
  });

  it('stores one dispensation when the same one is sent 10 times at once', async () => {
    const rx = await insertNoPrescription(db);
    const body = mpdDispense(rx.prescriptionId, { quantity: 1 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(body)));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const ids = new Set(await Promise.all(answers.map(async (r) => ((await r.json()) as MedicationDispense).id)));
    expect(ids.size).toBe(1);
    expect(await count(db, 'select 1 from outbox where order_key = $1', [rx.id])).toBe(1);
    expect(await prescriptionCounters(db, rx.id)).toMatchObject({ done: 1, quantity: 1 });
  });
});
