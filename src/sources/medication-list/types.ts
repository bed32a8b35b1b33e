// Native shapes of the medication list as SFM Basis API's `Patient/$getMedication` returns it: a
// Parameters resource whose `medication` parameter is the sfm-MedicationBundle (a document Bundle:
// sfm-MedicationComposition first, then MedicationStatements chained by renewal and the Medications they
// reference by urn:uuid). The head of each chain carries the PLL item id when the patient has a PLL.
// Source: simplifier.net/guide/SFMAPIBasis (getMedication, Getmedicalinformation, sfm-MedicationBundle).
import { z } from 'zod';
import { codeableConcept, coding, extension, fhirDate, namedConcept, text } from '../fhir-shapes.ts';

const ref = z.looseObject({ reference: z.string().max(500).optional(), display: text.optional() });

export const sfmIdentifier = z.looseObject({
  type: z.looseObject({ text: text.optional(), coding: z.array(coding).max(10).optional() }).optional(),
  system: z.string().max(500).optional(),
  value: z.string().max(200).optional(),
});

export const sfmMedicationStatement = z.looseObject({
  resourceType: z.literal('MedicationStatement'),
  id: z.string().max(200).optional(),
  extension: z.array(extension).max(100).optional(),
  identifier: z.array(sfmIdentifier).max(20).optional(),
  status: z.enum(['active', 'completed', 'entered-in-error', 'intended', 'stopped', 'on-hold', 'unknown', 'not-taken']),
  partOf: z.array(ref).max(20).optional(),
  medicationReference: ref.optional(),
  medicationCodeableConcept: namedConcept.optional(),
  effectiveDateTime: fhirDate.optional(),
  effectivePeriod: z.looseObject({ start: fhirDate.optional(), end: fhirDate.optional() }).optional(),
  dateAsserted: fhirDate.optional(),
  reasonCode: z.array(codeableConcept).max(20).optional(),
  note: z.array(z.looseObject({ text })).max(20).optional(),
  dosage: z.array(z.looseObject({ text: text.optional(), sequence: z.number().optional() })).max(20).optional(),
});

export const sfmMedication = z.looseObject({
  resourceType: z.literal('Medication'),
  id: z.string().max(200).optional(),
  code: namedConcept,
  form: codeableConcept.optional(),
  extension: z.array(extension).max(100).optional(),
});

export const sfmBundle = z.looseObject({
  resourceType: z.literal('Bundle'),
  type: z.literal('document'),
  entry: z
    .array(z.looseObject({ fullUrl: z.string().max(500).optional(), resource: z.looseObject({ resourceType: z.string() }) }))
    .max(5000)
    .optional(),
});

export const sfmParameters = z.looseObject({
  resourceType: z.literal('Parameters'),
  parameter: z.array(z.looseObject({ name: z.string(), resource: z.unknown().optional() })).max(50).optional(),
});

export type SfmMedicationStatement = z.infer<typeof sfmMedicationStatement>;
export type SfmMedication = z.infer<typeof sfmMedication>;
export type SfmIdentifier = z.infer<typeof sfmIdentifier>;

/** One line of the medication list: the head-of-chain statement and the medication it names. */
export interface MedicationListItem {
  statement: SfmMedicationStatement;
  medication?: SfmMedication;
}
