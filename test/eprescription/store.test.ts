// The Norwegian prescription rows on both engines: an import stored with its decision and Provenance,
// idempotent re-import, the NCP query (dispensable only, never group A or B: in SQL and again in code),
// outputs made again when dispensings happened, and the demo seed (idempotent, cheap on restart).
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MedicationRequest } from '@medplum/fhirtypes';
import { PERSONAS } from '../../src/demo/personas.ts';
import { DEMO_PRESCRIPTIONS, demoM1, seedDemoPrescriptions } from '../../src/eprescription/demo.ts';
import type { PipelineDeps } from '../../src/eprescription/pipeline.ts';
import { currentOutputs, importM1, standaloneRequest } from '../../src/eprescription/service.ts';
import { findImportByPrescriptionId, guarded, provenanceOf, readForNcp, readImport, searchForNcp, type ExportRow } from '../../src/eprescription/store.ts';
import { calendarDay } from '../../src/eprescription/rules.ts';
import type { Db } from '../../src/store/db.ts';
import { engines } from '../support/db.ts';
import { depsFor, preparedDb, TEST_OID, TEST_OPERATOR } from './support/pipeline.ts';

const today = (): string => calendarDay(new Date(), 'Europe/Oslo');
const fresh = (key: number) => ({ ...DEMO_PRESCRIPTIONS[key]!, msgId: randomUUID() });

describe.each(engines)('prescription store (%s)', (engine) => {
  let db: Db;
  let deps: PipelineDeps;
  beforeAll(async () => {
    db = await preparedDb(engine);
    deps = depsFor(db);
  });

  it('stores an exportable import with its decision, outputs, group and one Provenance linking them', async () => {
    const p = fresh(0);
    const outcome = await importM1(db, demoM1(p, new Date()), deps);
    expect(outcome.kind).toBe('created');
    if (outcome.kind !== 'created') return;
    const row = outcome.row;
    expect(row).toMatchObject({ prescriptionId: p.msgId, exportable: true, prescriptionGroup: 'C', patientFnr: PERSONAS.addison.fnr, patientId: PERSONAS.addison.id, dispensingsAllowed: 4, dispensingsDone: 0, outputsAtDispensings: 0 });
    expect(row.decision).toMatchObject({ exportable: true, reasons: [], totalDispensings: 4, remainingDispensings: 4 });
    const [prov] = await provenanceOf(db, row.id);
    expect(prov?.target?.[0]?.reference).toBe(`MedicationRequest/${row.id}`);
    expect(prov?.entity?.[0]?.what?.identifier?.value).toBe(p.msgId);
    expect(prov?.entity?.[0]?.what?.display).toContain(row.sourceHash);
    expect(prov?.policy).toEqual(expect.arrayContaining([expect.stringContaining('m1-to-mpd-fhir.csv'), expect.stringContaining('m1-to-ehdsi-cda.csv')]));
    const q = await db.query<{ quantity_prescribed: number; quantity_unit: string }>('select quantity_prescribed::float8 as quantity_prescribed, quantity_unit from prescription where id = $1', [row.id]);
    expect(q.rows[0]).toEqual({ quantity_prescribed: 4, quantity_unit: 'pakning' });
  });

  it('is idempotent by content: the same bytes again are a repeat; nothing is stored twice', async () => {
    const xml = demoM1(fresh(1), new Date());
    const first = await importM1(db, xml, deps);
    const second = await importM1(db, Buffer.from(xml), deps);
    expect(first.kind).toBe('created');
    expect(second.kind).toBe('repeat');
    if (first.kind !== 'created' || second.kind !== 'repeat') return;
    expect(second.row.id).toBe(first.row.id);
    const n = await db.query<{ n: number }>('select count(*)::int as n from prescription where source_hash = $1', [first.row.sourceHash]);
    expect(n.rows[0]?.n).toBe(1);
    expect(await provenanceOf(db, first.row.id)).toHaveLength(1);
  });

  it('keeps concurrent imports of one message to one row', async () => {
    const xml = demoM1(fresh(0), new Date());
    const outcomes = await Promise.all([importM1(db, xml, deps), importM1(db, xml, deps), importM1(db, xml, deps)]);
    expect(outcomes.filter((o) => o.kind === 'created')).toHaveLength(1);
    expect(outcomes.every((o) => o.kind === 'created' || o.kind === 'repeat')).toBe(true);
  });

  it('stores a refusal with every reason and no outputs; the NCP query never sees it', async () => {
    const p = fresh(3);
    const outcome = await importM1(db, demoM1(p, new Date()), deps);
    expect(outcome.kind).toBe('refused');
    const row = await findImportByPrescriptionId(db, p.msgId);
    expect(row).toMatchObject({ exportable: false, prescriptionGroup: 'A' });
    expect(row?.decision.reasons.map((r) => r.code)).toEqual(['NO-EXPORT-GROUP-A']);
    const full = await readImport(db, row!.id);
    expect(full?.bundle).toBeUndefined();
    expect(full?.cdaXml).toBeUndefined();
  });

  it('refuses group A and B rows in SQL even when a row says exportable (a row flipped by hand)', async () => {
    const a = fresh(3);
    const b = fresh(4);
    await importM1(db, demoM1(a, new Date()), deps);
    await importM1(db, demoM1(b, new Date()), deps);
    await db.query(`update prescription set exportable = true where prescription_id = any($1)`, [[a.msgId, b.msgId]]);
    const found = await searchForNcp(db, { patientFnr: PERSONAS.knee.fnr, today: today(), limit: 100 });
    expect(found.rows.map((r) => r.prescriptionId)).not.toContain(a.msgId);
    expect(found.rows.map((r) => r.prescriptionId)).not.toContain(b.msgId);
    const row = await findImportByPrescriptionId(db, a.msgId);
    expect((await readForNcp(db, row!.id)).row).toBeUndefined();
  });

  it('and the code guard drops any group A/B row that reaches it', () => {
    const row = (group: string | undefined, exportable = true): ExportRow =>
      ({ id: randomUUID(), prescriptionId: 'x', exportable, prescriptionGroup: group, decision: { exportable, reasons: [], totalDispensings: 1, remainingDispensings: 1, decidedFor: '2026-01-01' }, status: 'active', dispensingsDone: 0, sourceHash: 'h', createdAt: '' }) as ExportRow;
    const r = guarded([row('C'), row('A'), row('b'), row(undefined), row('C', false)]);
    expect(r.rows.map((x) => x.prescriptionGroup)).toEqual(['C', undefined]);
    expect(r.blocked).toBe(3);
  });

  it("answers the NCP query with the patient's dispensable prescriptions only, by fødselsnummer or by id", async () => {
    const dispensable = fresh(0);
    const used = fresh(1);
    const future = fresh(0);
    await importM1(db, demoM1(dispensable, new Date()), deps);
    const u = await importM1(db, demoM1(used, new Date()), deps);
    if (u.kind === 'created') await db.query('update prescription set dispensings_done = dispensings_allowed where id = $1', [u.row.id]);
    const f = await importM1(db, demoM1(future, new Date()), deps);
    if (f.kind === 'created') await db.query(`update prescription set earliest_dispense = '2999-01-01' where id = $1`, [f.row.id]);
    for (const key of [{ patientFnr: PERSONAS.addison.fnr }, { patientId: PERSONAS.addison.id }]) {
      const ids = (await searchForNcp(db, { ...key, today: today(), limit: 1000 })).rows.map((r) => r.prescriptionId);
      expect(ids).toContain(dispensable.msgId);
      expect(ids).not.toContain(used.msgId);
      expect(ids).not.toContain(future.msgId);
    }
    expect((await searchForNcp(db, { today: today(), limit: 10 })).rows).toEqual([]);
  });

  it('makes the outputs again when the count of dispensings changed, keeping the ids, with a new Provenance', async () => {
    const outcome = await importM1(db, demoM1(fresh(0), new Date()), deps);
    if (outcome.kind !== 'created') throw new Error(outcome.kind);
    const row = (await readForNcp(db, outcome.row.id)).row!;
    // One dispensing so far, in Norway or abroad (the prescription chain's count with Helsebro's own).
    const facts = { dispensingsSoFar: 1, recalled: false, patientRestricted: false, chain: { known: true as const, status: 'E' } };
    const now = await currentOutputs(db, row, deps, facts);
    if (now.kind !== 'outputs') throw new Error(now.kind);
    const mr = standaloneRequest(now.bundle) as MedicationRequest;
    expect(mr.id).toBe(outcome.row.id);
    expect(mr.dispenseRequest?.numberOfRepeatsAllowed).toBe(2);
    expect(now.cda).toContain('<repeatNumber value="3"/>');
    const after = (await readForNcp(db, outcome.row.id)).row!;
    expect(after.outputsAtDispensings).toBe(1);
    expect(await provenanceOf(db, outcome.row.id)).toHaveLength(2);
    // Served again without converting: the stored outputs are current for that count.
    expect(await currentOutputs(db, after, deps, facts)).toEqual({ kind: 'outputs', bundle: after.bundle, cda: after.cdaXml });
    expect(await provenanceOf(db, outcome.row.id)).toHaveLength(2);
  });

  it('serves nothing the chain refuses now, even when the stored outputs are for the current count', async () => {
    const outcome = await importM1(db, demoM1(fresh(0), new Date()), deps);
    if (outcome.kind !== 'created') throw new Error(outcome.kind);
    const row = (await readForNcp(db, outcome.row.id)).row!;
    expect(row.outputsAtDispensings).toBe(0);
    for (const [chain, code] of [
      [{ known: true as const, status: 'T' }, 'NO-EXPORT-RECALLED'],
      [{ known: true as const, status: 'U' }, 'NO-EXPORT-BEING-DISPENSED'],
      [{ known: true as const, status: 'R' }, 'NO-EXPORT-NO-DISPENSINGS-LEFT'],
      [{ known: true as const, status: 'F' }, 'NO-EXPORT-EXPIRED'],
      [{ known: true as const, status: 'X' }, 'NO-EXPORT-INVALID'],
      [{ known: true as const, status: 'B' }, 'NO-EXPORT-CHAIN-STATUS'],
      [{ known: false as const }, 'NO-EXPORT-UNKNOWN-TO-CHAIN'],
    ] as const) {
      const served = await currentOutputs(db, row, deps, { dispensingsSoFar: 0, recalled: chain.known && chain.status === 'T', patientRestricted: false, chain });
      expect(served.kind, code).toBe('refused');
      if (served.kind === 'refused') expect(served.decision.reasons.map((r) => r.code)).toEqual([code]);
    }
    // Nothing was replaced: a refusal leaves the stored outputs as they were.
    expect(await provenanceOf(db, outcome.row.id)).toHaveLength(1);
  });

  it('seeds the demo prescriptions once; a restart imports nothing', async () => {
    const config = { mode: 'demo' as const, helsebroOid: TEST_OID, operator: TEST_OPERATOR };
    await seedDemoPrescriptions(db, config);
    const count = async () => (await db.query<{ n: number }>(`select count(*)::int as n from prescription where prescription_id = any($1)`, [DEMO_PRESCRIPTIONS.map((p) => p.msgId)])).rows[0]?.n;
    expect(await count()).toBe(DEMO_PRESCRIPTIONS.length);
    const before = await db.query<{ n: number }>('select count(*)::int as n from prescription_provenance');
    await seedDemoPrescriptions(db, config);
    expect(await count()).toBe(DEMO_PRESCRIPTIONS.length);
    expect((await db.query<{ n: number }>('select count(*)::int as n from prescription_provenance')).rows[0]?.n).toBe(before.rows[0]?.n);
    for (const p of DEMO_PRESCRIPTIONS) expect((await findImportByPrescriptionId(db, p.msgId))?.exportable, p.msgId).toBe(p.exportable);
  });
});
