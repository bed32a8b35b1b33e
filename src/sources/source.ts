// The contract every national source adapter fulfils for the patient summary. An adapter owns its
// upstream (a live HTTP client or a store query), its native record types and its mapper; the summary
// only ever sees FHIR resources, already mapped, tagged with the source they came from.
import type { Coding, Meta, Patient, Resource } from '@medplum/fhirtypes';
import { HELSEBRO_NS } from '../fhir/identifiers.ts';
import { recordId } from '../fhir/resource-id.ts';

export const SOURCE_NAMES = ['kjernejournal', 'medication-list', 'npr', 'kpr'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

export type Lang = 'nb' | 'en';

/** The patient keys a source may be asked by: Helsebro's Patient id and the national identity number. */
export interface PatientKey {
  id: string;
  /** Fødselsnummer or D-nummer. */
  fnr: string;
  /** The Patient as Helsebro knows it, for upstreams that want name and address with the identifier (SFM). */
  resource?: Patient;
}

/**
 * What a source answered. `withheld` is the source's own statement that it may not release the
 * patient's records (a Kjernejournal reservation or restriction), as opposed to a failure.
 */
export type SourceAnswer = { status: 'ok'; resources: Resource[] } | { status: 'withheld'; reason: string };

export interface SummarySource {
  readonly name: SourceName;
  /** Resolves with the mapped resources; rejects (or never settles) when the upstream fails. */
  fetch(patient: PatientKey, signal: AbortSignal): Promise<SourceAnswer>;
}

/** Thrown by adapters when the upstream answered, but not with something they can read. */
export class MalformedSourceError extends Error {
  override name = 'MalformedSourceError';
}

/** Thrown by adapters when the upstream could not be reached or answered with an error status. */
export class SourceUnavailableError extends Error {
  override name = 'SourceUnavailableError';
}

export const SOURCE_LABEL: Record<SourceName, Record<Lang, string>> = {
  kjernejournal: { nb: 'Kjernejournal (kritisk informasjon)', en: 'Kjernejournal (critical information)' },
  'medication-list': { nb: 'Pasientens legemiddelliste (PLL)', en: "Patient's medication list (PLL)" },
  npr: { nb: 'Norsk pasientregister (NPR)', en: 'Norwegian Patient Registry (NPR)' },
  kpr: {
    nb: 'Kommunalt pasient- og brukerregister (KPR)',
    en: 'Norwegian Registry for Primary Health Care (KPR)',
  },
};

/** Short names for table cells. */
export const SOURCE_SHORT: Record<SourceName, string> = {
  kjernejournal: 'Kjernejournal',
  'medication-list': 'PLL',
  npr: 'NPR',
  kpr: 'KPR',
};

/** Every mapped resource carries the source(s) it came from as a meta tag, so provenance survives merging. */
export const SOURCE_TAG_SYSTEM = `${HELSEBRO_NS}/CodeSystem/summary-source`;

export const sourceTag = (name: SourceName): Coding => ({
  system: SOURCE_TAG_SYSTEM,
  code: name,
  display: SOURCE_LABEL[name].en,
});

export function sourcesOf(resource: Resource): SourceName[] {
  const tags = resource.meta?.tag ?? [];
  return tags
    .filter((t) => t.system === SOURCE_TAG_SYSTEM && (SOURCE_NAMES as readonly string[]).includes(t.code ?? ''))
    .map((t) => t.code as SourceName);
}

export function sourceMeta(name: SourceName, profile?: string): Meta {
  return { ...(profile ? { profile: [profile] } : {}), tag: [sourceTag(name)] };
}

/**
 * The id of a resource mapped from one upstream record of this patient: unique across patients, the same
 * on every call (src/fhir/resource-id.ts). Upstream keys need not be valid FHIR ids: they are only hashed.
 */
export const localId = (patient: PatientKey, kind: string, key: string): string => recordId(patient.id, kind, key);

export const patientReference = (patient: PatientKey): { reference: string } => ({ reference: `Patient/${patient.id}` });
