// From source results to the set of resources a summary (or a plain search) is made of: access
// decisions applied, strings made safe for FHIR, registry diagnoses merged across NPR and KPR.
import type { Resource, ResourceType } from '@medplum/fhirtypes';
import { mergeEpisodeConditions } from '../sources/registry-episodes/aggregate.ts';
import type { SourceName } from '../sources/source.ts';
import type { SourceResult } from './fetch-all.ts';
import { SEARCHABLE_TYPES, type SectionKey } from './sections.ts';

/**
 * What the access rules (src/auth/access-rules.ts) decided for this request: sources and/or sections
 * whose content must not be shown, each with a reason code or text for the narrative.
 */
export interface WithheldDecision {
  sources?: Partial<Record<SourceName, string>>;
  /** By section key ('allergies') or by the section's LOINC code ('48765-2'). */
  sections?: Partial<Record<SectionKey | (string & {}), string>>;
}

/** A source withheld by access rules is treated exactly as if the source itself had said so. */
export function applyWithheld(results: readonly SourceResult[], withheld: WithheldDecision | undefined): SourceResult[] {
  return results.map((r) => {
    const reason = withheld?.sources?.[r.source];
    return reason === undefined ? r : { source: r.source, status: 'withheld', reason };
  });
}

export function collectResources(results: readonly SourceResult[]): Resource[] {
  const all: Resource[] = [];
  for (const r of results) if (r.status === 'ok') for (const res of r.resources) all.push(cleanStrings(res));
  return mergeEpisodeConditions(all);
}

/**
 * The mapped resources of one type, for `GET [base]/{type}?patient=` served from the same sources as the
 * summary. Local ids and `Patient/{id}` references, as a search answer has them.
 */
export function searchMapped(resourceType: ResourceType, results: readonly SourceResult[], withheld?: WithheldDecision): Resource[] {
  if (!(SEARCHABLE_TYPES as readonly string[]).includes(resourceType)) return [];
  return collectResources(applyWithheld(results, withheld)).filter((r) => r.resourceType === resourceType);
}

// FHIR strings may hold neither control characters other than tab, CR and LF, nor only whitespace.
// eslint-disable-next-line no-control-regex
const NOT_FHIR_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** A deep copy with every string made valid FHIR; strings that end up empty are dropped. */
export function cleanStrings<T>(value: T): T {
  return clean(value) as T;
}

function clean(value: unknown): unknown {
  if (typeof value === 'string') {
    const s = value.replace(NOT_FHIR_TEXT, '');
    return s.trim() ? s : undefined;
  }
  if (Array.isArray(value)) return value.map(clean).filter((v) => v !== undefined);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const c = clean(v);
      if (c === undefined) continue;
      if (Array.isArray(c) && c.length === 0) continue;
      if (typeof c === 'object' && c !== null && !Array.isArray(c) && Object.keys(c).length === 0) continue;
      // defineProperty, not assignment: an upstream key "__proto__" must stay data.
      Object.defineProperty(out, k, { value: c, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}
