// An EU ePrescription as Helsebro keeps it (Norway as country B): one prescription item as an HL7 Europe MPD
// MedicationRequest with everything it references contained (Patient, Medication, prescriber), so that the
// stored resource reads on its own, plus the facts dispensing is checked against. Both intake formats
// (the NCP's FHIR Bundle and the eHDSI ePrescription CDA) produce this shape. It is never turned into an M1.
import { createHash } from 'node:crypto';
import type { Medication, MedicationRequest, Quantity } from '@medplum/fhirtypes';
import { CODE_SYSTEM } from '../../fhir/identifiers.ts';
import { unprocessable, type Problem } from '../../fhir/outcomes.ts';
import { isControlledAtc } from '../../registries/controlled-atc.ts';
import { checkCoding } from '../codes.ts';
import { medicationAtc, toAmount } from './dispense-rules.ts';
import { canonicalJson } from '../identity.ts';
import type { IdentifierValue } from '../model.ts';

export interface EuPrescription {
  /** The EU prescription (item) id: what the Norwegian pharmacy keys as ReseptId. */
  prescriptionId: IdentifierValue;
  /** Stored and served; `id` is set by the store. */
  request: MedicationRequest;
  /** Total quantity in packages, when the prescription states it in packages. */
  packages?: number;
  /**
   * Otherwise the prescribed amount (21 vials, 300 ml) in a common unit (stk, ml, g, dose), or in the unit as
   * sent when Helsebro cannot place it (then no dispensing can be compared with it, and each is refused with
   * DISP-QUANTITY-UNIT rather than taken unchecked).
   */
  amount?: { value: number; unit: string };
  /** Dispensings allowed in total, when the prescription says (numberOfRepeatsAllowed + 1). */
  dispensingsAllowed?: number;
  validUntil?: string;
  earliestDispense?: string;
  status: string;
  /** A Norwegian person number among the patient's identifiers (an EEA citizen with a D-nummer). */
  patientFnr?: string;
}

/** Units meaning "number of packages" in EU documents (UCUM unity, annotations, words). */
const PACKAGE_UNITS = new Set(['1', '{pack}', '{package}', '{packages}', 'pack', 'package', 'packages', 'pk', '{box}', 'box']);

export function isPackageQuantity(q: Pick<Quantity, 'unit' | 'code'> | undefined): boolean {
  if (!q) return false;
  const unit = (q.code ?? q.unit ?? '1').trim().toLowerCase();
  return PACKAGE_UNITS.has(unit);
}

/** The prescribed amount of a prescription that does not count packages, in the unit dispensing is compared in. */
export function prescribedAmount(q: Pick<Quantity, 'value' | 'unit' | 'code'>): { value: number; unit: string } | undefined {
  if (typeof q.value !== 'number' || !(q.value > 0)) return undefined;
  return toAmount(q.value, q.code, q.unit) ?? { value: q.value, unit: (q.code ?? q.unit ?? '').slice(0, 30) || '?' };
}

/** An ATC code of the prescribed product in a class of narcotic or habit-forming medicines, if it has one. */
export function controlledPrescribedAtc(request: MedicationRequest): string | undefined {
  const ref = request.medicationReference?.reference;
  const med = request.contained?.find((r): r is Medication => r.resourceType === 'Medication' && `#${r.id}` === ref);
  const atcs = [
    ...(request.medicationCodeableConcept?.coding ?? []).filter((c) => c.system === CODE_SYSTEM.atc).map((c) => c.code),
    medicationAtc(med),
    ...(med?.ingredient ?? []).flatMap((i) => i.itemCodeableConcept?.coding ?? []).filter((c) => c.system === CODE_SYSTEM.atc).map((c) => c.code),
  ];
  return atcs.find((a) => isControlledAtc(a));
}

/** The refusal of an EU prescription for a narcotic or habit-forming medicine (outside the cross-border scope). */
export function controlledRefusal(atc: string, expression: string): Problem {
  return unprocessable(
    `Legemidler med ATC ${atc} er narkotiske eller vanedannende og hører ikke til grensekryssende e-resept; resepten lagres ikke / ATC ${atc} is a narcotic or habit-forming medicine, outside cross-border ePrescription (eHN guideline Art. 1(3)); the prescription is not stored`,
    { expression: [expression], details: [checkCoding('DISP-RX-CONTROLLED-PRODUCT')] },
  );
}

/** Content hash of the normalised prescription: the same prescription delivered again hashes the same. */
export function prescriptionHash(p: EuPrescription): string {
  const { id: _id, ...request } = p.request;
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}
