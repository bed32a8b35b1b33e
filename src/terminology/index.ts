// Public surface of the terminology module: load once, then look up, validate and translate.
export {
  TERMINOLOGY_DIR,
  TerminologyLoadError,
  canonicalSystem,
  getTerminology,
  listTerminologyResources,
  loadTerminology,
  setTerminology,
  systemOid,
  terminologyResource,
  type Terminology,
  type TerminologyResource,
} from './load.ts';
export { display, displayIn, lookup, type DisplayLanguage, type DisplayText, type LookupResult } from './lookup.ts';
export { hasValueSet, validateCode, type ValidateCodeReason, type ValidateCodeResult } from './valueset.ts';
export {
  REVIEW_STATUS_EXTENSION,
  TERMINOLOGY_ISSUE_SYSTEM,
  reviewStatus,
  selectConceptMaps,
  toEuConcept,
  translate,
  type EuConcept,
  type MapSelector,
  type ReviewStatus,
  type TranslateMatch,
  type TranslateResult,
} from './translate.ts';
export {
  lookupOperation,
  translateOperation,
  validateCodeOperation,
  type OperationInput,
  type OperationResult,
} from './operations.ts';

/** Canonical urls of Helsebro's ConceptMaps, for emitters and the mapping tables. */
export const CONCEPT_MAP = {
  doseForm: 'https://helsebro.no/fhir/ConceptMap/volven-7448-to-edqm-dose-form',
  unitOfPresentation: 'https://helsebro.no/fhir/ConceptMap/volven-7448-to-edqm-unit-of-presentation',
  route: 'https://helsebro.no/fhir/ConceptMap/volven-7477-to-edqm-route',
  packageUnit: 'https://helsebro.no/fhir/ConceptMap/volven-7452-to-eu-unit',
  doseUnit: 'https://helsebro.no/fhir/ConceptMap/volven-7480-to-eu-unit',
  pharmacyUnit: 'https://helsebro.no/fhir/ConceptMap/volven-7484-to-eu-unit',
  strengthUnit: 'https://helsebro.no/fhir/ConceptMap/volven-9090-to-ucum',
  packageType: 'https://helsebro.no/fhir/ConceptMap/volven-7449-to-edqm-package',
  containerUnitOfPresentation: 'https://helsebro.no/fhir/ConceptMap/volven-7449-to-edqm-unit-of-presentation',
  professionalRole: 'https://helsebro.no/fhir/ConceptMap/volven-9060-to-isco-08',
} as const;

/** EU code system urls. */
export const EU_SYSTEM = {
  edqm: 'http://standardterms.edqm.eu',
  ucum: 'http://unitsofmeasure.org',
  atc: 'http://www.whocc.no/atc',
  substitution: 'http://terminology.hl7.org/CodeSystem/v3-substanceAdminSubstitution',
  isco08: 'urn:oid:2.16.840.1.113883.2.9.6.2.7',
  administrativeGender: 'http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender',
} as const;

/** eHDSI value sets (MVC canonical urls). */
export const EHDSI_VALUE_SET = {
  doseForm: 'http://terminology.ehdsi.eu/ValueSet/eHDSIDoseForm',
  route: 'http://terminology.ehdsi.eu/ValueSet/eHDSIRouteofAdministration',
  package: 'http://terminology.ehdsi.eu/ValueSet/eHDSIPackage',
  quantityUnit: 'http://terminology.ehdsi.eu/ValueSet/eHDSIQuantityUnit',
  unit: 'http://terminology.ehdsi.eu/ValueSet/eHDSIUnit',
  substitution: 'http://terminology.ehdsi.eu/ValueSet/eHDSISubstitutionCode',
  professionalRole: 'http://terminology.ehdsi.eu/ValueSet/eHDSIHealthcareProfessionalRole',
  administrativeGender: 'http://terminology.ehdsi.eu/ValueSet/eHDSIAdministrativeGender',
} as const;
