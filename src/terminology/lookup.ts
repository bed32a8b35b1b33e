// Concept lookup and display text in a chosen language.
import type { CodeSystemConceptDesignation, CodeSystemConceptProperty } from '@medplum/fhirtypes';
import { canonicalSystem, findCodeSystem, findConcept, getTerminology, type Terminology } from './load.ts';

export type DisplayLanguage = 'en' | 'nb';

export interface LookupResult {
  system: string;
  code: string;
  /** The code system's own display, in the code system's language. */
  display?: string;
  /** Language of `display` (CodeSystem.language). */
  language?: string;
  /** Name of the code system (title, else name). */
  name: string;
  version?: string;
  definition?: string;
  designations: CodeSystemConceptDesignation[];
  properties: CodeSystemConceptProperty[];
  parent?: string;
  /** `fragment`: the code system here holds only part of its codes. */
  content: string;
}

/**
 * The concept (system, code), or undefined when the code system or the code is not known here. With a
 * language, `display` is the text in that language when one exists (see displayIn), else the code system's own.
 */
export function lookup(
  system: string,
  code: string,
  language?: DisplayLanguage,
  t: Terminology = getTerminology(),
): LookupResult | undefined {
  const found = lookupConcept(system, code, t);
  if (!found || language === undefined) return found;
  const text = displayIn(system, code, language, t);
  return text ? { ...found, display: text.value, language: text.language ?? language } : found;
}

function lookupConcept(system: string, code: string, t: Terminology): LookupResult | undefined {
  const cs = findCodeSystem(system, t);
  if (!cs) return undefined;
  const found = findConcept(cs, code);
  if (!found) return undefined;
  const { resource } = cs;
  const { concept } = found;
  const out: LookupResult = {
    system: resource.url ?? canonicalSystem(system, t),
    code: concept.code ?? code,
    name: resource.title ?? resource.name ?? resource.url ?? system,
    designations: concept.designation ?? [],
    properties: concept.property ?? [],
    content: resource.content ?? 'complete',
  };
  if (concept.display !== undefined) out.display = concept.display;
  if (resource.language !== undefined) out.language = resource.language;
  if (resource.version !== undefined) out.version = resource.version;
  if (concept.definition !== undefined) out.definition = concept.definition;
  if (found.parent !== undefined) out.parent = found.parent;
  return out;
}

const sameLanguage = (a: string | undefined, b: string): boolean =>
  a !== undefined && (a === b || a.startsWith(`${b}-`) || (b === 'nb' && (a === 'no' || a.startsWith('no-'))));

export interface DisplayText {
  value: string;
  language: string | undefined;
}

/**
 * Display text of a code in the wanted language: the code system's display when it is in that language,
 * else a designation in it, else (for English) the display of an equivalent EU concept from a ConceptMap.
 * Undefined when no text in that language exists; `display()` falls back to the code system's own display.
 */
export function displayIn(
  system: string,
  code: string,
  language: DisplayLanguage,
  t: Terminology = getTerminology(),
): DisplayText | undefined {
  const found = lookupConcept(system, code, t);
  if (!found) return undefined;
  if (found.display !== undefined && sameLanguage(found.language ?? 'en', language)) {
    return { value: found.display, language: found.language ?? 'en' };
  }
  const designation = found.designations.find((d) => sameLanguage(d.language, language) && d.value);
  if (designation?.value) return { value: designation.value, language: designation.language };
  if (language === 'en') return equivalentEnglish(found.system, found.code, t);
  return undefined;
}

/** Best available display: in the wanted language when possible, else the code system's own display. */
export function display(
  system: string,
  code: string,
  language: DisplayLanguage = 'en',
  t: Terminology = getTerminology(),
): string | undefined {
  return displayIn(system, code, language, t)?.value ?? lookupConcept(system, code, t)?.display;
}

// A Norwegian code whose ConceptMap target is `equivalent` (or `equal`) may borrow the English term of that
// target: the meaning is the same by the map's own claim. Wider or narrower targets are not borrowed.
function equivalentEnglish(system: string, code: string, t: Terminology): DisplayText | undefined {
  for (const map of t.conceptMaps.values()) {
    for (const group of map.group ?? []) {
      if (!group.source || canonicalSystem(group.source, t) !== system || !group.target) continue;
      const element = group.element?.find((e) => e.code === code);
      const target = element?.target?.find((tg) => tg.equivalence === 'equivalent' || tg.equivalence === 'equal');
      if (!target?.code) continue;
      const targetConcept = lookupConcept(group.target, target.code, t);
      if (targetConcept?.display && sameLanguage(targetConcept.language ?? 'en', 'en')) {
        return { value: targetConcept.display, language: 'en' };
      }
    }
  }
  return undefined;
}
