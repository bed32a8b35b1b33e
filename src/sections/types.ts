// What every IPS section module owns: its place in the document (LOINC code, titles, which resources are
// its entries and which sources feed it, in what order), and one set of named fields per entry that every
// rendering reads (the FHIR narrative, the clinician view, the CDA narrative and the PDF). A field has one
// label, so two renderings can order or omit columns but never call the same thing by different names.
import type { Resource, ResourceType } from '@medplum/fhirtypes';
import type { SourceName } from '../sources/source.ts';
import type { Vocabulary } from './vocabulary.ts';

export const SECTION_KEYS = ['problems', 'allergies', 'medications', 'procedures', 'devices', 'alerts'] as const;
export type SectionKey = (typeof SECTION_KEYS)[number];

export type Lang = 'nb' | 'en';
export type Texts = Record<Lang, string>;

export interface RowContext {
  lang: Lang;
  vocabulary: Vocabulary;
  /** A resource of the document by reference (Medication, Device). */
  resolve(reference: string | undefined): Resource | undefined;
}

/** One entry as plain text per field (renderings escape it); undefined means "not stated". */
export interface FieldRow<F extends string> {
  values: Partial<Record<F, string>>;
  /** Marked for the eye: a high-criticality allergy, an active alert. */
  critical?: boolean;
  /** For sorting by when last seen (yyyy-mm-dd...). */
  lastDate?: string | undefined;
}

export interface SectionModule<F extends string = string> {
  key: SectionKey;
  /** The slice name in Composition-uv-ips. */
  slice: string;
  loinc: string;
  loincDisplay: string;
  title: Texts;
  required: boolean;
  /** Resource types that are this section's entries. */
  entryTypes: readonly ResourceType[];
  sources: readonly SourceName[];
  /** Entries in the order a clinician in a hurry needs them. */
  sort(entries: readonly Resource[]): Resource[];
  fields: Record<F, Texts>;
  row(entry: Resource, ctx: RowContext): FieldRow<F>;
  /** Columns of the document narrative (FHIR, CDA, PDF). */
  narrative: readonly F[];
  /** Columns of the clinician view; the row-header column names the row. */
  view: readonly F[];
  viewRowHeader: F;
}

/** A module with its field type erased, for registries. */
export type AnySectionModule = SectionModule<string>;

/** The cells of a row in the order of `columns`. */
export const cellsOf = <F extends string>(row: FieldRow<F>, columns: readonly F[]): (string | undefined)[] => columns.map((c) => row.values[c]);
