// What the section renderings need to know about codes beyond what the document carries: English
// displays for codes the sources describe in Norwegian only, the short names of code systems, and the
// names of the national sources. The summary and the http layer supply it from src/sources/ tables;
// without it a rendering shows what the document itself says.
import type { Lang } from './types.ts';

export interface Vocabulary {
  /** The display of a code in the reader's language, when known. */
  display(system: string | undefined, code: string | undefined, lang: Lang): string | undefined;
  /** The name a clinician knows a code system by ("ICD-10"), when it is one worth showing. */
  systemName(system: string | undefined): string | undefined;
  /** A summary source by its tag code ("npr"): a short name for table cells and the full name. */
  source(code: string, lang: Lang): { short: string; full: string } | undefined;
}

/** Knows nothing: renderings then show what the document itself says (texts, displays, codes). */
export const documentOnlyVocabulary: Vocabulary = {
  display: () => undefined,
  systemName: () => undefined,
  source: () => undefined,
};
