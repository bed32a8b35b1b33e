// The EU prescriptions the pharmacy-counter page shows: rows of table `prescription` (migration 0030) with
// origin 'EU', by Helsebro's row id or by the EU prescription id, read through the eDispensation store that
// writes them.
import type { Resource } from '@medplum/fhirtypes';
import { effectiveValidUntil } from '../../edispensation/prescription-facts.ts';
import { findPrescription, readPrescriptionRow } from '../../edispensation/store/prescriptions.ts';
import type { Queryable } from '../../store/db.ts';
import type { PrescriptionFacts } from '../../view/prescription-page.ts';

export interface EuPrescriptionRow {
  id: string;
  patientId?: string | undefined;
  patientFnr?: string | undefined;
  resource?: Resource | undefined;
  facts: PrescriptionFacts;
}

/** The EU prescription with this Helsebro id, or else the one with this EU prescription id. */
export async function findEuPrescription(q: Queryable, id: string): Promise<EuPrescriptionRow | undefined> {
  const byRow = await readPrescriptionRow(q, id);
  const row = byRow?.origin === 'EU' ? byRow : await findPrescription(q, { identifier: { value: id } });
  if (!row || row.origin !== 'EU') return undefined;
  // The day dispensing checks against: an EU prescription without a validity period gets the Norwegian one.
  const validity = effectiveValidUntil(row);
  return {
    id: row.id,
    patientId: row.patientId,
    patientFnr: row.patientFnr,
    resource: row.fhir,
    facts: {
      prescriptionId: row.prescriptionId,
      status: row.status,
      dispensingsAllowed: row.dispensingsAllowed,
      dispensingsDone: row.dispensingsDone,
      quantityPrescribed: row.quantityPrescribed,
      quantityDispensed: row.quantityDispensed,
      quantityUnit: row.quantityUnit,
      validUntil: validity?.date,
      validityDefaulted: validity?.defaulted,
      earliestDispense: row.earliestDispense,
      receivedAt: row.createdAt,
    },
  };
}
