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
// eslint-disable-next-line no-control-regex
const HAS_NOT_FHIR_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const HAS_TEXT = /\S/;

/**
 * The value with every string made valid FHIR; strings that end up empty are dropped, and so are the
 * arrays and objects left empty (as object members). Copy on write: what needs no change is returned as it
 * is, so a summary's already clean resources are checked, not copied. The input is never changed.
 */
export function cleanStrings<T>(value: T): T {
  return clean(value) as T;
}

// Whether the array or object the last call of clean returned has no members. clean sets it as it
// returns and its caller reads it straight after: an object member left empty is dropped without a second
// walk over the member to find out.
let emptied = false;

function clean(value: unknown): unknown {
  if (typeof value === 'string') {
    emptied = false;
    if (!HAS_NOT_FHIR_TEXT.test(value)) return HAS_TEXT.test(value) ? value : undefined;
    const s = value.replace(NOT_FHIR_TEXT, '');
    return HAS_TEXT.test(s) ? s : undefined;
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    let kept = 0;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const c = clean(v);
      if (c !== undefined) kept++;
      if (out) {
        if (c !== undefined) out.push(c);
      } else if (c !== v) {
        out = value.slice(0, i);
        if (c !== undefined) out.push(c);
      }
    }
    emptied = kept === 0;
    return out ?? value;
  }
  if (value && typeof value === 'object') {
    // for-in rather than Object.entries: a summary walks every object of every resource, and the entry
    // arrays were the largest single allocation of a summary.
    const obj = value as Record<string, unknown>;
    let out: Record<string, unknown> | undefined;
    let kept = 0;
    for (const k in obj) {
      if (!Object.hasOwn(obj, k)) continue;
      const v = obj[k];
      const c = clean(v);
      const keep = c !== undefined && !emptied;
      if (keep) kept++;
      if (!out) {
        if (keep && c === v) continue;
        out = {};
        for (const j in obj) {
          if (j === k) break;
          if (Object.hasOwn(obj, j)) setOwn(out, j, obj[j]);
        }
      }
      if (keep) setOwn(out, k, c);
    }
    emptied = kept === 0;
    return out ?? value;
  }
  emptied = false;
  return value;
}

/** out[k] = v, except that an upstream key "__proto__" stays data instead of replacing the prototype. */
export function setOwn(out: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}
