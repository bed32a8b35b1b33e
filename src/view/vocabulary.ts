// What the view needs to know about codes beyond what the document carries: English displays for codes
// the sources describe in Norwegian only, the short names of code systems, and the names of the national
// sources. The http layer supplies it from the same tables the summary narrative uses (src/sources/), so
// the view and the FHIR narrative name things alike; the view itself imports only src/fhir/.
import type { Lang } from './text.ts';

export interface ViewVocabulary {
  /** The display of a code in the reader's language, when known. */
  display(system: string | undefined, code: string | undefined, lang: Lang): string | undefined;
  /** The name a clinician knows a code system by ("ICD-10"), when it is one worth showing. */
  systemName(system: string | undefined): string | undefined;
  /** A summary source by its tag code ("npr"): a short name for table cells and the full name. */
  source(code: string, lang: Lang): { short: string; full: string } | undefined;
}

/** Knows nothing: the view then shows what the document itself says (texts, displays, codes). */
export const documentOnlyVocabulary: ViewVocabulary = {
  display: () => undefined,
  systemName: () => undefined,
  source: () => undefined,
};
