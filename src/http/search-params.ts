// Common search parameter handling: only declared parameters are accepted (an unknown one is a 400,
// as Medplum's server does, rather than silently matching everything or nothing).
import { badRequest, type Problem } from '../fhir/outcomes.ts';

/** Parameters every search takes, handled by the routing layer or here. */
const COMMON = new Set(['_count', '_offset', '_summary', '_elements', '_format', '_pretty', '_cursor', '_page']);
export const MAX_COUNT = 1000;
export const DEFAULT_COUNT = 20;

export interface Paging {
  count: number;
  offset: number;
  summaryCount: boolean;
}

export function checkKnownParams(query: URLSearchParams, resourceType: string, allowed: readonly string[]): Problem | undefined {
  for (const key of new Set(query.keys())) {
    if (COMMON.has(key) || allowed.includes(key)) continue;
    return badRequest(`Unknown or unsupported search parameter '${key}' for ${resourceType}`, { expression: [key] });
  }
  for (const key of allowed) {
    if (query.getAll(key).length > 1) return badRequest(`Search parameter '${key}' may be given once`, { expression: [key] });
  }
  return undefined;
}

function intParam(query: URLSearchParams, name: string, min: number, max: number, fallback: number): number | Problem {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) return badRequest(`${name} must be a non-negative integer`, { expression: [name] });
  const n = Number(raw);
  if (n < min || n > max) return badRequest(`${name} must be between ${min} and ${max}`, { expression: [name] });
  return n;
}

export function parsePaging(query: URLSearchParams): Paging | Problem {
  const count = intParam(query, '_count', 0, MAX_COUNT, DEFAULT_COUNT);
  if (typeof count !== 'number') return count;
  const offset = intParam(query, '_offset', 0, 10_000_000, 0);
  if (typeof offset !== 'number') return offset;
  // _summary=true|text|data and _elements subset the matches (src/http/subsetting.ts, checked there).
  return { count, offset, summaryCount: query.get('_summary') === 'count' };
}

/**
 * The values of one search parameter: FHIR search reads an unescaped comma as OR and `\,` as a literal
 * comma. Empty alternatives are refused rather than read as "match anything".
 */
export function orValues(raw: string, name: string): string[] | Problem {
  const values: string[] = [];
  let current = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\' && raw[i + 1] === ',') {
      current += ',';
      i++;
    } else if (c === ',') {
      values.push(current);
      current = '';
    } else current += c;
  }
  values.push(current);
  if (values.some((v) => v === '')) return badRequest(`Search parameter '${name}' has an empty value in its comma list`, { expression: [name] });
  if (values.length > MAX_OR_VALUES) return badRequest(`Search parameter '${name}' takes at most ${MAX_OR_VALUES} values`, { expression: [name] });
  return values;
}

export const MAX_OR_VALUES = 100;

/** For parameters a search can only answer for one value: a comma list is a 400 naming it, never a silent zero. */
export function singleValue(raw: string, name: string, why: string): string | Problem {
  const values = orValues(raw, name);
  if (typeof values === 'object' && !Array.isArray(values)) return values;
  if (values.length > 1) return badRequest(`Search parameter '${name}' takes one value here (${why}); a comma list is not supported`, { expression: [name] });
  return values[0]!;
}
