// What the section modules share to write their part of the eHDSI Patient Summary CDA (wave 8): coded
// values with the eHDSI Master Value Set Catalogue concept at top level and its English display, the
// Norwegian text as originalText and the source code as translation (nullFlavor OTH when the catalogue has
// no concept for it), and the "no information" entry a section carries when it has no entries.
import type { CodeableConcept, Coding, Resource } from '@medplum/fhirtypes';
import { CODE_SYSTEM } from '../fhir/identifiers.ts';
import { getTerminology } from '../terminology/index.ts';
import { el, textEl, type Child, type XmlNode } from '../xml/write.ts';
import type { RowContext } from './types.ts';

/** Code systems by the OIDs CDA writes them with. */
export const CDA_OID = {
  loinc: '2.16.840.1.113883.6.1',
  snomed: '2.16.840.1.113883.6.96',
  /** eHDSI's ICD-10 (eHDSIIllnessandDisorder). */
  icd10: '1.3.6.1.4.1.12559.11.10.1.3.1.44.2',
  atc: '2.16.840.1.113883.6.73',
  edqm: '0.4.0.127.0.16.1.1.2.1',
  actClass: '2.16.840.1.113883.5.6',
  actCode: '2.16.840.1.113883.5.4',
  /** IPS absent and unknown data, as the wave 8 samples code "no information". */
  absentUnknown: '2.16.840.1.113883.5.1150.1',
  criticality: '2.16.840.1.113883.4.642.4.130',
  verification: '2.16.840.1.113883.4.642.4.1371',
  allergyClinical: '2.16.840.1.113883.4.642.4.1373',
} as const;

/** The eHDSI value sets the PS CDA codes with (terminology/ValueSet-ehdsi-*.json, MVC 8.1.0). */
export const EHDSI_VS = {
  illness: 'http://terminology.ehdsi.eu/ValueSet/eHDSIIllnessandDisorder',
  activeIngredient: 'http://terminology.ehdsi.eu/ValueSet/eHDSIActiveIngredient',
  adverseEventType: 'http://terminology.ehdsi.eu/ValueSet/eHDSIAdverseEventType',
  reaction: 'http://terminology.ehdsi.eu/ValueSet/eHDSIReactionAllergy',
  allergenNoDrug: 'http://terminology.ehdsi.eu/ValueSet/eHDSIAllergenNoDrug',
  criticality: 'http://terminology.ehdsi.eu/ValueSet/eHDSICriticality',
  allergyCertainty: 'http://terminology.ehdsi.eu/ValueSet/eHDSIAllergyCertainty',
  allergyStatus: 'http://terminology.ehdsi.eu/ValueSet/eHDSIAllergyStatus',
  severity: 'http://terminology.ehdsi.eu/ValueSet/eHDSISeverity',
  medicalDevice: 'http://terminology.ehdsi.eu/ValueSet/eHDSIMedicalDevice',
  procedure: 'http://terminology.ehdsi.eu/ValueSet/eHDSIProcedure',
  doseForm: 'http://terminology.ehdsi.eu/ValueSet/eHDSIDoseForm',
} as const;

// FHIR system of a value set's concepts -> the OID a CDA writes.
const VS_SYSTEM_OID: Record<string, string> = {
  'http://hl7.org/fhir/sid/icd-10': CDA_OID.icd10,
  'http://www.whocc.no/atc': CDA_OID.atc,
  'http://snomed.info/sct': CDA_OID.snomed,
  'http://standardterms.edqm.eu': CDA_OID.edqm,
  'http://hl7.org/fhir/allergy-intolerance-criticality': CDA_OID.criticality,
  'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification': CDA_OID.verification,
  'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical': CDA_OID.allergyClinical,
};

// Norway's spelling of a system whose codes are the catalogue's own (ICD-10 and ATC are the WHO lists).
const SAME_CODES_AS: Record<string, string> = {
  [CODE_SYSTEM.icd10]: 'http://hl7.org/fhir/sid/icd-10',
  'urn:oid:2.16.578.1.12.4.1.1.7180': 'http://www.whocc.no/atc',
};

/** OIDs of the source code systems kept as translations. */
const SOURCE_OID: Record<string, string> = {
  [CODE_SYSTEM.icd10]: '2.16.578.1.12.4.1.1.7110',
  [CODE_SYSTEM.icpc2]: '2.16.578.1.12.4.1.1.7170',
  [CODE_SYSTEM.nkpk]: '2.16.578.1.12.4.1.1.7275',
  [CODE_SYSTEM.atc]: CDA_OID.atc,
  'urn:oid:2.16.578.1.12.4.1.1.7180': CDA_OID.atc,
  [CODE_SYSTEM.snomed]: CDA_OID.snomed,
  'urn:oid:2.16.578.1.12.4.1.1.7448': '2.16.578.1.12.4.1.1.7448',
};

const indexes = new Map<string, Map<string, string>>();

/** The English display of a concept in an eHDSI value set, or undefined when the set does not hold it. */
export function mvcDisplay(valueSet: string, system: string, code: string): string | undefined {
  let index = indexes.get(valueSet);
  if (!index) {
    index = new Map();
    for (const inc of getTerminology().valueSets.get(valueSet)?.compose?.include ?? []) {
      for (const c of inc.concept ?? []) index.set(`${inc.system}|${c.code}`, c.display ?? c.code);
    }
    indexes.set(valueSet, index);
  }
  return index.get(`${SAME_CODES_AS[system] ?? system}|${code}`);
}

export interface CdaCoding {
  code: string;
  codeSystem: string;
  displayName?: string | undefined;
}

/** The first coding of a concept that one of the value sets holds, as CDA writes it. */
export function ehdsiCoding(codings: readonly Coding[], valueSets: readonly string[]): CdaCoding | undefined {
  for (const c of codings) {
    if (!c.system || !c.code) continue;
    for (const vs of valueSets) {
      const display = mvcDisplay(vs, c.system, c.code);
      const oid = VS_SYSTEM_OID[SAME_CODES_AS[c.system] ?? c.system];
      if (display !== undefined && oid) return { code: c.code, codeSystem: oid, displayName: display };
    }
  }
  return undefined;
}

const translationOf = (c: Coding): XmlNode | undefined => {
  const oid = c.system ? SOURCE_OID[c.system] : undefined;
  return c.code && oid ? el('translation', { code: c.code, codeSystem: oid, displayName: c.display }) : undefined;
};

/**
 * A coded element for a FHIR concept: the eHDSI concept when the catalogue has one (else nullFlavor OTH),
 * the source's own text as originalText, and each source coding in a known system as translation.
 */
export function codedElement(
  name: string,
  cc: CodeableConcept | undefined,
  valueSets: readonly string[],
  opts: { attrs?: Record<string, string>; originalText?: string | undefined } = {},
): XmlNode {
  const codings = cc?.coding ?? [];
  const top = ehdsiCoding(codings, valueSets);
  const text = opts.originalText ?? cc?.text ?? codings.find((c) => c.display)?.display;
  const translations = codings.map(translationOf);
  if (!top && !text && !translations.some(Boolean)) return el(name, { ...opts.attrs, nullFlavor: 'UNK' });
  return el(
    name,
    { ...opts.attrs, ...(top ? { code: top.code, codeSystem: top.codeSystem, displayName: top.displayName } : { nullFlavor: 'OTH' }) },
    textEl('originalText', text),
    translations,
  );
}

/** A fixed code. */
export const code = (name: string, c: CdaCoding, attrs: Record<string, string> = {}): XmlNode =>
  el(name, { ...attrs, code: c.code, codeSystem: c.codeSystem, displayName: c.displayName });

export const templateIds = (...roots: string[]): XmlNode[] => roots.map((root) => el('templateId', { root }));

/** `<text><reference value="#id"/></text>`: an entry's text is its row of the section narrative. */
export const textRef = (id: string): XmlNode => el('text', {}, el('reference', { value: `#${id}` }));

/** A FHIR date or dateTime as a CDA TS value (yyyymmdd[hhmmss]). */
export function cdaTs(value: string | undefined): string | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(value ?? '');
  return m ? `${m[1]}${m[2] ?? ''}${m[3] ?? ''}` : undefined;
}

/** An IVL_TS effectiveTime (low and high), UNK where the start is not known. */
export function interval(name: string, low: string | undefined, high?: string | undefined, attrs: Record<string, string> = {}): XmlNode {
  const lo = cdaTs(low);
  const hi = cdaTs(high);
  return el(name, attrs, lo ? el('low', { value: lo }) : el('low', { nullFlavor: 'UNK' }), hi ? el('high', { value: hi }) : undefined);
}

/** Where an entry stands in the document: its id and the ID of its row in the section narrative. */
export interface CdaEntryContext extends RowContext {
  id: { root: string; extension: string };
  textId: string;
}

/** Why a present section has no entries. */
export type NoInfoKind = 'withheld' | 'unavailable';

/** The coded "no information" value of a section: masked when withheld, IPS absent/unknown otherwise. */
export function noInfoValue(name: string, kind: NoInfoKind, unknown: CdaCoding, attrs: Record<string, string> = {}): XmlNode {
  return kind === 'withheld' ? el(name, { ...attrs, nullFlavor: 'MSK' }) : code(name, unknown, attrs);
}

export interface SectionCda {
  /** templateIds of the CDA section. */
  templateIds: readonly string[];
  /** The CDA entry of one FHIR entry. */
  entry(resource: Resource, ctx: CdaEntryContext): Child;
  /** The entry a section without entries carries, saying why. */
  noInfo(kind: NoInfoKind, ctx: { id: { root: string; extension: string }; textId: string }): Child;
}

export const XSI_CD = { 'xsi:type': 'CD' } as const;
