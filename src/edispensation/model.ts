// The one shape every eDispensation takes inside Helsebro, whichever format it arrived in
// (HL7 Europe MPD MedicationDispense, eHDSI eDispensation CDA, or a Norwegian pharmacy's M10).
// Parsers produce it, checks judge it, the M10 builder and the EU emitters consume it, and the store
// keeps it whole, so that the foreign pharmacy and pharmacist survive even though the M10 cannot carry them.

/** Where a dispensation came from; decides which checks apply and how a discard is recognised. */
export type DispensationSource = 'fhir-mpd' | 'ehdsi-cda' | 'm10';

/**
 * `completed`: a dispensation took place.
 * `discarded`: an earlier dispensation is withdrawn (eHDSI discard, M10 with Annullering true).
 * `entered-in-error`: a FHIR MedicationDispense re-sent with that status; handled like a discard.
 */
export type DispensationStatus = 'completed' | 'discarded' | 'entered-in-error';

export interface IdentifierValue {
  /** URI (FHIR identifier system, or `urn:oid:` + CDA root); absent when the sender gave none. */
  system?: string;
  value: string;
}

export interface Coded {
  system: string;
  code: string;
  display?: string;
}

export interface Quantity {
  value: number;
  /** Human-readable unit as sent ("1", "pack", "ML"). */
  unit: string;
  /** Coded unit (UCUM or the sender's code system), when sent. */
  system?: string;
  code?: string;
}

/** Which prescription the dispensation fulfils. At least one of the two is present. */
export interface PrescriptionRef {
  /** Prescription identifier: for Norway as country A the M1 MsgId under PRESCRIPTION_ID_SYSTEM; for B the EU prescription id. */
  identifier?: IdentifierValue;
  /** Logical FHIR reference (`MedicationRequest/<id>`) when the dispense points at the resource Helsebro served. */
  reference?: string;
}

export interface PackageInfo {
  /** Free-text description of the pack ("100 stk", "Pinex"). */
  description?: string;
  /** Content of one pack (100 tablets, 125 ml). */
  size?: Quantity;
  /** Container or package type (EDQM package code, or Volven 7484 unit for Norwegian packs). */
  form?: Coded;
}

export interface DispensedProduct {
  /** Name as dispensed (brand name, or NavnFormStyrke for a Norwegian pack). */
  name: string;
  /** Product and pack codes (EU MPID/PCID, the dispensing country's national codes, Norwegian varenummer). */
  codes: Coded[];
  /** Norwegian Nordic article number when the product is a Norwegian pack (string: leading zeros matter). */
  varenummer?: string;
  atc?: Coded;
  /** Strength as the sender wrote it ("500 mg", "1,7 mg/ml"). */
  strength?: string;
  /** Dose form (EDQM, or Volven 7448 for a Norwegian pack). */
  form?: Coded;
  package?: PackageInfo;
  /** Reseptgruppe (Volven 7421) when known; required for the dispensed item in an M10. */
  reseptgruppe?: string;
}

export interface Substitution {
  substituted: boolean;
  /** Why, as text (EU documents carry no coded reason in practice). */
  reason?: string;
  /** The prescribed product, as the dispensing side described it. */
  originalProduct?: DispensedProduct;
}

export interface Organisation {
  name?: string;
  identifiers: IdentifierValue[];
  /** ISO 3166-1 alpha-2. */
  country?: string;
}

export interface Person {
  family?: string;
  given: string[];
  identifiers: IdentifierValue[];
  /** ISO date, when the sender gave one (M10 MsgHead Patient/DateOfBirth). */
  birthDate?: string;
}

export interface Dispensation {
  source: DispensationSource;
  status: DispensationStatus;
  /** The dispensing event's own identifier: the idempotency key (see identity.ts). */
  identifier: IdentifierValue;
  /** For a discard: the identifier of the dispensation it withdraws. */
  discardOf?: IdentifierValue;
  prescription: PrescriptionRef;
  /** Patient identifiers as the sender gave them (cross-checked against the stored prescription). */
  patient?: Person;
  /** ISO 8601 date or dateTime with offset. */
  whenHandedOver: string;
  /** When the sender recorded the dispensation (MPD `recorded`, CDA effectiveTime), when given. */
  recorded?: string;
  product: DispensedProduct;
  quantity: Quantity;
  /** How many days the dispensed amount lasts (MPD daysSupply): stored, served and sent to the NCP; the M10 has no place for it. */
  daysSupply?: Quantity;
  substitution: Substitution;
  pharmacy: Organisation;
  /**
   * M10 only: who the message says sent it (MsgHead Sender's identifiers) and dispensed it (Utleverer HerId),
   * kept apart so each can be held against the reporting client's organisation. Not content: both are
   * also in `pharmacy`.
   */
  m10Parties?: { sender: IdentifierValue[]; utleverer: IdentifierValue };
  pharmacist?: Person;
  dosageText?: string;
  /** Batch (lot) number of the dispensed pack (M10 Utlevering/Batchnr). */
  lotNumber?: string;
  /** The patient refused generic substitution (M10 Utlevering/ByttereservasjonKunde true). */
  customerSubstitutionReservation?: boolean;
  /** The dispensing pharmacist closed the prescription: nothing more is to be dispensed (M10 Avsluttet 1). */
  prescriptionFinished?: boolean;
  /**
   * Interventions other than the choice of another product (M10 Intervensjon with EndringsType D, R or P),
   * as text for the EU note: type, reason code and the pharmacist's Begrunnelse.
   */
  interventions?: string[];
}

export const isRetraction = (d: Pick<Dispensation, 'status'>): boolean => d.status !== 'completed';
