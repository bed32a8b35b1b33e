// The vocabulary the section renderings read, from the tables the sources use: code displays in both
// languages, Kjernejournal's critical-information types, code-system names and the national sources'
// names. The FHIR narrative, the clinician view, the CDA and the PDF all name every code and source alike.
import type { Vocabulary } from '../sections/vocabulary.ts';
import { codeDisplay, SYSTEM_NAME } from '../sources/code-displays.ts';
import { KJ_TYPE_SYSTEM } from '../sources/ips.ts';
import { KJ_TYPE_LABEL, type KjType } from '../sources/kjernejournal/mapper.ts';
import { SOURCE_LABEL, SOURCE_NAMES, SOURCE_SHORT, type SourceName } from '../sources/source.ts';

const isSource = (code: string): code is SourceName => (SOURCE_NAMES as readonly string[]).includes(code);

export const summaryVocabulary: Vocabulary = {
  display(system, code, lang) {
    if (!system || !code) return undefined;
    if (system === KJ_TYPE_SYSTEM) return code in KJ_TYPE_LABEL ? KJ_TYPE_LABEL[code as KjType][lang] : undefined;
    return codeDisplay(system, code, lang);
  },
  systemName: (system) => (system ? SYSTEM_NAME[system] : undefined),
  source: (code, lang) => (isSource(code) ? { short: SOURCE_SHORT[code], full: SOURCE_LABEL[code][lang] } : undefined),
};
