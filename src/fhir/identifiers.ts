// Norwegian identifiers and code systems as FHIR systems (DOMAIN.md "Identifiers", "Code systems").
import type { Identifier } from '@medplum/fhirtypes';
import { badRequest, type Problem } from './outcomes.ts';

export const OID = {
  fnr: 'urn:oid:2.16.578.1.12.4.1.4.1',
  dnr: 'urn:oid:2.16.578.1.12.4.1.4.2',
  hpr: 'urn:oid:2.16.578.1.12.4.1.4.4',
  orgnr: 'urn:oid:2.16.578.1.12.4.1.4.101',
  her: 'urn:oid:2.16.578.1.12.4.1.2',
} as const;

export const HELSEBRO_NS = 'https://helsebro.no/fhir';
export const PRESCRIPTION_ID_SYSTEM = `${HELSEBRO_NS}/NamingSystem/no-prescription-id`;
/** Nordic article number (varenummer) of a Norwegian package. */
export const VARENUMMER_SYSTEM = `${HELSEBRO_NS}/NamingSystem/no-varenummer`;
/** FEST object ids (Legemiddelpakning, LegemiddelMerkevare, LegemiddelVirkestoff), as no-basis and SFM write them. */
export const FEST_ID_SYSTEM = 'http://ehelse.no/fhir/CodeSystem/FEST';
/**
 * Arcs under the operator's OID (config HELSEBRO_OID) for identifiers Helsebro writes into eHDSI CDA, where
 * an identifier or code system must be an OID.
 */
export const HELSEBRO_OID_ARC = { prescriptionId: 1, dispensation: 2, document: 3, varenummer: 4, festId: 5 } as const;

export const CODE_SYSTEM = {
  icd10: 'urn:oid:2.16.578.1.12.4.1.1.7110',
  icpc2: 'urn:oid:2.16.578.1.12.4.1.1.7170',
  nkpk: 'urn:oid:2.16.578.1.12.4.1.1.7275',
  atc: 'http://www.whocc.no/atc',
  loinc: 'http://loinc.org',
  snomed: 'http://snomed.info/sct',
  volven: (nr: number | string): string => `urn:oid:2.16.578.1.12.4.1.1.${nr}`,
} as const;

/** Alternative spellings accepted on input, normalised to the canonical system. */
const SYSTEM_ALIASES: Record<string, string> = {
  'http://hl7.org/fhir/sid/icpc-2': CODE_SYSTEM.icpc2,
  'urn:oid:2.16.578.1.12.4.1.1.7180': CODE_SYSTEM.atc,
  'http://hl7.no/fhir/NamingSystem/FNR': OID.fnr,
  'http://hl7.no/fhir/NamingSystem/DNR': OID.dnr,
  'http://hl7.no/fhir/NamingSystem/HPR': OID.hpr,
};

export const canonicalSystem = (system: string): string => SYSTEM_ALIASES[system] ?? system;

/** KITH kodeverk 8116/9051 id types inside XML -> FHIR identifier systems. */
export const KITH_ID_TYPE: Record<string, string> = {
  FNR: OID.fnr,
  DNR: OID.dnr,
  HPR: OID.hpr,
  HER: OID.her,
  ENH: OID.orgnr,
};

const W1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const W2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

function mod11(digits: number[], weights: number[]): number | undefined {
  const sum = weights.reduce((acc, w, i) => acc + w * (digits[i] ?? 0), 0);
  const r = 11 - (sum % 11);
  if (r === 11) return 0;
  if (r === 10) return undefined; // no valid check digit exists for this stem
  return r;
}

/** Check digits k1 and k2 for a 9-digit stem, or undefined when the stem cannot form a valid number. */
export function checkDigits(stem: string): string | undefined {
  if (!/^\d{9}$/.test(stem)) return undefined;
  const d = [...stem].map(Number);
  const k1 = mod11(d, W1);
  if (k1 === undefined) return undefined;
  const k2 = mod11([...d, k1], W2);
  if (k2 === undefined) return undefined;
  return `${k1}${k2}`;
}

export type PersonNumberKind = 'fnr' | 'dnr';

export interface PersonNumber {
  kind: PersonNumberKind;
  /** Synthetic numbers (test ranges: month + 40 as used by NAV, month + 80 as used by Skatteetaten's Tenor). */
  synthetic: boolean;
  birthDate: string;
}

/**
 * Validates an 11-digit fødselsnummer or D-nummer: format, check digits (mod 11) and a real date
 * after removing the D-nummer (day + 40) and synthetic (month + 40 / + 80) offsets.
 */
export function parsePersonNumber(value: string): PersonNumber | undefined {
  if (!/^\d{11}$/.test(value)) return undefined;
  if (checkDigits(value.slice(0, 9)) !== value.slice(9)) return undefined;
  let day = Number(value.slice(0, 2));
  let month = Number(value.slice(2, 4));
  const yy = Number(value.slice(4, 6));
  const individual = Number(value.slice(6, 9));
  const kind: PersonNumberKind = day > 40 ? 'dnr' : 'fnr';
  if (kind === 'dnr') day -= 40;
  let synthetic = false;
  if (month > 80) {
    month -= 80;
    synthetic = true;
  } else if (month > 40) {
    month -= 40;
    synthetic = true;
  }
  const year = centuryOf(individual, yy) + yy;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return { kind, synthetic, birthDate: date.toISOString().slice(0, 10) };
}

function centuryOf(individual: number, yy: number): number {
  if (individual <= 499) return 1900;
  if (individual <= 749 && yy >= 54) return 1800;
  if (individual >= 900 && yy >= 40) return 1900;
  return 2000;
}

export const isValidPersonNumber = (value: string): boolean => parsePersonNumber(value) !== undefined;

export interface TokenParam {
  system?: string;
  value?: string;
}

/** FHIR token search syntax: `system|value`, `|value` (no system), `system|` (any value), or `value` (any system). */
export function parseToken(raw: string, param = 'identifier'): TokenParam | Problem {
  const bar = raw.indexOf('|');
  if (bar < 0) {
    if (!raw) return badRequest(`Search parameter '${param}' is empty`, { expression: [param] });
    return { value: raw };
  }
  const system = raw.slice(0, bar);
  const value = raw.slice(bar + 1);
  if (!value && !system) return badRequest(`Search parameter '${param}' needs a system or a value around '|'`, { expression: [param] });
  return value ? { system: canonicalSystem(system), value } : { system: canonicalSystem(system) };
}

export const identifier = (system: string, value: string): Identifier => ({ system, value });

/** The fødselsnummer (or else D-nummer) of a Patient, if it has one. */
export function personNumberOf(patient: { identifier?: Identifier[] | undefined }): string | undefined {
  const ids = patient.identifier ?? [];
  return (ids.find((i) => i.system === OID.fnr) ?? ids.find((i) => i.system === OID.dnr))?.value;
}
