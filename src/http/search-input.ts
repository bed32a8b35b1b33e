// Where a search's parameters come from and what its paging links repeat. A GET search's links repeat its
// query. A POSTed search (POST {type}/_search, parameters in a form body so a fødselsnummer stays out of
// URLs) gets links with only an opaque `_cursor`: the parameters stay server-side (search_cursor), bound
// to the caller, for CURSOR_TTL_SECONDS.
import { createHash } from 'node:crypto';
import type { Principal } from '../auth/principal.ts';
import { badRequest, problem, type Problem } from '../fhir/outcomes.ts';
import { loadSearchCursor, saveSearchCursor, type SearchParamList } from '../store/search-cursors.ts';
import type { FhirRequest, RouteContext } from './types.ts';

export const CURSOR_PARAM = '_cursor';
export const CURSOR_TTL_SECONDS = 15 * 60;
/** Parameters that page, format or point at a cursor: never part of what a cursor stores. */
const NOT_FILTER = new Set(['_count', '_offset', '_page', '_format', '_pretty', CURSOR_PARAM, '_summary']);
const CURSOR_ID = /^[A-Za-z0-9_-]{16,64}$/;

export interface SearchInput {
  /** Every parameter of the search: the query, a POSTed form, or what the cursor stands for, with paging. */
  query: URLSearchParams;
  /** The parameters its links carry besides paging: the filter for a GET, only `_cursor` otherwise. */
  linkParams(): Promise<URLSearchParams>;
}

const isFilter = ([k]: [string, string]): boolean => !NOT_FILTER.has(k);

/** A key for the caller that does not repeat their identity in the table. */
function ownerKey(principal: Principal | undefined): string {
  const who = principal ? `${principal.issuer}\u0000${principal.clientId}\u0000${principal.subject}` : 'public';
  return createHash('sha256').update(who).digest('base64url');
}

/**
 * The parameters of a search request, read once per request: the router's patient locator (locate.ts) and
 * the handler both see the same parameters, a cursor's included.
 */
export function searchInput(req: FhirRequest, ctx: Pick<RouteContext, 'db' | 'principal'>): Promise<SearchInput | Problem> {
  let input = inputs.get(req);
  if (!input) inputs.set(req, (input = readSearchInput(req, ctx)));
  return input;
}

const inputs = new WeakMap<FhirRequest, Promise<SearchInput | Problem>>();

async function readSearchInput(req: FhirRequest, ctx: Pick<RouteContext, 'db' | 'principal'>): Promise<SearchInput | Problem> {
  const query = new URLSearchParams(req.query);
  if (req.body instanceof URLSearchParams) for (const [k, v] of req.body) query.append(k, v);
  const owner = ownerKey(ctx.principal);
  const cursorIds = query.getAll(CURSOR_PARAM);
  if (cursorIds.length > 0) {
    const id = cursorIds[0]!;
    if (cursorIds.length > 1 || !CURSOR_ID.test(id)) return badRequest('_cursor must be one cursor id from a paging link', { expression: [CURSOR_PARAM] });
    const extra = [...query].find(isFilter);
    if (extra) return badRequest(`A search by _cursor takes no other search parameters (got '${extra[0]}')`, { expression: [extra[0]] });
    const stored = await loadSearchCursor(ctx.db, owner, id);
    if (!stored) return problem(410, 'not-found', 'The search cursor is unknown or has expired; run the search again', { expression: [CURSOR_PARAM] });
    for (const [k, v] of stored) query.append(k, v);
    return { query, linkParams: async () => new URLSearchParams([[CURSOR_PARAM, id]]) };
  }
  const filter: SearchParamList = [...query].filter(isFilter);
  if (req.method !== 'POST') return { query, linkParams: async () => new URLSearchParams(filter) };
  let saved: string | undefined;
  return {
    query,
    linkParams: async () => {
      saved ??= await saveSearchCursor(ctx.db, owner, filter, CURSOR_TTL_SECONDS);
      return new URLSearchParams([[CURSOR_PARAM, saved]]);
    },
  };
}

/** The absolute search URL its links start from: `{base}/{type}?{linkParams}`. */
export async function searchSelfUrl(req: FhirRequest, type: string, input: SearchInput): Promise<URL> {
  const url = new URL(`${req.baseUrl}/${type}`);
  for (const [k, v] of await input.linkParams()) url.searchParams.append(k, v);
  return url;
}
