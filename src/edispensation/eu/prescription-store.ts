// EU prescriptions in the shared prescription table (origin 'EU'): stored once per prescription id, in one
// transaction per delivery. The same prescription delivered again (same content) is a replay; other content
// under a prescription id already stored is a conflict, and the delivery stores nothing.
import { randomUUID } from 'node:crypto';
import type { MedicationRequest } from '@medplum/fhirtypes';
import { conflict, type Problem } from '../../fhir/outcomes.ts';
import type { Db, Queryable } from '../../store/db.ts';
import { medicationRequestOf } from '../store/prescriptions.ts';
import { prescriptionHash, type EuPrescription } from './prescription.ts';

export interface EuPrescriptionDelivery {
  prescription: EuPrescription;
  /** The Bundle as received (FHIR intake). */
  sourceJson?: unknown;
  /** The CDA as received (CDA intake). */
  cdaXml?: string;
}

export interface StoredEuPrescription {
  id: string;
  created: boolean;
  request: MedicationRequest;
  /** A Norwegian person number of the patient, when they have one (for the audit trail). */
  patientFnr?: string;
}

export type StoreEuResult = { ok: true; stored: StoredEuPrescription[] } | { ok: false; problem: Problem };

export async function storeEuPrescriptions(
  db: Db,
  deliveries: EuPrescriptionDelivery[],
  audit?: (q: Queryable, created: StoredEuPrescription[]) => Promise<void>,
): Promise<StoreEuResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.tx(async (q) => {
        const stored: StoredEuPrescription[] = [];
        for (const d of deliveries) {
          const one = await storeOne(q, d);
          if ('status' in one) return { ok: false as const, problem: one };
          stored.push(one);
        }
        const created = stored.filter((s) => s.created);
        if (created.length) await audit?.(q, created);
        return { ok: true as const, stored };
      });
    } catch (err) {
      // Two deliveries of one new prescription at once: the unique (origin, prescription_id) stops the
      // second, which then finds the first and answers as a replay or a conflict.
      if (attempt < 3 && (err as { code?: string }).code === '23505') continue;
      throw err;
    }
  }
}

async function storeOne(q: Queryable, d: EuPrescriptionDelivery): Promise<StoredEuPrescription | Problem> {
  const p = d.prescription;
  const hash = prescriptionHash(p);
  const existing = await q.query<{ id: string; source_hash: string; fhir_bundle: MedicationRequest }>(
    `select id, source_hash, fhir_bundle from prescription where origin = 'EU' and prescription_id = $1 for update`,
    [p.prescriptionId.value],
  );
  const row = existing.rows[0];
  if (row) {
    const storedSystem = medicationRequestOf(row.fhir_bundle)?.identifier?.find((i) => i.value === p.prescriptionId.value)?.system;
    if (row.source_hash === hash && storedSystem === p.prescriptionId.system) return { id: row.id, created: false, request: row.fhir_bundle, ...fnr(p) };
    return conflict(`A different EU prescription is already stored under the id ${p.prescriptionId.value}`, { expression: ['MedicationRequest.identifier'] });
  }
  const id = randomUUID();
  const request: MedicationRequest = { ...p.request, id };
  await q.query(
    `insert into prescription (id, prescription_id, origin, patient_fnr, exportable, status, dispensings_allowed,
       quantity_prescribed, quantity_unit, valid_until, earliest_dispense, source_hash, source_json, fhir_bundle, cda_xml)
     values ($1, $2, 'EU', $3, false, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb, $13)`,
    [
      id,
      p.prescriptionId.value,
      p.patientFnr ?? null,
      p.status,
      p.dispensingsAllowed ?? null,
      p.packages ?? p.amount?.value ?? null,
      p.packages !== undefined ? 'pakning' : (p.amount?.unit ?? null),
      p.validUntil ?? null,
      p.earliestDispense ?? null,
      hash,
      d.sourceJson === undefined ? null : JSON.stringify(d.sourceJson),
      JSON.stringify(request),
      d.cdaXml ?? null,
    ],
  );
  return { id, created: true, request, ...fnr(p) };
}

const fnr = (p: EuPrescription): { patientFnr?: string } => (p.patientFnr ? { patientFnr: p.patientFnr } : {});
