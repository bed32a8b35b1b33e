// Receiving dispensations against the store (both engines): one transaction per dispensation, replays
// and conflicts, the checks with their codes, counters, withdrawal, and the M10 in the outbox.
import { beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/store/db.ts';
import { PRESCRIPTION_ID_SYSTEM } from '../../src/fhir/identifiers.ts';
import { receiveDispensation, type ReceiveResult } from '../../src/edispensation/receive.ts';
import { outboxForDispensation } from '../../src/edispensation/outbox/repository.ts';
import type { Dispensation } from '../../src/edispensation/model.ts';
import { engines, getTestDb } from '../support/db.ts';
import { validateM10 } from './support/xsd.ts';
import { czechDispensation, NCP } from './support/fixtures.ts';
import { count, insertNoPrescription, prescriptionCounters } from './support/store.ts';

const deps = { ncp: NCP, now: () => new Date('2026-11-20T12:00:00Z') };

function dispensationFor(prescriptionId: string, over: Partial<Dispensation> = {}): Dispensation {
  return czechDispensation({
    identifier: { system: 'urn:oid:2.16.17.710.804.1000.990.1.7', value: `CZ-${randomUUID()}` },
    prescription: { identifier: { system: PRESCRIPTION_ID_SYSTEM, value: prescriptionId } },
    ...over,
  });
}

const codes = (r: ReceiveResult) => (r.kind === 'refused' ? r.problem.issues.map((i) => i.details?.coding?.[0]?.code) : []);

describe.each(engines)('receiveDispensation (%s)', (engine) => {
  let db: Db;
  beforeAll(async () => {
    db = await getTestDb(engine);
  });

  it('stores a dispensation, counts it on the prescription and puts a schema-valid M10 in the outbox', async () => {
    const rx = await insertNoPrescription(db, { dispensingsAllowed: 3, quantityPrescribed: 6 });
    const r = await receiveDispensation(db, { dispensation: dispensationFor(rx.prescriptionId), source: 'ehdsi-cda', channel: 'ncp' }, deps);
    if (r.kind !== 'created') throw new Error(JSON.stringify(r));
    expect(r.row.resource.id).toBe(r.row.id);
    expect(r.row.resource.status).toBe('completed');
    expect(await prescriptionCounters(db, rx.id)).toEqual({ done: 1, quantity: 2, status: 'active' });
    const out = await outboxForDispensation(db, r.row.id);
    expect(out).toHaveLength(1);
    expect(out[0]!.channel).toBe('m10');
    expect(out[0]!.payload).toContain(`<ReseptId>${rx.prescriptionId}</ReseptId>`);
    const v = await validateM10(out[0]!.payload);
    expect(v.valid, v.output).toBe(true);
  });

  it('takes one withdrawal however it is sent again (operation, CDA discard, entered-in-error)', async () => {
    const rx = await insertNoPrescription(db);
    const d = dispensationFor(rx.prescriptionId);
    const created = await receiveDispensation(db, { dispensation: d, source: 'ehdsi-cda', channel: 'ncp' }, deps);
    expect(created.kind).toBe('created');
    const viaOperation = await receiveDispensation(db, { dispensation: { ...d, status: 'discarded', discardOf: d.identifier }, source: 'discard-operation', channel: 'ncp' }, deps);
    expect(viaOperation.kind).toBe('withdrawn');
    // The NCP's own discard of the same dispensation, with other content around it, is the same withdrawal.
    const viaFhir = await receiveDispensation(
      db,
      { dispensation: { ...d, source: 'fhir-mpd', status: 'entered-in-error', discardOf: d.identifier, quantity: { value: 1, unit: '1' } }, source: 'fhir-mpd', channel: 'ncp' },
      deps,
    );
    expect(viaFhir.kind).toBe('replayed');
    expect(viaFhir.kind === 'replayed' && viaFhir.row.resource.status).toBe('entered-in-error');
    expect(await count(db, 'select 1 from outbox where order_key = $1', [rx.id])).toBe(2);
  });

  it('refuses a withdrawal that names another prescription than the dispensation it withdraws', async () => {
    const rx = await insertNoPrescription(db);
    const other = await insertNoPrescription(db);
    const d = dispensationFor(rx.prescriptionId);
    await receiveDispensation(db, { dispensation: d, source: 'ehdsi-cda', channel: 'ncp' }, deps);
    const wrong = { ...d, status: 'discarded' as const, discardOf: d.identifier, prescription: { identifier: { system: PRESCRIPTION_ID_SYSTEM, value: other.prescriptionId } } };
    const r = await receiveDispensation(db, { dispensation: wrong, source: 'ehdsi-cda', channel: 'ncp' }, deps);
    expect(codes(r)).toEqual(['DISP-DISCARD-MISMATCH']);
    expect(await prescriptionCounters(db, rx.id)).toMatchObject({ done: 1 });
  });

  it('keeps a refused dispensation out of the store entirely', async () => {
    const rx = await insertNoPrescription(db, { quantityPrescribed: 1 });
    const r = await receiveDispensation(db, { dispensation: dispensationFor(rx.prescriptionId), source: 'ehdsi-cda', channel: 'ncp' }, deps);
    expect(codes(r)).toEqual(['DISP-QUANTITY-EXCEEDED']);
    expect(await count(db, 'select 1 from dispensation where prescription_row = $1', [rx.id])).toBe(0);
    expect(await count(db, 'select 1 from outbox where order_key = $1', [rx.id])).toBe(0);
    expect(await prescriptionCounters(db, rx.id)).toEqual({ done: 0, quantity: 0, status: 'active' });
  });

  it('rolls the whole dispensation back when its audit record cannot be written', async () => {
    const rx = await insertNoPrescription(db);
    const failing = { ...deps, audit: async () => Promise.reject(new Error('audit store unavailable')) };
    await expect(receiveDispensation(db, { dispensation: dispensationFor(rx.prescriptionId), source: 'ehdsi-cda', channel: 'ncp' }, failing)).rejects.toThrow('audit store unavailable');
    expect(await count(db, 'select 1 from dispensation where prescription_row = $1', [rx.id])).toBe(0);
    expect(await count(db, 'select 1 from outbox where order_key = $1', [rx.id])).toBe(0);
    expect(await prescriptionCounters(db, rx.id)).toMatchObject({ done: 0 });
  });
});
