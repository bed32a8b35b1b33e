// Bokmål and English texts for the FHIR codes a patient summary shows. The FHIR narrative (src/summary) and
// the clinician view (src/view) both read these, so a criticality or a certainty level is worded the same
// wherever the document is read.
import type { AllergyIntolerance } from '@medplum/fhirtypes';

export type DisplayLang = 'nb' | 'en';
export type DisplayTexts = Record<DisplayLang, string>;

export const CLINICAL_STATUS: Record<string, DisplayTexts> = {
  active: { nb: 'aktiv', en: 'active' },
  inactive: { nb: 'inaktiv', en: 'inactive' },
  resolved: { nb: 'over', en: 'resolved' },
  recurrence: { nb: 'tilbakevendende', en: 'recurrence' },
  relapse: { nb: 'tilbakefall', en: 'relapse' },
  remission: { nb: 'i remisjon', en: 'in remission' },
};

export const ALLERGY_TYPE: Record<string, DisplayTexts> = {
  allergy: { nb: 'Allergi', en: 'Allergy' },
  intolerance: { nb: 'Intoleranse', en: 'Intolerance' },
};

export const ALLERGY_CATEGORY: Record<string, DisplayTexts> = {
  medication: { nb: 'legemiddel', en: 'medication' },
  food: { nb: 'mat', en: 'food' },
  environment: { nb: 'miljø', en: 'environment' },
  biologic: { nb: 'biologisk', en: 'biologic' },
};

export const ALLERGY_CRITICALITY: Record<string, DisplayTexts> = {
  high: { nb: 'Høy kritikalitet', en: 'High criticality' },
  low: { nb: 'Lav kritikalitet', en: 'Low criticality' },
  'unable-to-assess': { nb: 'Kritikalitet kan ikke vurderes', en: 'Criticality unable to assess' },
};

export const REACTION_SEVERITY: Record<string, DisplayTexts> = {
  mild: { nb: 'mild reaksjon', en: 'mild reaction' },
  moderate: { nb: 'moderat reaksjon', en: 'moderate reaction' },
  severe: { nb: 'alvorlig reaksjon', en: 'severe reaction' },
};

/** Verification status, with the Kjernejournal standard's "sannsynlig" (presumed) level between the two. */
export const ALLERGY_CERTAINTY: Record<string, DisplayTexts> = {
  unconfirmed: { nb: 'mistenkt', en: 'suspected' },
  presumed: { nb: 'sannsynlig', en: 'probable' },
  confirmed: { nb: 'bekreftet', en: 'confirmed' },
  refuted: { nb: 'avkreftet', en: 'refuted' },
  'entered-in-error': { nb: 'feilregistrert', en: 'entered in error' },
};

/** Kjernejournal marks a "sannsynlig" allergy with this extension; FHIR's verification status has no such level. */
export const KJ_PRESUMED_EXT = 'http://nhn.no/kj/fhir/StructureDefinition/KjPresumed';

export function allergyCertainty(a: AllergyIntolerance): string | undefined {
  if (a.extension?.some((e) => e.url === KJ_PRESUMED_EXT && e.valueBoolean === true)) return 'presumed';
  return a.verificationStatus?.coding?.[0]?.code;
}

/** The text for a code, the code itself when the table does not know it, undefined for no code. */
export const codeText = (table: Record<string, DisplayTexts>, code: string | undefined, lang: DisplayLang): string | undefined =>
  code ? (table[code]?.[lang] ?? code) : undefined;
