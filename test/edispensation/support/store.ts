// Stored prescriptions for the store-backed tests. A Norwegian row stands for an imported M1 (issue 5's
// pipeline writes these in production); every call makes a fresh prescription id, so tests sharing the
// worker's database never see each other's rows.
import { randomUUID } from 'node:crypto';
import type { MedicationRequest } from '@medplum/fhirtypes';
import type { Db, Queryable } from '../../../src/store/db.ts';
import { parseEuPrescriptionCda } from '../../../src/edispensation/eu/parse-prescription-cda.ts';
import { storeEuPrescriptions } from '../../../src/edispensation/eu/prescription-store.ts';
import { euPrescriptionCda } from './messages.ts';
import { PRESCRIPTION_ID_SYSTEM } from '../../../src/fhir/identifiers.ts';
import { addison } from './fixtures.ts';

export interface NoPrescriptionOptions {
  exportable?: boolean;
  status?: string;
  dispensingsAllowed?: number | null;
  dispensingsDone?: number;
  quantityPrescribed?: number | null;
  quantityUnit?: string | null;
  validUntil?: string | null;
  earliestDispense?: string | null;
  authoredOn?: string;
  patientId?: string | null;
  patientFnr?: string | null;
}

export interface StoredPrescription {
  id: string;
  prescriptionId: string;
}

/** A Norwegian (M1) prescription made available abroad, as the M1 import would have stored it. */
export async function insertNoPrescription(q: Queryable, o: NoPrescriptionOptions = {}): Promise<StoredPrescription> {
  const id = randomUUID();
  const prescriptionId = randomUUID();
  const request: MedicationRequest = {
    resourceType: 'MedicationRequest',
    id,
    identifier: [{ system: PRESCRIPTION_ID_SYSTEM, value: prescriptionId }],
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: { text: 'Hydrocortone Tab 20 mg' },
    subject: { reference: `Patient/${addison.id}` },
    authoredOn: o.authoredOn ?? '2026-09-01',
  };
  await q.query(
    `insert into prescription (id, prescription_id, origin, patient_id, patient_fnr, exportable, decision, status,
       dispensings_allowed, dispensings_done, quantity_prescribed, quantity_unit, valid_until, earliest_dispense,
       source_hash, fhir_bundle)
     values ($1, $2, 'NO', $3, $4, $5, '{}'::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb)`,
    [
      id,
      prescriptionId,
      o.patientId === undefined ? addison.id : o.patientId,
      o.patientFnr === undefined ? addison.fnr : o.patientFnr,
      o.exportable ?? true,
      o.status ?? 'active',
      o.dispensingsAllowed === undefined ? 3 : o.dispensingsAllowed,
      o.dispensingsDone ?? 0,
      o.quantityPrescribed === undefined ? 6 : o.quantityPrescribed,
      o.quantityUnit === undefined ? 'pakning' : o.quantityUnit,
      o.validUntil === undefined ? '2099-12-31' : o.validUntil,
      o.earliestDispense === undefined ? null : o.earliestDispense,
      `test-${prescriptionId}`,
      JSON.stringify(request),
    ],
  );
  return { id, prescriptionId };
}

export async function prescriptionCounters(q: Queryable, id: string): Promise<{ done: number; quantity: number; status: string }> {
  const r = await q.query<{ done: number; quantity: number; status: string }>(
    'select dispensings_done as done, quantity_dispensed::float8 as quantity, status from prescription where id = $1',
    [id],
  );
  return r.rows[0]!;
}

export async function count(q: Queryable, sql: string, params: unknown[]): Promise<number> {
  const r = await q.query<{ n: number }>(`select count(*)::int as n from (${sql}) x`, params);
  return r.rows[0]!.n;
}

/** An EU prescription as the NCP delivers it (the official Lantus ePrescription CDA under a fresh id). */
export async function insertEuPrescription(db: Db, sample: 'lantus' | 'canesten' = 'lantus'): Promise<StoredPrescription & { root: string }> {
  const { xml, prescriptionId, root } = euPrescriptionCda(sample);
  const parsed = parseEuPrescriptionCda(xml);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problem));
  const stored = await storeEuPrescriptions(db, [{ prescription: parsed.value, cdaXml: xml }]);
  if (!stored.ok) throw new Error(JSON.stringify(stored.problem));
  return { id: stored.stored[0]!.id, prescriptionId, root };
}
