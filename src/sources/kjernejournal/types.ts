// Native shapes of NHN's critical-information FHIR API (Kjernejournal "kritisk informasjon"): the
// Kj* profiles on AllergyIntolerance, Condition, Procedure, DeviceUseStatement (+ contained KjDevice)
// and Flag, their searchset Bundles, and the /status answer with the patient's privacy settings.
// Sources: NHN developer portal, kritisk-info-fhir-api pages (see shared/domain/ips-norway.md §4.4).
// The schemas check what the mapper relies on and let everything else through untouched.
import { z } from 'zod';
import { annotation, codeableConcept, extension, fhirDate, namedConcept, period, reference, text, type ShapeCodeableConcept, type ShapeCoding } from '../fhir-shapes.ts';

export const KJ_SD = 'http://nhn.no/kj/fhir/StructureDefinition';
export { KJ_PRESUMED_EXT } from '../../fhir/display-texts.ts';
export const KJ_IMPLANTED_EXT_SUFFIX = 'implanted';

const base = {
  id: z.string().min(1).max(200),
  meta: z.looseObject({ versionId: z.string().max(100).optional(), profile: z.array(z.string()).optional() }).optional(),
  extension: z.array(extension).max(100).optional(),
};

export const kjAllergyIntolerance = z.looseObject({
  resourceType: z.literal('AllergyIntolerance'),
  ...base,
  clinicalStatus: codeableConcept.optional(),
  verificationStatus: codeableConcept.optional(),
  type: z.enum(['allergy', 'intolerance']).optional(),
  category: z.array(z.enum(['food', 'medication', 'environment', 'biologic'])).optional(),
  criticality: z.enum(['low', 'high', 'unable-to-assess']).optional(),
  code: namedConcept,
  patient: reference.optional(),
  onsetDateTime: fhirDate.optional(),
  recordedDate: fhirDate.optional(),
  lastOccurrence: fhirDate.optional(),
  reaction: z
    .array(
      z.looseObject({
        substance: codeableConcept.optional(),
        manifestation: z.array(namedConcept).min(1).max(50),
        description: text.optional(),
        onset: fhirDate.optional(),
        severity: z.enum(['mild', 'moderate', 'severe']).optional(),
      }),
    )
    .max(50)
    .optional(),
  note: z.array(annotation).max(50).optional(),
});

export const kjCondition = z.looseObject({
  resourceType: z.literal('Condition'),
  ...base,
  clinicalStatus: codeableConcept.optional(),
  verificationStatus: codeableConcept.optional(),
  category: z.array(codeableConcept).max(20).optional(),
  code: namedConcept,
  subject: reference.optional(),
  onsetDateTime: fhirDate.optional(),
  abatementDateTime: fhirDate.optional(),
  recordedDate: fhirDate.optional(),
  note: z.array(annotation).max(50).optional(),
});

export const kjProcedure = z.looseObject({
  resourceType: z.literal('Procedure'),
  ...base,
  status: z.enum(['preparation', 'in-progress', 'not-done', 'on-hold', 'stopped', 'completed', 'entered-in-error', 'unknown']),
  category: codeableConcept.optional(),
  code: namedConcept,
  subject: reference.optional(),
  performedDateTime: fhirDate.optional(),
  performedPeriod: period.optional(),
  note: z.array(annotation).max(50).optional(),
});

export const kjDevice = z.looseObject({
  resourceType: z.literal('Device'),
  id: z.string().min(1).max(200),
  deviceName: z.array(z.looseObject({ name: text, type: z.string().max(50) })).max(10).optional(),
  type: codeableConcept.optional(),
  manufacturer: text.optional(),
  modelNumber: z.string().max(200).optional(),
});

export const kjDeviceUseStatement = z.looseObject({
  resourceType: z.literal('DeviceUseStatement'),
  ...base,
  status: z.enum(['active', 'completed', 'entered-in-error', 'intended', 'stopped', 'on-hold']),
  contained: z.array(z.looseObject({ resourceType: z.string() })).max(10).optional(),
  subject: reference.optional(),
  device: reference,
  timingDateTime: fhirDate.optional(),
  timingPeriod: period.optional(),
  bodySite: codeableConcept.optional(),
  note: z.array(annotation).max(50).optional(),
});

export const kjFlag = z.looseObject({
  resourceType: z.literal('Flag'),
  ...base,
  status: z.enum(['active', 'inactive', 'entered-in-error']),
  category: z.array(codeableConcept).max(20).optional(),
  code: namedConcept,
  subject: reference.optional(),
  period: period.optional(),
});

export const kjSearchset = z.looseObject({
  resourceType: z.literal('Bundle'),
  type: z.literal('searchset'),
  // How many records match in all, and links to further pages: the answer may be one page of several.
  total: z.number().int().nonnegative().optional(),
  link: z.array(z.looseObject({ relation: z.string().max(40), url: z.string().max(4000) })).max(20).optional(),
  entry: z.array(z.looseObject({ resource: z.looseObject({ resourceType: z.string() }) })).max(1000).optional(),
});

/** The parts of a search's OperationOutcome entry that say whether the answer is whole. */
export const kjOutcome = z.looseObject({
  resourceType: z.literal('OperationOutcome'),
  issue: z.array(z.looseObject({ severity: z.string().max(20), code: z.string().max(40), diagnostics: z.string().max(2000).optional() })).max(100),
});

/** The /status answer. `privacySetting` follows the naming of NHN's sibling status endpoints. */
export const kjStatus = z.looseObject({
  patientNIN: z.string().max(20).optional(),
  hasCriticalInformation: z.boolean(),
  hasActiveCriticalInformation: z.boolean().optional(),
  lastChangedDateTime: z.string().max(40).nullable().optional(),
  privacySetting: z
    .looseObject({
      hasReservationKjernejournal: z.boolean().optional(),
      isRestricted: z.boolean().optional(),
      isBlocked: z.boolean().optional(),
      /** A child (12-16) has reserved their whole record against access by guardians (vergeinnsynsreservasjon). */
      hasGuardianAccessReservation: z.boolean().optional(),
    })
    .optional(),
  isUserBlocked: z.boolean().optional(),
});

export type KjCoding = ShapeCoding;
export type KjCodeableConcept = ShapeCodeableConcept;
export type KjAllergyIntolerance = z.infer<typeof kjAllergyIntolerance>;
export type KjCondition = z.infer<typeof kjCondition>;
export type KjProcedure = z.infer<typeof kjProcedure>;
export type KjDevice = z.infer<typeof kjDevice>;
export type KjDeviceUseStatement = z.infer<typeof kjDeviceUseStatement>;
export type KjFlag = z.infer<typeof kjFlag>;
export type KjStatus = z.infer<typeof kjStatus>;

/** The resource types the adapter reads, in the order it asks for them. */
export const KJ_READ_TYPES = ['AllergyIntolerance', 'Condition', 'Procedure', 'DeviceUseStatement', 'Flag'] as const;
export type KjReadType = (typeof KJ_READ_TYPES)[number];

/** Everything Kjernejournal holds about one patient, validated. */
export interface KjRecords {
  status: KjStatus;
  allergies: KjAllergyIntolerance[];
  conditions: KjCondition[];
  procedures: KjProcedure[];
  devices: KjDeviceUseStatement[];
  flags: KjFlag[];
}

/** The critical-information types (KI-standard) a Condition can be, told apart by its Kj profile. */
export const KJ_CONDITION_KIND = {
  critical: `${KJ_SD}/KjConditionCriticalMedicalCondition`,
  anesthesia: `${KJ_SD}/KjConditionComplicationsOfAnesthesia`,
  transplant: `${KJ_SD}/KjConditionTransplantsAndOtherForeignBodies`,
  infection: `${KJ_SD}/KjConditionInfection`,
} as const;
export type KjConditionKind = keyof typeof KJ_CONDITION_KIND | 'other';
