// What happens to a handler's successful answer before it is sent, the same for every route: versioned
// reads (ETag, 304), _summary/_elements subsets, and the Prefer return preference on writes. Handlers
// return whole resources and stay unaware of all three.
import { isProblem, type Problem } from '../fhir/outcomes.ts';
import { CUSTOM_OPERATIONS } from './operations/index.ts';
import { applyReturnPreference, returnPreference } from './prefer.ts';
import { requestedSubset, subsetResource, subsetSearchset } from './subsetting.ts';
import { versionedRead, withVersionId } from './versioning.ts';
import type { FhirRequest, HandlerResult, RouteDef } from './types.ts';

/** Checked before the handler runs, so a bad _summary or _elements costs nothing and is a 400 naming it. */
export function representationProblem(route: RouteDef, req: FhirRequest): Problem | undefined {
  if (route.interaction !== 'read' && route.interaction !== 'search-type') return undefined;
  const subset = requestedSubset(req.query, route.interaction === 'read' ? 'read' : 'search');
  return isProblem(subset) ? subset : undefined;
}

const changesState = (route: RouteDef): boolean =>
  route.interaction === 'create' ||
  route.interaction === 'update' ||
  (route.operation !== undefined && CUSTOM_OPERATIONS.get(`${route.resourceType}-${route.operation.name}`)?.affectsState === true);

export function finishResult(route: RouteDef, req: FhirRequest, result: HandlerResult): HandlerResult {
  if (isProblem(result) || !('resource' in result) || result.status < 200 || result.status > 299) return result;
  if (route.interaction === 'read' && req.method === 'GET' && result.status === 200) {
    const subset = requestedSubset(req.query, 'read');
    const versioned = versionedRead(result, req.headers);
    if (isProblem(subset) || !subset || !('resource' in versioned)) return versioned;
    const { inFhirOrder: _built, ...rest } = versioned;
    return { ...rest, resource: subsetResource(versioned.resource, subset) };
  }
  if (route.interaction === 'search-type' && result.resource.resourceType === 'Bundle') {
    // A match carries the same versionId its read would, so a client can compare what it holds.
    const bundle = { ...result.resource, entry: result.resource.entry?.map((e) => (e.resource && e.search?.mode !== 'outcome' ? { ...e, resource: withVersionId(e.resource) } : e)) };
    const subset = requestedSubset(req.query, 'search');
    if (isProblem(subset) || !subset) return { ...result, resource: bundle };
    return { ...result, resource: subsetSearchset(bundle, subset) };
  }
  if (changesState(route)) return applyReturnPreference(result, returnPreference(req.headers));
  return result;
}
