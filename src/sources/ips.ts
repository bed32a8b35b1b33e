// IPS 2.0 canonicals and the FHIR code systems the mappers write. Kept beside the mappers (not in
// summary/) because sources may not import summary/; summary/ imports them from here.
import type { CodeableConcept, Extension } from '@medplum/fhirtypes';
import { HELSEBRO_NS } from '../fhir/identifiers.ts';

const IPS_SD = 'http://hl7.org/fhir/uv/ips/StructureDefinition';

export const IPS_PROFILE = {
  bundle: `${IPS_SD}/Bundle-uv-ips`,
  composition: `${IPS_SD}/Composition-uv-ips`,
  patient: `${IPS_SD}/Patient-uv-ips`,
  allergyIntolerance: `${IPS_SD}/AllergyIntolerance-uv-ips`,
  condition: `${IPS_SD}/Condition-uv-ips`,
  medicationStatement: `${IPS_SD}/MedicationStatement-uv-ips`,
  medication: `${IPS_SD}/Medication-uv-ips`,
  procedure: `${IPS_SD}/Procedure-uv-ips`,
  deviceUseStatement: `${IPS_SD}/DeviceUseStatement-uv-ips`,
  device: `${IPS_SD}/Device-uv-ips`,
  flag: `${IPS_SD}/Flag-alert-uv-ips`,
  organization: `${IPS_SD}/Organization-uv-ips`,
} as const;

export const TERMINOLOGY = {
  allergyClinical: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
  allergyVerification: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionVerification: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  conditionCategory: 'http://terminology.hl7.org/CodeSystem/condition-category',
  flagCategory: 'http://terminology.hl7.org/CodeSystem/flag-category',
  listEmptyReason: 'http://terminology.hl7.org/CodeSystem/list-empty-reason',
  dataAbsentReason: 'http://terminology.hl7.org/CodeSystem/data-absent-reason',
  confidentiality: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
} as const;

export const DATA_ABSENT_REASON_EXT = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';

/** FHIR JSON's `_element` companion of a primitive, which @medplum/fhirtypes does not model. */
export type PrimitiveExtensions<K extends string> = { [P in K]?: { extension: Extension[] } };

/** `_fieldDateTime` content for a required date the source does not know. */
export const unknownDate = (): { extension: Extension[] } => ({
  extension: [{ url: DATA_ABSENT_REASON_EXT, valueCode: 'unknown' }],
});

export const problemListCategory = (): CodeableConcept => ({
  coding: [{ system: TERMINOLOGY.conditionCategory, code: 'problem-list-item', display: 'Problem List Item' }],
});

/**
 * Helsebro's extension for a diagnosis aggregated from registry episodes: first seen, last seen,
 * number of episodes and the registries they came from. Defined in
 * profiles/helsebro/StructureDefinition-registry-episode-summary.json.
 */
export const EPISODE_SUMMARY_EXT = `${HELSEBRO_NS}/StructureDefinition/registry-episode-summary`;

/** The Kjernejournal critical-information type of a mapped resource, carried as a category coding. */
export const KJ_TYPE_SYSTEM = `${HELSEBRO_NS}/CodeSystem/kj-critical-info-type`;
