// An EU ePrescription as Helsebro keeps it (Norway as country B): one prescription item as an HL7 Europe MPD
// MedicationRequest with everything it references contained (Patient, Medication, prescriber), so that the
// stored resource reads on its own, plus the facts dispensing is checked against. Both intake formats
// (the NCP's FHIR Bundle and the eHDSI ePrescription CDA) produce this shape. It is never turned into an M1.
import { createHash } from 'node:crypto';
import type { MedicationRequest, Quantity } from '@medplum/fhirtypes';
import { canonicalJson } from '../identity.ts';
import type { IdentifierValue } from '../model.ts';

export interface EuPrescription {
  /** The EU prescription (item) id: what the Norwegian pharmacy keys as ReseptId. */
  prescriptionId: IdentifierValue;
  /** Stored and served; `id` is set by the store. */
  request: MedicationRequest;
  /** Total quantity in packages, when the prescription states it in packages (otherwise not counted). */
  packages?: number;
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

/** Content hash of the normalised prescription: the same prescription delivered again hashes the same. */
export function prescriptionHash(p: EuPrescription): string {
  const { id: _id, ...request } = p.request;
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}
