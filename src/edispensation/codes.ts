// Stable codes and naming systems of the eDispensation intake. Clients (the NCP, pharmacy systems)
// branch on these codes, so they never change meaning; new situations get new codes.
import type { Coding } from '@medplum/fhirtypes';
import { HELSEBRO_NS } from '../fhir/identifiers.ts';

export const DISPENSE_CHECK_SYSTEM = `${HELSEBRO_NS}/CodeSystem/dispense-check`;

/** Norwegian Nordic article number (varenummer) of a pack. */
export const VARENUMMER_SYSTEM = `${HELSEBRO_NS}/NamingSystem/no-varenummer`;
/** MsgHead MsgId of an M10 received from a Norwegian pharmacy: the dispensation's identifier. */
export const M10_MSGID_SYSTEM = `${HELSEBRO_NS}/NamingSystem/m10-msgid`;
/** Used when a MedicationDispense carries no identifier: the value is its content fingerprint. */
export const DISPENSE_FINGERPRINT_SYSTEM = `${HELSEBRO_NS}/NamingSystem/dispense-fingerprint`;

export const DISPENSE_CHECK = {
  'DISP-PRESCRIPTION-UNKNOWN': 'No stored prescription matches the referenced prescription id',
  'DISP-NOT-EXPORTABLE': 'The prescription was never made available abroad, so it cannot be dispensed abroad',
  'DISP-NOT-DISPENSABLE': 'The prescription can no longer be dispensed',
  'DISP-QUANTITY-EXCEEDED': 'The dispensed quantity is more than what remains on the prescription',
  'DISP-QUANTITY-UNIT': 'The dispensed quantity is in a unit that cannot be compared with what remains on the prescription',
  'DISP-QUANTITY-INVALID': 'The dispensed quantity must be a positive number',
  'DISP-DATE-INVALID': 'The dispensing time is in the future or before the prescription was issued',
  'DISP-PATIENT-MISMATCH': 'The patient of the dispensation is not the patient of the prescription',
  'DISP-WRONG-DIRECTION': 'The prescription does not belong to this flow (Norwegian versus EU prescription)',
  'DISP-DISCARD-UNKNOWN': 'There is no stored dispensation to discard under this identifier',
  'DISP-DISCARD-TOO-LATE': 'A dispensation can only be discarded within 24 hours',
  'DISP-ALREADY-DISCARDED': 'The dispensation has already been discarded',
  'DISP-DISCARD-MISMATCH': 'The discard names another prescription than the dispensation it withdraws',
  'DISP-DISCARD-AMBIGUOUS': 'The withdrawal does not name the dispensation it withdraws (AnnulleringsId), and the prescription has more than one',
  'DISP-STATUS-UNSUPPORTED': 'Only completed dispensations and their withdrawal (entered-in-error) are accepted',
  'DISP-MULTIPLE-PRESCRIPTIONS': 'One dispensation must fulfil exactly one prescription item',
  'DISP-IDENTIFIER-CONFLICT': 'A different dispensation was already received with this identifier',
  'DISP-ELEMENT-NOT-CARRIED': 'The element cannot be forwarded to the Norwegian prescription chain or the NCP, so it is not accepted',
  'DISP-PRODUCT-MISMATCH': 'The dispensed product is not the prescribed substance, strength and form (Norwegian substitution stays within the byttegruppe)',
  'DISP-SUBSTITUTION-NOT-ALLOWED': 'The prescription does not allow substitution, and the dispensed product is not the prescribed one',
  'DISP-CONTROLLED-PRODUCT': 'Narcotic (reseptgruppe A) and habit-forming (reseptgruppe B) medicines are outside cross-border ePrescription',
  'DISP-RX-CONTROLLED-PRODUCT': 'The EU prescription names a narcotic or habit-forming medicine, which is outside cross-border ePrescription; it is not stored',
} as const;

export type DispenseCheckCode = keyof typeof DISPENSE_CHECK;

export const checkCoding = (code: DispenseCheckCode): Coding => ({ system: DISPENSE_CHECK_SYSTEM, code, display: DISPENSE_CHECK[code] });
