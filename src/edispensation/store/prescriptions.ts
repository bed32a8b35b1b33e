// The prescription rows a dispensation is checked against (table `prescription`, migration 0030), read
// and locked the way dispensing needs them: `select ... for update` inside the dispensing transaction, so
// concurrent dispensings of one prescription queue behind each other and count what remains correctly.
// Dates and numbers are cast to text and float8 in SQL, so both engines hand back the same JS types.
import type { MedicationRequest, Resource } from '@medplum/fhirtypes';
import { PRESCRIPTION_ID_SYSTEM } from '../../fhir/identifiers.ts';
import type { Queryable } from '../../store/db.ts';
import type { PrescriptionRef } from '../model.ts';

export type Origin = 'NO' | 'EU';

export interface PrescriptionRow {
  id: string;
  prescriptionId: string;
  origin: Origin;
  patientId?: string;
  patientFnr?: string;
  exportable: boolean;
  status: string;
  dispensingsAllowed?: number;
  dispensingsDone: number;
  quantityPrescribed?: number;
  quantityDispensed: number;
  quantityUnit?: string;
  validUntil?: string;
  earliestDispense?: string;
  /** The MedicationRequest (or a Bundle holding it) as Helsebro serves it. */
  fhir?: Resource;
  cdaXml?: string;
  createdAt: string;
}

interface DbRow {
  id: string;
  prescription_id: string;
  origin: Origin;
  patient_id: string | null;
  patient_fnr: string | null;
  exportable: boolean;
  status: string;
  dispensings_allowed: number | null;
  dispensings_done: number;
  quantity_prescribed: number | null;
  quantity_dispensed: number;
  quantity_unit: string | null;
  valid_until: string | null;
  earliest_dispense: string | null;
  fhir_bundle: Resource | null;
  cda_xml: string | null;
  created_at: string;
}

const COLUMNS = `id, prescription_id, origin, patient_id, patient_fnr, exportable, status, dispensings_allowed,
  dispensings_done, quantity_prescribed::float8 as quantity_prescribed, quantity_dispensed::float8 as quantity_dispensed,
  quantity_unit, valid_until::text as valid_until, earliest_dispense::text as earliest_dispense, fhir_bundle, cda_xml,
  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at`;

function fromDb(r: DbRow): PrescriptionRow {
  const row: PrescriptionRow = {
    id: r.id,
    prescriptionId: r.prescription_id,
    origin: r.origin,
    exportable: r.exportable,
    status: r.status,
    dispensingsDone: r.dispensings_done,
    quantityDispensed: Number(r.quantity_dispensed),
    createdAt: r.created_at,
  };
  if (r.patient_id !== null) row.patientId = r.patient_id;
  if (r.patient_fnr !== null) row.patientFnr = r.patient_fnr;
  if (r.dispensings_allowed !== null) row.dispensingsAllowed = r.dispensings_allowed;
  if (r.quantity_prescribed !== null) row.quantityPrescribed = Number(r.quantity_prescribed);
  if (r.quantity_unit !== null) row.quantityUnit = r.quantity_unit;
  if (r.valid_until !== null) row.validUntil = r.valid_until;
  if (r.earliest_dispense !== null) row.earliestDispense = r.earliest_dispense;
  if (r.fhir_bundle !== null) row.fhir = r.fhir_bundle;
  if (r.cda_xml !== null) row.cdaXml = r.cda_xml;
  return row;
}

export async function readPrescriptionRow(q: Queryable, id: string): Promise<PrescriptionRow | undefined> {
  const r = await q.query<DbRow>(`select ${COLUMNS} from prescription where id = $1`, [id]);
  return r.rows[0] && fromDb(r.rows[0]);
}

/**
 * The prescription a dispensation names, locked for the rest of the transaction. A logical reference
 * (`MedicationRequest/{id}`) names the row directly; an identifier names it by prescription id: the
 * Norwegian prescription-id system means origin NO, any other system (or none) an EU prescription, whose
 * stored MedicationRequest must then carry the same identifier system when the sender gave one.
 */
export function lockPrescription(q: Queryable, ref: PrescriptionRef): Promise<PrescriptionRow | undefined> {
  return findPrescription(q, ref, true);
}

/** The same lookup without a lock, for reading ahead of the transaction (enrichment). */
export async function findPrescription(q: Queryable, ref: PrescriptionRef, lock = false): Promise<PrescriptionRow | undefined> {
  const forUpdate = lock ? ' for update' : '';
  if (ref.reference?.startsWith('MedicationRequest/')) {
    const id = ref.reference.slice('MedicationRequest/'.length);
    const r = await q.query<DbRow>(`select ${COLUMNS} from prescription where id = $1${forUpdate}`, [id]);
    const row = r.rows[0] && fromDb(r.rows[0]);
    if (row && ref.identifier && !identifierMatches(row, ref.identifier)) return undefined;
    return row;
  }
  const ident = ref.identifier;
  if (!ident) return undefined;
  const origins: Origin[] = ident.system === PRESCRIPTION_ID_SYSTEM ? ['NO'] : ident.system ? ['EU'] : ['NO', 'EU'];
  for (const origin of origins) {
    const r = await q.query<DbRow>(`select ${COLUMNS} from prescription where origin = $1 and prescription_id = $2${forUpdate}`, [origin, ident.value]);
    const row = r.rows[0] && fromDb(r.rows[0]);
    if (row && identifierMatches(row, ident)) return row;
  }
  return undefined;
}

/** An EU prescription id is only unique together with its issuing system. */
function identifierMatches(row: PrescriptionRow, ident: { system?: string; value: string }): boolean {
  if (row.prescriptionId !== ident.value) return false;
  if (!ident.system) return true;
  if (row.origin === 'NO') return ident.system === PRESCRIPTION_ID_SYSTEM;
  const stored = medicationRequestOf(row.fhir)?.identifier?.find((i) => i.value === row.prescriptionId)?.system;
  return stored === undefined || stored === ident.system;
}

/** The MedicationRequest of a stored prescription: the resource itself, or the one in its Bundle. */
export function medicationRequestOf(resource: Resource | undefined): MedicationRequest | undefined {
  if (!resource) return undefined;
  if (resource.resourceType === 'MedicationRequest') return resource;
  if (resource.resourceType === 'Bundle') {
    return resource.entry?.map((e) => e.resource).find((r): r is MedicationRequest => r?.resourceType === 'MedicationRequest');
  }
  return undefined;
}

export interface CounterUpdate {
  dispensingsDone: number;
  quantityDispensed: number;
  status: string;
}

export async function updateCounters(q: Queryable, id: string, u: CounterUpdate): Promise<void> {
  await q.query(
    `update prescription set dispensings_done = $2, quantity_dispensed = $3, status = $4, updated_at = now() where id = $1`,
    [id, u.dispensingsDone, u.quantityDispensed, u.status],
  );
}
