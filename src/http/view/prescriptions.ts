// The EU prescriptions the pharmacy-counter page shows: rows of table `prescription` (migration 0030) with
// origin 'EU', by Helsebro's row id or by the EU prescription id. Read-only; the EU import (src/edispensation)
// writes them. Numbers and dates are cast in SQL so PGlite and PostgreSQL hand back the same JS types.
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../store/db.ts';
import type { PrescriptionFacts } from '../../view/prescription-page.ts';

export interface EuPrescriptionRow {
  id: string;
  patientId?: string | undefined;
  patientFnr?: string | undefined;
  resource?: Resource | undefined;
  facts: PrescriptionFacts;
}

interface DbRow {
  id: string;
  prescription_id: string;
  patient_id: string | null;
  patient_fnr: string | null;
  status: string;
  dispensings_allowed: number | null;
  dispensings_done: number;
  quantity_prescribed: number | null;
  quantity_dispensed: number;
  quantity_unit: string | null;
  valid_until: string | null;
  earliest_dispense: string | null;
  fhir_bundle: Resource | null;
  created_at: string;
}

const COLUMNS = `id, prescription_id, patient_id, patient_fnr, status, dispensings_allowed, dispensings_done,
  quantity_prescribed::float8 as quantity_prescribed, quantity_dispensed::float8 as quantity_dispensed, quantity_unit,
  valid_until::text as valid_until, earliest_dispense::text as earliest_dispense, fhir_bundle,
  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as created_at`;

const orUndefined = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

function fromDb(r: DbRow): EuPrescriptionRow {
  return {
    id: r.id,
    patientId: orUndefined(r.patient_id),
    patientFnr: orUndefined(r.patient_fnr),
    resource: orUndefined(r.fhir_bundle),
    facts: {
      prescriptionId: r.prescription_id,
      status: r.status,
      dispensingsAllowed: orUndefined(r.dispensings_allowed),
      dispensingsDone: Number(r.dispensings_done),
      quantityPrescribed: r.quantity_prescribed === null ? undefined : Number(r.quantity_prescribed),
      quantityDispensed: Number(r.quantity_dispensed),
      quantityUnit: orUndefined(r.quantity_unit),
      validUntil: orUndefined(r.valid_until),
      earliestDispense: orUndefined(r.earliest_dispense),
      receivedAt: r.created_at,
    },
  };
}

/** The EU prescription with this Helsebro id, or else the one with this EU prescription id (unique per origin). */
export async function findEuPrescription(q: Queryable, id: string): Promise<EuPrescriptionRow | undefined> {
  const byRow = await q.query<DbRow>(`select ${COLUMNS} from prescription where id = $1 and origin = 'EU'`, [id]);
  if (byRow.rows[0]) return fromDb(byRow.rows[0]);
  const byId = await q.query<DbRow>(`select ${COLUMNS} from prescription where origin = 'EU' and prescription_id = $1 limit 2`, [id]);
  return byId.rows.length === 1 ? fromDb(byId.rows[0]!) : undefined;
}
