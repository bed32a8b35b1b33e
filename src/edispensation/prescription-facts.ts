// What the checks need to know about a stored prescription, derived from its row (pure), and the counter
// changes an accepted dispensation or discard makes to it.
import type { Patient } from '@medplum/fhirtypes';
import { OID, parsePersonNumber } from '../fhir/identifiers.ts';
import type { PrescriptionFacts } from './checks.ts';
import type { IdentifierValue, Quantity } from './model.ts';
import { medicationRequestOf, type CounterUpdate, type PrescriptionRow } from './store/prescriptions.ts';

/** A prescription that does not limit the number of dispensings is limited by its quantity alone. */
export const UNCOUNTED_DISPENSINGS = 1_000_000;

const PACK_WORDS = new Set(['', '1', '{pack}', '{package}', 'pack', 'package', 'pakning', 'pakninger', 'pk']);

export const isPackUnit = (unit: string | undefined): boolean => PACK_WORDS.has((unit ?? '').trim().toLowerCase());

/**
 * `dispensingsSoFar`: for a Norwegian prescription, the dispensings made in Norway and abroad together
 * (Reseptformidleren's count plus Helsebro's own not yet delivered, dispensings-so-far.ts); without it,
 * Helsebro's own count of the dispensings reported to it.
 */
export function prescriptionFacts(row: PrescriptionRow | undefined, dispensingsSoFar?: number): PrescriptionFacts {
  if (!row) return { exists: false, exportable: false, isEuPrescription: false, status: 'unknown', remainingDispensings: 0 };
  const request = medicationRequestOf(row.fhir);
  const facts: PrescriptionFacts = {
    exists: true,
    exportable: row.exportable,
    isEuPrescription: row.origin === 'EU',
    status: row.status,
    remainingDispensings: row.dispensingsAllowed === undefined ? UNCOUNTED_DISPENSINGS : row.dispensingsAllowed - (dispensingsSoFar ?? row.dispensingsDone),
    patientIdentifiers: patientIdentifiers(row),
  };
  if (dispensingsSoFar !== undefined && row.dispensingsAllowed !== undefined) facts.remainingByOwnCount = row.dispensingsAllowed - row.dispensingsDone;
  if (row.origin === 'EU') {
    const patient = euPatient(row);
    const name = patient?.name?.find((n) => n.use === 'official') ?? patient?.name?.[0];
    if (name && (name.family || name.given?.length)) facts.patientName = { ...(name.family ? { family: name.family } : {}), given: name.given ?? [] };
    if (patient?.birthDate) facts.patientBirthDate = patient.birthDate;
  }
  const validity = effectiveValidUntil(row);
  if (validity) facts.validUntil = validity.date;
  if (row.earliestDispense) facts.earliestDispense = row.earliestDispense;
  if (request?.authoredOn) facts.issuedOn = request.authoredOn;
  if (row.quantityPrescribed !== undefined) facts.remainingQuantity = remainingQuantity(row);
  return facts;
}

/**
 * The last day the prescription may be dispensed. An EU prescription that states no validity period is
 * dispensed under the Norwegian rule (the dispensing country's rules apply, eHN guideline Art. 7): a
 * prescription expires after its reseptgyldighet counted from the day it was issued (M1 Utloper =
 * Forskrivningsdato + FEST Reseptgyldighet), which is one year for the medicines cross-border ePrescription
 * covers (the shorter validities belong to the groups A and B it excludes). So: authoredOn plus one year.
 * Without authoredOn (the MPD profile requires it) the prescription is not taken as valid for ever either:
 * it is then counted from the day Helsebro received it.
 */
export function effectiveValidUntil(row: PrescriptionRow): { date: string; defaulted: boolean } | undefined {
  if (row.validUntil) return { date: row.validUntil, defaulted: false };
  if (row.origin !== 'EU') return undefined;
  const issued = medicationRequestOf(row.fhir)?.authoredOn ?? row.createdAt;
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(issued ?? '');
  if (!day) return undefined;
  const end = new Date(Date.UTC(Number(day[1]) + EU_DEFAULT_VALIDITY_YEARS, Number(day[2]) - 1, Number(day[3])));
  return { date: end.toISOString().slice(0, 10), defaulted: true };
}

export const EU_DEFAULT_VALIDITY_YEARS = 1;

function remainingQuantity(row: PrescriptionRow): Quantity {
  const value = Math.round(((row.quantityPrescribed ?? 0) - row.quantityDispensed) * 1e6) / 1e6;
  const unit = row.quantityUnit ?? 'pakning';
  return isPackUnit(unit) ? { value, unit, code: '{pack}' } : { value, unit };
}

/** The identifiers the dispensation's patient is cross-checked against. */
function patientIdentifiers(row: PrescriptionRow): IdentifierValue[] {
  if (row.origin === 'NO') {
    if (!row.patientFnr) return [];
    return [{ system: parsePersonNumber(row.patientFnr)?.kind === 'dnr' ? OID.dnr : OID.fnr, value: row.patientFnr }];
  }
  return (euPatient(row)?.identifier ?? [])
    .filter((i) => i.value)
    .map((i) => (i.system ? { system: i.system, value: i.value! } : { value: i.value! }));
}

/** The patient of an EU prescription, as the NCP delivered it (contained in the stored MedicationRequest). */
export function euPatient(row: PrescriptionRow): Patient | undefined {
  const request = medicationRequestOf(row.fhir);
  const ref = request?.subject?.reference;
  return request?.contained?.find((r): r is Patient => r.resourceType === 'Patient' && `#${r.id}` === ref);
}

/** The identifier an EU prescription names its patient by (for the audit trail of a patient with no Norwegian number). */
export function euPatientIdentifier(row: PrescriptionRow): { system?: string; value: string } | undefined {
  if (row.origin !== 'EU') return undefined;
  const id = euPatient(row)?.identifier?.find((i) => i.value);
  return id ? { ...(id.system ? { system: id.system } : {}), value: id.value! } : undefined;
}

/** Counters after an accepted dispensing: one dispensing more, the counted quantity added. */
export function afterDispense(row: PrescriptionRow, counted: number | undefined, remainingAfter: number): CounterUpdate {
  return {
    dispensingsDone: row.dispensingsDone + 1,
    quantityDispensed: round(row.quantityDispensed + (counted ?? 0)),
    status: remainingAfter <= 0 ? 'completed' : row.status,
  };
}

/** Counters after an accepted discard: the withdrawn dispensing and its quantity given back. */
export function afterDiscard(row: PrescriptionRow, counted: number | undefined): CounterUpdate {
  return {
    dispensingsDone: Math.max(0, row.dispensingsDone - 1),
    quantityDispensed: Math.max(0, round(row.quantityDispensed - (counted ?? 0))),
    // Only a prescription finished by dispensing reopens; a recalled or expired one stays as it is.
    status: row.status === 'completed' ? 'active' : row.status,
  };
}

const round = (n: number): number => Math.round(n * 1e6) / 1e6;
