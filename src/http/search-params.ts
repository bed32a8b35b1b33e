// Common search parameter handling: only declared parameters are accepted (an unknown one is a 400,
// as Medplum's server does, rather than silently matching everything or nothing).
import { badRequest, type Problem } from '../fhir/outcomes.ts';

/** Parameters every search takes, handled by the routing layer or here. */
const COMMON = new Set(['_count', '_offset', '_summary', '_format', '_pretty']);
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
  const summary = query.get('_summary');
  if (summary !== null && summary !== 'count' && summary !== 'false') {
    return badRequest(`_summary=${summary} is not supported; use _summary=count`, { expression: ['_summary'] });
  }
  return { count, offset, summaryCount: summary === 'count' };
}
